"""Issue #14 item 6: `deploy --wait` honours Ctrl-C and SIGTERM while it waits for the
environment's lock (file store and etcd alike). A deployment that never got the lock never
started: it exits 130 and nothing is recorded for it (docs/decisions.md)."""
import os
import signal
import subprocess
import time

from depctl_test import DEPCTL, DepctlTestCase


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
