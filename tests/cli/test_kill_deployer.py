"""No step of a SIGKILLed deployer runs beside the next deployment (DESIGN §9 "Honest
status"): the step guard ends the steps, the next deployer waits for them, and records the
dead deployment INTERRUPTED. Checked from stamps the steps write and from /proc, never from
what depctl says about itself."""
import os
import random
import signal
import subprocess
import sys
import threading
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase

GRACE = 0.5
ROUNDS = 30
SERVICES = ("db", "api", "web")


def marked_processes(mark):
    """{pid: DEPCTL_VERSION} of live (not zombie) processes whose environment holds `mark`."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
        except (OSError, IndexError):
            continue
        if env.get(b"DEPCTL_TEST_MARK") == mark.encode():
            found[int(entry)] = env.get(b"DEPCTL_VERSION", b"").decode()
    return found


def read_timeline(path):
    """{(deployment id, version, service): {"start": t, "end": t}} from the steps' stamps."""
    spans = {}
    if not os.path.exists(path):
        return spans
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) != 5:
                raise AssertionError(f"a torn stamp in the timeline: {line!r}")
            dep, version, service, what, at = fields
            spans.setdefault((dep, version, service), {})[what] = float(at)
    return spans


class KillDeployer(DepctlTestCase):
    def write_step(self, timeline):
        # Each step stamps its start and its end, also when it is terminated. The stamp forks
        # nothing (bash's $EPOCHREALTIME, builtins only): a `$(date)` subshell could be ended
        # by the SIGTERM sent to the whole group before it ran, leaving a stamp without a
        # time (CI saw it once). No output: once depctl is dead, a write to the log pipe is a
        # SIGPIPE.
        script = os.path.join(self.dir, "step.sh")
        with open(script, "w") as f:
            f.write(f"""exec >/dev/null 2>&1
stamp() {{ printf '%s %s %s %s %s\\n' "$DEPCTL_DEPLOYMENT_ID" "$DEPCTL_VERSION" "$DEPCTL_SERVICE" "$1" "$EPOCHREALTIME" >> {timeline}; }}
trap 'stamp end; exit 143' TERM
stamp start
sleep 1.2 & wait $!
stamp end
""")
        return f"bash {script}"

    def test_thirty_deploys_killed_at_random_moments(self):
        self.init_environment()
        timeline = os.path.join(self.dir, "timeline")
        mark = f"kill-{os.getpid()}-{time.monotonic_ns()}"
        self.env["DEPCTL_TEST_MARK"] = mark
        step = self.write_step(timeline)
        # Two stages: kills land in the first, between the two and in the second.
        self.ok("environment", "stage", "create", "-n", "data")
        self.ok("environment", "stage", "create", "-n", "apps")
        for name in SERVICES:
            kind, stage = ("database", "data") if name == "db" else ("application", "apps")
            self.ok("service", "create", name, "--type", kind, "--stage", stage, "--deploy", step)
        rng = random.Random(int(os.environ.get("DEPCTL_TEST_SEED", "1414")))
        killed, finished, survivors, checks = [], [], [], []

        def check(version):
            # 2 x grace after the kill: nothing of that deployment may be alive (its guard
            # included), whatever depctl's next run says.
            alive = [pid for pid, v in marked_processes(mark).items() if v == version]
            if alive:
                survivors.append((version, alive))

        for i in range(ROUNDS):
            version = f"v{i}"
            proc = subprocess.Popen([DEPCTL, "environment", "deploy", "--version", version,
                                     "--grace", str(GRACE), "--wait"], cwd=self.project,
                                    env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(0.05, 2.6))
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=30)
            if proc.returncode != -signal.SIGKILL:
                self.assertEqual(proc.returncode, 0, err)
                finished.append(version)
                continue
            killed.append(version)
            timer = threading.Timer(2 * GRACE, check, (version,))
            timer.start()
            checks.append(timer)
        for timer in checks:
            timer.join()
        self.ok("environment", "deploy", "--version", "final", "--grace", str(GRACE))

        self.assertEqual(survivors, [], "steps of a killed deployment were alive 2 x grace after the kill")
        self.assertEqual(marked_processes(mark), {}, "steps alive after the last deployment")
        spans = read_timeline(timeline)
        started = {version for (_, version, _) in spans}
        killed_while_running = [v for v in killed if v in started]
        self.assertGreaterEqual(len(killed_while_running), 10, "too few kills landed during a step")

        # No two deployments' steps overlap.
        intervals = []
        for (dep, version, service), span in spans.items():
            self.assertIn("start", span, f"{version} {service} has an end but no start")
            self.assertIn("end", span, f"{version} {service} has no end stamp: it was SIGKILLed")
            intervals.append((span["start"], span["end"], dep))
        intervals.sort()
        latest_end, latest_dep = 0.0, None
        for start, end, dep in intervals:
            if latest_dep is not None and latest_dep != dep:
                self.assertGreaterEqual(start, latest_end, f"a step of {dep} started while one of "
                                                           f"{latest_dep} still ran")
            if end > latest_end:
                latest_end, latest_dep = end, dep

        # Every killed deployment that started is in the history once, INTERRUPTED; DEPLOYED
        # only if it recorded its outcome just before the kill (then every step ended normally).
        records = self.json("deployment", "list", "--limit", "100")
        by_version = {}
        for record in records:
            by_version.setdefault(record["version"], []).append(record["status"])
        for version in finished + ["final"]:
            self.assertEqual(by_version.get(version), ["DEPLOYED"], version)
        for version in killed:
            statuses = by_version.get(version, [])
            if version in started:
                self.assertEqual(len(statuses), 1, (version, statuses))
            self.assertLessEqual(len(statuses), 1, (version, statuses))
            if statuses == ["DEPLOYED"]:
                ends = [s for (_, v, _), s in spans.items() if v == version]
                self.assertEqual(len(ends), len(SERVICES), version)
            elif statuses:
                self.assertEqual(statuses, ["INTERRUPTED"], version)
        interrupted = [v for v in killed if by_version.get(v) == ["INTERRUPTED"]]
        print(f"\n{ROUNDS} deploys: {len(killed)} killed ({len(killed_while_running)} during a "
              f"step), {len(interrupted)} recorded INTERRUPTED; 0 survivors, 0 overlaps",
              file=sys.stderr)
        self.assertGreaterEqual(len(interrupted), 10, by_version)


