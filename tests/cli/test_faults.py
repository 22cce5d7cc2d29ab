"""Faults in steps, through `depctl environment deploy`: each must end with a clear status,
exit code and log, without a hang, a leaked process or a leaked descriptor.

What is checked against what (never against depctl's own word where /proc can tell):
- processes: every step gets FAULT_MARKER=<unique> through --env; afterwards no process
  carrying it in /proc/<pid>/environ may be left, except the setsid'd daemons that the
  documented decision leaves alone (docs/reliability.md, docs/decisions.md);
- descriptors: a step lists its own /proc/self/fd (only 0, 1, 2 may be open), and
  depctl's descriptor count, read through /proc/$PPID/fd by a step that repeats faults,
  must not grow from one repetition to the next;
- memory: depctl's peak RSS is read from /proc/<pid>/status (VmHWM) while it runs."""
import os
import signal
import subprocess
import threading
import time
import unittest
import uuid

from depctl_test import DEPCTL, DepctlTestCase

MB = 1000 * 1000


def environ_has(pid, marker):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return marker.encode() in f.read()
    except OSError:
        return False


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def processes_with(marker):
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and alive(int(p)) and environ_has(p, marker)]


def wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


class Run:
    """One depctl run: exit code, output, wall time and peak RSS (KiB) read from /proc."""

    def __init__(self, returncode, stdout, stderr, seconds, maxrss_kib):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.seconds, self.maxrss_kib = seconds, maxrss_kib


