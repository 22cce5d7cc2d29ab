"""Issue #14 item 6: `deploy --wait` honours Ctrl-C and SIGTERM while it waits for the
environment's lock (file store and etcd alike). A deployment that never got the lock never
started: it exits 130 and nothing is recorded for it (docs/decisions.md)."""
import fcntl
import os
import signal
import subprocess
import time

from depctl_test import DEPCTL, DepctlTestCase, file_backend_only


class WaitIsCancellable(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("production")
        self.started = os.path.join(self.dir, "started")
        self.ok("service", "create", "Api", "--type", "job",
                "--deploy", f"touch {self.started}; sleep 60")

    def popen(self, *args):
        proc = subprocess.Popen([DEPCTL, *args], cwd=self.project, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        self.addCleanup(lambda: proc.poll() is None and os.killpg(proc.pid, signal.SIGKILL))
        return proc

    def wait_for(self, predicate, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        self.fail("condition not met in time")

    def check(self, sig):
        holder = self.popen("environment", "deploy", "--version", "v1", "--yes")
        self.wait_for(lambda: os.path.exists(self.started))
        waiter = self.popen("environment", "deploy", "--version", "v2", "--yes", "--wait")
        with self.assertRaises(subprocess.TimeoutExpired):
            waiter.wait(timeout=1)  # it waits for the lock
        os.kill(waiter.pid, sig)
        try:
            out, err = waiter.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.fail(f"deploy --wait ignored signal {sig} while waiting for the lock")
        self.assertEqual(waiter.returncode, 130, err)
        self.assertIn("waiting for the environment's lock", err)
        self.assertIsNone(holder.poll(), "the holder must not be disturbed")
        os.kill(holder.pid, signal.SIGTERM)
        holder.communicate(timeout=30)
        records = self.json("deployment", "list")
        self.assertEqual([r["version"] for r in records], ["v1"], records)

    def test_ctrl_c(self):
        self.check(signal.SIGINT)

    def test_sigterm(self):
        self.check(signal.SIGTERM)


@file_backend_only("reads the file store's lock file to see the lock taken")
class StepsLockWaitIsCancellable(DepctlTestCase):
    """After the environment's lock, a deployer waits (up to --grace + 5 s) for the steps an
    earlier, dead deployer left on this machine (the steps lock, DESIGN §9 "Honest status").
    That wait is a lock wait too: Ctrl-C ends it at once, nothing run, nothing recorded."""

    def test_ctrl_c_while_old_steps_hold_the_steps_lock(self):
        self.init_environment("production")
        started = os.path.join(self.dir, "started")
        self.ok("service", "create", "Api", "--type", "job", "--deploy", f"touch {started}")
        env_id = self.state()["environments"][0]["id"]
        steps = os.path.join(self.project, ".depctl", "logs", ".steps")
        os.makedirs(steps, mode=0o700)
        # What the guards of a dead deployer's steps hold until those steps end.
        held = os.open(os.path.join(steps, env_id + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        self.addCleanup(os.close, held)
        fcntl.flock(held, fcntl.LOCK_EX)
        deployer = subprocess.Popen([DEPCTL, "environment", "deploy", "--version", "v1", "--yes",
                                     "--grace", "600"], cwd=self.project, env=self.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
        self.addCleanup(lambda: deployer.poll() is None and os.killpg(deployer.pid, signal.SIGKILL))
        lock_file = os.path.join(self.project, ".depctl", "locks", env_id + ".lock")

        def holds_the_environment_lock():
            try:
                with open(lock_file) as f:
                    return f'"pid":{deployer.pid}' in f.read().replace(" ", "")
            except FileNotFoundError:
                return False

        deadline = time.monotonic() + 20
        while not holds_the_environment_lock():
            self.assertLess(time.monotonic(), deadline, "the deployer never took the environment's lock")
            time.sleep(0.05)
        with self.assertRaises(subprocess.TimeoutExpired):
            deployer.wait(timeout=1)  # it waits for the steps lock
        os.kill(deployer.pid, signal.SIGINT)
        try:
            _, err = deployer.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("Ctrl-C was ignored while waiting for the steps lock (--grace 600)")
        self.assertEqual(deployer.returncode, 130, err)
        self.assertIn("canceled while waiting for the steps of an earlier deployment", err)
        self.assertFalse(os.path.exists(started), "a step ran")
        self.assertEqual(self.json("deployment", "list"), [])