# The steps' guard's protocol (src/util/step_guard_protocol.hpp), spoken by a test: a
# process that is not depctl hands it one step, then ends (or not).
GUARD_CLIENT = r"""
import os, socket, struct, subprocess, sys, time
depctl, command, grace_ms, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
stray = os.open("/dev/null", os.O_RDONLY)  # inherited by the guard, never by its steps
os.set_inheritable(stray, True)
guard = subprocess.Popen([depctl, "__step-guard", str(theirs.fileno()), "-"],
                         pass_fds=[theirs.fileno(), stray], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
theirs.close()
channel, step_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
out_r, out_w = os.pipe()
socket.send_fds(control, [b"R"], [out_w, step_end.fileno()])
os.close(out_w)
step_end.close()
env = [f"{k}={v}" for k, v in os.environ.items()]
body = b"".join(f.encode() + b"\0" for f in [grace_ms, "auto", "", command] + env)
channel.sendall(struct.pack("<I", len(body)) + body)
print(guard.pid, stray, flush=True)
if mode == "term":  # a SIGTERM for the guard alone (a pkill) must not end it before its step
    time.sleep(0.2)
    os.kill(guard.pid, 15)
if mode in ("wait", "term"):
    answer = channel.recv(6)
    status = struct.unpack("<I", answer[1:5])[0]
    print(answer[:1].decode(), status, os.read(out_r, 1000).decode().strip().replace(chr(10), " "), flush=True)
    control.send(b"Q")
    control.close()
    print("guard exit", guard.wait(timeout=30), flush=True)
else:
    time.sleep(60)
"""


class GuardWithoutDepctl(DepctlTestCase):
    """The guard serves whoever holds its control socket: a step handed to it runs, its exit
    status comes back; when that holder dies (even from a thread that already ended, which
    PR_SET_PDEATHSIG would have mistaken for a death), the step is ended."""

    def wait_for_file(self, path):
        deadline = time.monotonic() + 20
        while not os.path.exists(path) or os.path.getsize(path) == 0:
            self.assertLess(time.monotonic(), deadline, f"{path} never appeared")
            time.sleep(0.02)

    def client(self, command, mode):
        return subprocess.Popen([sys.executable, "-c", GUARD_CLIENT, DEPCTL, command, "1000", mode],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)

    def test_a_step_runs_to_its_end_and_its_status_comes_back(self):
        done = os.path.join(self.dir, "done")
        proc = self.client(f"echo out; sleep 0.5; echo finished > {done}; exit 3", "wait")
        self.addCleanup(proc.kill)
        out, _ = proc.communicate(timeout=60)
        lines = out.splitlines()
        self.assertEqual(lines[1], f"E {3 << 8} out", out)  # the wait status of `exit 3`
        self.assertEqual(lines[2], "guard exit 0", out)
        with open(done) as f:
            self.assertEqual(f.read(), "finished\n")

    def test_the_guard_outlives_a_sigterm_and_passes_no_stray_descriptor(self):
        proc = self.client("sleep 0.6; ls /proc/self/fd", "term")
        self.addCleanup(proc.kill)
        out, _ = proc.communicate(timeout=60)
        lines = out.splitlines()
        stray = lines[0].split()[1]
        self.assertEqual(lines[1].split()[:2], ["E", "0"], out)
        self.assertNotIn(stray, lines[1].split()[2:], out)  # fds 0-2 and ls's own
        self.assertEqual(lines[2], "guard exit 0", out)

    def test_step_is_ended_when_its_parent_process_dies(self):
        pidfile = os.path.join(self.dir, "step.pid")
        proc = self.client(f"echo $$ > {pidfile}; exec sleep 60", "hold")
        self.addCleanup(proc.stdout.close)
        self.addCleanup(proc.kill)
        guard_pid = int(proc.stdout.readline().split()[0])
        self.wait_for_file(pidfile)
        with open(pidfile) as f:
            step_pid = int(f.read())
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 20
        for pid in (step_pid, guard_pid):
            while True:
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                            break
                except FileNotFoundError:
                    break
                self.assertLess(time.monotonic(), deadline, f"{pid} outlived the guard's client")
                time.sleep(0.05)


class FencingToken(DepctlTestCase):
    def test_every_acquisition_gives_steps_a_larger_token(self):
        self.init_environment()
        tokens = os.path.join(self.dir, "tokens")
        self.ok("service", "create", "api", "--type", "application",
                "--deploy", f'echo "$DEPCTL_FENCING_TOKEN" >> {tokens}')
        for version in ("v1", "v2", "v3"):
            self.ok("environment", "deploy", "--version", version)
        with open(tokens) as f:
            seen = [int(line) for line in f]
        self.assertEqual(len(seen), 3)
        self.assertGreater(seen[0], 0)
        self.assertEqual(seen, sorted(set(seen)), "the token did not grow with each acquisition")


if __name__ == "__main__":
    unittest.main()