class StepFaults(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("dev")
        self.marker = f"depctl-fault-{uuid.uuid4().hex}"
        self.addCleanup(self.kill_leftovers)

    def kill_leftovers(self):
        for pid in processes_with(self.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def service(self, name, *args):
        self.ok("service", "create", name, "--type", "application", "--env", f"FAULT_MARKER={self.marker}", *args)

    def start(self, *extra, version="v1"):
        return subprocess.Popen([DEPCTL, "environment", "deploy", "--version", version, *extra], cwd=self.project,
                                env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def finish(self, proc, started, timeout=120):
        """Collects output and depctl's peak RSS while waiting for it."""
        out, err = [], []
        readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read())) for s, b in
                   ((proc.stdout, out), (proc.stderr, err))]
        for r in readers:
            r.start()
        deadline = time.monotonic() + timeout
        peak_kib = 0
        while True:
            # VmHWM is the peak RSS of depctl's own image (it starts again at exec, so the
            # forked copy of this Python process does not count); it only grows, so the
            # last value read before the exit is the peak up to then.
            peak_kib = max(peak_kib, vm_hwm_kib(proc.pid))
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                self.fail(f"depctl hung for {timeout}s")
            time.sleep(0.005)
        proc.returncode = os.waitstatus_to_exitcode(status)
        for r in readers:
            r.join(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
        return Run(proc.returncode, "".join(out), "".join(err), time.monotonic() - started, peak_kib)

    def deploy(self, *extra, version="v1", timeout=120):
        started = time.monotonic()
        return self.finish(self.start(*extra, version=version), started, timeout)

    def record(self):
        return self.last_record()

    def log_of(self, record, service, step):
        with open(self.step(record, service, step)["log"], "rb") as f:
            return f.read()

    def assert_no_step_process_left(self, allowed=()):
        # depctl has exited and killed what it kills before that; a second covers a SIGKILLed
        # process still on its way out on a loaded machine, and no leak lives that short.
        wait_for(lambda: set(processes_with(self.marker)) <= set(allowed), timeout=1)

    # --- a daemon that leaves the step's process group with setsid ---------------------------
    def test_setsid_daemon_is_left_running_after_a_successful_step(self):
        pidfile = os.path.join(self.dir, "daemon.pid")
        # The daemon keeps the step's stdout (depctl's pipe) open on purpose: depctl must
        # still finish the step when the step's own process exits.
        self.service("Daemon", "--deploy",
                     f"setsid sh -c 'echo $$ > {pidfile}; exec sleep 300' & echo started")
        run = self.deploy()
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertLess(run.seconds, 30)
        record = self.record()
        self.assertEqual(record["status"], "DEPLOYED")
        self.assertEqual(self.log_of(record, "Daemon", "deploy"), b"started\n")
        wait_for(lambda: os.path.exists(pidfile) and os.path.getsize(pidfile) > 0)
        with open(pidfile) as f:
            daemon = int(f.read())
        # Decision: a step's daemons are the deployed service; depctl leaves them running.
        self.assertTrue(alive(daemon), "the setsid'd daemon of a successful step was killed")
        self.assertEqual(os.getsid(daemon), daemon, "the daemon did not get a session of its own")
        self.assert_no_step_process_left(allowed=[daemon])

    def chatty_daemon(self, ignore_sigpipe):
        """A setsid'd daemon that keeps the step's stdout and writes to it once the test says
        so (after depctl has finished). Returns (pid, files) once it runs."""
        files = {k: os.path.join(self.dir, k) for k in ("pid", "go", "wrote", "epipe")}
        trap = 'trap "" PIPE; ' if ignore_sigpipe else ""  # inside the single quotes below
        self.service("Chatty", "--deploy",
                     f"setsid sh -c '{trap}echo $$ > {files['pid']}; "
                     f"while [ ! -e {files['go']} ]; do sleep 0.05; done; "
                     f"echo late || touch {files['epipe']}; touch {files['wrote']}; sleep 300' & echo started")
        run = self.deploy()
        self.assertEqual(run.returncode, 0, run.stderr)
        wait_for(lambda: os.path.exists(files["pid"]) and os.path.getsize(files["pid"]) > 0)
        with open(files["pid"]) as f:
            daemon = int(f.read())
        self.assertTrue(alive(daemon), "depctl killed the daemon of a successful step")
        open(files["go"], "w").close()
        return daemon, files

    def test_a_daemon_still_writing_to_the_step_output_dies_of_sigpipe(self):
        """Documented consequence: depctl stops reading a step's output once the step's
        own process has exited (plus a 100 ms drain), so a daemon that kept the step's
        stdout and writes to it later gets SIGPIPE. Daemons must redirect their output."""
        daemon, files = self.chatty_daemon(ignore_sigpipe=False)
        wait_for(lambda: not alive(daemon), timeout=10)
        self.assertFalse(os.path.exists(files["wrote"]), "the daemon outlived its write to the closed pipe")
        self.assertFalse(os.path.exists(files["epipe"]))
        self.assertEqual(self.log_of(self.record(), "Chatty", "deploy"), b"started\n")

    def test_a_daemon_that_ignores_sigpipe_gets_epipe(self):
        daemon, files = self.chatty_daemon(ignore_sigpipe=True)
        wait_for(lambda: os.path.exists(files["wrote"]), timeout=10)
        self.assertTrue(os.path.exists(files["epipe"]), "the daemon's write to the closed pipe succeeded")
        self.assertTrue(alive(daemon))
        self.assertEqual(self.log_of(self.record(), "Chatty", "deploy"), b"started\n")

    def test_setsid_daemon_survives_a_timed_out_step_whose_group_is_killed(self):
        pidfile = os.path.join(self.dir, "daemon.pid")
        grouped = os.path.join(self.dir, "grouped.pid")
        # The step waits until the daemon has left the group, so that the group kill at
        # the timeout cannot catch it before its setsid, however slow the machine.
        self.service("Stuck", "--deploy-timeout", "3", "--deploy",
                     f"setsid sh -c 'echo $$ > {pidfile}; exec sleep 300' >/dev/null 2>&1 & "
                     f"sleep 120 & echo $! > {grouped}; "
                     f"while [ ! -s {pidfile} ]; do sleep 0.05; done; wait")
        run = self.deploy("--grace", "1")
        self.assertEqual(run.returncode, 1, run.stderr)
        self.assertLess(run.seconds, 30)
        record = self.record()
        self.assertEqual(record["status"], "DEPLOYMENT_ERROR")
        self.assertEqual(self.step(record, "Stuck", "deploy")["status"], "TIMED_OUT")
        with open(grouped) as f:
            in_group = int(f.read())
        with open(pidfile) as f:
            daemon = int(f.read())
        wait_for(lambda: not alive(in_group), timeout=5)
        # Documented limit: a process that left the group with setsid is out of reach.
        self.assertTrue(alive(daemon))
        self.assert_no_step_process_left(allowed=[daemon])

    # --- a step that ignores SIGTERM ------------------------------------------------------------
    def test_step_ignoring_sigterm_is_killed_after_the_grace_on_timeout(self):
        self.service("Deaf", "--deploy-timeout", "1", "--deploy", "trap '' TERM; echo deaf; sleep 120")
        run = self.deploy("--grace", "2")
        self.assertEqual(run.returncode, 1, run.stderr)
        # SIGTERM at 1 s is ignored; SIGKILL comes at 1 + 2 s, not before.
        self.assertGreaterEqual(run.seconds, 2.9)
        self.assertLess(run.seconds, 20)
        record = self.record()
        step = self.step(record, "Deaf", "deploy")
        self.assertEqual(step["status"], "TIMED_OUT")
        self.assertEqual(step["exit_code"], 128 + signal.SIGKILL)
        self.assertEqual(self.log_of(record, "Deaf", "deploy"),
                         b"deaf\ndepctl: timed out after 1s, killed after 2s grace\n")
        self.assert_no_step_process_left()

    def test_step_ignoring_sigterm_is_killed_after_the_grace_on_cancel(self):
        ready = os.path.join(self.dir, "ready")
        self.service("Deaf", "--deploy", f"trap '' TERM; touch {ready}; sleep 120")
        started = time.monotonic()
        proc = self.start("--grace", "2")
        wait_for(lambda: os.path.exists(ready))
        canceled_at = time.monotonic()
        proc.send_signal(signal.SIGINT)
        run = self.finish(proc, started)
        waited = time.monotonic() - canceled_at
        self.assertEqual(run.returncode, 130, run.stderr)
        self.assertGreaterEqual(waited, 1.9)
        self.assertLess(waited, 20)
        record = self.record()
        self.assertEqual(record["status"], "CANCELED")
        step = self.step(record, "Deaf", "deploy")
        self.assertEqual(step["status"], "CANCELED")
        self.assertEqual(step["exit_code"], 128 + signal.SIGKILL)
        self.assertIn(b"killed after 2s grace", self.log_of(record, "Deaf", "deploy"))
        self.assert_no_step_process_left()

    # --- a step that closes stdout early --------------------------------------------------------
    def test_step_closing_stdout_early_is_waited_for_until_it_exits(self):
        done = os.path.join(self.dir, "done")
        self.service("Mute", "--deploy", f"echo before; exec >&- 2>&-; sleep 1; touch {done}; exit 3")
        run = self.deploy()
        self.assertEqual(run.returncode, 1, run.stderr)
        # depctl judged the step by its exit, not by the end of its output.
        self.assertTrue(os.path.exists(done))
        record = self.record()
        step = self.step(record, "Mute", "deploy")
        self.assertEqual((step["status"], step["exit_code"]), ("FAILED", 3))
        self.assertGreaterEqual(step["duration_ms"], 900)
        self.assertEqual(self.log_of(record, "Mute", "deploy"), b"before\n")
        self.assert_no_step_process_left()

    # --- a step that writes 100 MB --------------------------------------------------------------
    def test_100_mb_of_output_reach_the_log_with_bounded_memory(self):
        self.service("Small", "--deploy", "echo small")
        baseline = self.deploy()
        self.assertEqual(baseline.returncode, 0, baseline.stderr)
        self.ok("service", "delete", "Small")
        self.service("Chatty", "--deploy", f"head -c {100 * MB} /dev/zero | tr '\\000' x")
        run = self.deploy(version="v2")
        self.assertEqual(run.returncode, 0, run.stderr)
        record = self.record()
        path = self.step(record, "Chatty", "deploy")["log"]
        self.assertEqual(os.path.getsize(path), 100 * MB)
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                self.assertEqual(chunk.count(b"x"), len(chunk))
        grown_kib = run.maxrss_kib - baseline.maxrss_kib
        print(f"\n100 MB step: depctl peak RSS {run.maxrss_kib} KiB, {baseline.maxrss_kib} KiB for a one-line "
              f"step (+{grown_kib} KiB)")
        self.assertLess(grown_kib, 32 * 1024, "depctl's memory grew with the step's output")
        self.assert_no_step_process_left()

    # --- a step that cannot start ---------------------------------------------------------------
    def test_missing_workdir_fails_the_step_with_127_and_says_why(self):
        self.service("Lost", "--workdir", "does/not/exist", "--deploy", "echo never")
        run = self.deploy()
        self.assertEqual(run.returncode, 1, run.stderr)
        record = self.record()
        self.assertEqual(record["status"], "DEPLOYMENT_ERROR")
        step = self.step(record, "Lost", "deploy")
        self.assertEqual((step["status"], step["exit_code"]), ("FAILED", 127))
        missing = os.path.join(self.project, "does/not/exist")
        self.assertEqual(self.log_of(record, "Lost", "deploy"),
                         f"depctl: workdir {missing} does not exist\n".encode())
        self.assertFalse(os.path.exists(missing), "depctl created the missing workdir")
        self.assert_no_step_process_left()

    def test_command_not_found_fails_the_step_with_127(self):
        self.service("Typo", "--deploy", "no-such-command-depctl-test --now")
        run = self.deploy()
        self.assertEqual(run.returncode, 1, run.stderr)
        record = self.record()
        step = self.step(record, "Typo", "deploy")
        self.assertEqual((step["status"], step["exit_code"]), ("FAILED", 127))
        self.assertIn(b"no-such-command-depctl-test: not found", self.log_of(record, "Typo", "deploy"))
        self.assert_no_step_process_left()

    # --- descriptors ------------------------------------------------------------------------------
    def test_a_step_inherits_only_stdin_stdout_and_stderr(self):
        # A leaked descriptor would let a step's daemon hold depctl's locks or its log open.
        self.service("Fds", "--deploy", "ls /proc/self/fd")
        run = self.deploy()
        self.assertEqual(run.returncode, 0, run.stderr)
        fds = self.log_of(self.record(), "Fds", "deploy").decode().split()
        # ls itself holds one more: the directory it is reading.
        self.assertEqual(len(fds), 4, fds)
        self.assertEqual(fds[:3], ["0", "1", "2"])

    def test_descriptor_count_of_depctl_does_not_grow_over_repeated_faults(self):
        """Twelve health attempts, each a different fault (not found, closed stdout, ignored
        SIGTERM until the timeout, a setsid'd daemon), each first writing how many
        descriptors depctl holds at that moment: the number must stay the same."""
        counts = os.path.join(self.dir, "counts")
        attempt = os.path.join(self.dir, "attempt")
        health = (f"n=$(cat {attempt} 2>/dev/null || echo 0); echo $((n + 1)) > {attempt}; "
                  f"ls /proc/$PPID/fd | wc -l >> {counts}; "
                  "case $((n % 4)) in "
                  "0) no-such-command-depctl-test ;; "
                  "1) exec >&- 2>&-; exit 1 ;; "
                  "2) trap '' TERM; sleep 30 ;; "
                  "3) setsid sleep 0.5 & exit 1 ;; "
                  "esac")
        # 2 s per attempt: the counting before the fault must finish inside it on a loaded
        # machine; the three attempts that ignore SIGTERM take all of it (plus the grace).
        self.service("Flaky", "--health-cmd", health, "--health-attempts", "12", "--health-interval", "0.05",
                     "--health-timeout", "2")
        run = self.deploy("--grace", "0.2")
        self.assertEqual(run.returncode, 1, run.stderr)
        self.assertEqual(self.step(self.record(), "Flaky", "health")["status"], "FAILED")
        with open(counts) as f:
            seen = [int(line) for line in f]
        self.assertGreaterEqual(len(seen), 12)  # probes start fast: more probes than attempts
        self.assertEqual(len(set(seen)), 1, f"depctl's descriptor count changed across attempts: {seen}")
        wait_for(lambda: not processes_with(self.marker), timeout=5)


if __name__ == "__main__":
    unittest.main()
