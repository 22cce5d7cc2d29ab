"""DESIGN §9 "Queue" (#16): `--wait` waiters for an environment's lock are served first come,
first served, on the file store and on etcd; `--wait=newest` replaces the older waiters that
came with `--wait=newest` (they exit 4 saying who replaced them), never a plain `--wait`
(docs/decisions.md). A first deploy holds the lock in a step that waits for a file the test
creates; every step appends its version to a file, so the order is what the steps saw."""
import glob
import json
import os
import re
import signal
import subprocess
import time

from depctl_test import DEPCTL, DepctlTestCase, file_backend_only
from etcd_server import EtcdServer

TICKET = re.compile(r"^\d{20}-(\d+)\.(wait|newest)$")


class QueueChecks:
    def setUp(self):
        super().setUp()
        self.init_environment("production")
        self.order = os.path.join(self.dir, "order")
        self.release = os.path.join(self.dir, "release")
        self.ok("service", "create", "Api", "--type", "job", "--deploy",
                f'echo "$DEPCTL_VERSION" >> {self.order}; '
                f'while [ ! -e {self.release} ]; do sleep 0.05; done')

    def popen(self, *args):
        proc = subprocess.Popen([DEPCTL, *args], cwd=self.project, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        self.addCleanup(lambda: proc.poll() is None and os.killpg(proc.pid, signal.SIGKILL))
        return proc

    def wait_for(self, predicate, what, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        self.fail(f"timed out waiting for {what}")

    def steps_ran(self):
        if not os.path.exists(self.order):
            return []
        with open(self.order) as f:
            return f.read().split()

    def hold_the_lock(self):
        holder = self.popen("environment", "deploy", "--version", "v0", "--yes")
        self.wait_for(lambda: self.steps_ran() == ["v0"], "the first deploy's step")
        return holder

    def enqueue(self, *args):
        """Starts a waiter once every earlier one holds its place, then lets 100 ms pass."""
        proc = self.popen(*args)
        self.wait_for(lambda: proc.pid in self.queued_pids() or proc.poll() is not None,
                      f"{args} to queue")
        self.assertIsNone(proc.poll(), proc.poll() is not None and proc.communicate())
        time.sleep(0.1)
        return proc

    def finish(self, proc, code=0):
        out, err = proc.communicate(timeout=180)
        self.assertEqual(proc.returncode, code, err)
        return err

    def queued(self):
        return len(self.queued_pids())

    def versions_recorded(self):
        return [r["version"] for r in reversed(self.json("deployment", "list"))]  # newest first

    def test_ten_waiters_run_in_the_order_they_started(self):
        holder = self.hold_the_lock()
        waiters = [self.enqueue("environment", "deploy", "--version", f"v{i}", "--yes", "--wait")
                   for i in range(1, 11)]
        self.assertEqual(self.steps_ran(), ["v0"], "nobody runs while the lock is held")
        open(self.release, "w").close()
        for proc in [holder, *waiters]:
            self.finish(proc)
        expected = [f"v{i}" for i in range(11)]
        self.assertEqual(self.steps_ran(), expected)
        self.assertEqual(self.versions_recorded(), expected)
        self.wait_for(lambda: self.queued() == 0, "the queue to empty")

    def test_newest_replaces_older_newest_waiters_only(self):
        holder = self.hold_the_lock()
        older = self.enqueue("environment", "deploy", "--version", "v1", "--yes", "--wait=newest")
        plain = self.enqueue("environment", "deploy", "--version", "v2", "--yes", "--wait")
        newest = self.enqueue("environment", "deploy", "--version", "v3", "--yes", "--wait=newest")
        err = self.finish(older, 4)  # replaced while the lock is still held
        self.assertIn("superseded by a newer deployment", err)
        self.assertIn(f"pid {newest.pid}", err)
        self.assertIsNone(plain.poll(), "a plain --wait keeps its place")
        open(self.release, "w").close()
        for proc in (holder, plain, newest):
            self.finish(proc)
        self.assertEqual(self.steps_ran(), ["v0", "v2", "v3"])
        self.assertEqual(self.versions_recorded(), ["v0", "v2", "v3"])

    def test_a_dead_or_cancelled_waiter_gives_up_its_place(self):
        holder = self.hold_the_lock()
        killed = self.enqueue("environment", "deploy", "--version", "v1", "--yes", "--wait")
        cancelled = self.enqueue("environment", "deploy", "--version", "v2", "--yes", "--wait")
        stop = self.enqueue("environment", "stop", "--wait")
        last = self.enqueue("environment", "deploy", "--version", "v3", "--yes", "--wait")
        # Without --wait nobody jumps the queue, not even once the lock is free.
        refused = self.run_depctl("environment", "deploy", "--version", "v9", "--yes")
        self.assertEqual(refused.returncode, 4, refused.stderr)
        self.assertIn("4 deployments wait for it", refused.stderr)
        os.killpg(killed.pid, signal.SIGKILL)
        killed.communicate(timeout=30)
        os.kill(cancelled.pid, signal.SIGINT)
        err = self.finish(cancelled, 130)
        self.assertIn("canceled while waiting for the environment's lock", err)
        open(self.release, "w").close()
        for proc in (holder, stop, last):
            self.finish(proc)
        self.assertEqual(self.steps_ran(), ["v0", "v3"])
        records = self.json("deployment", "list")[::-1]  # oldest first
        self.assertEqual([r["status"] for r in records], ["DEPLOYED", "STOPPED", "DEPLOYED"], records)
        self.assertEqual(records[-1]["version"], "v3")

    def test_wait_takes_yes_or_newest_only(self):
        result = self.run_depctl("environment", "deploy", "--version", "v1", "--yes", "--wait=oldest")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("newest", self.ok("environment", "rollback", "--help").stdout)


@file_backend_only("reads the queue's files")
class FileQueue(QueueChecks, DepctlTestCase):
    def queued_pids(self):
        names = [os.path.basename(p) for p in glob.glob(os.path.join(self.project, ".depctl", "locks", "*.queue", "*"))]
        return [int(m.group(1)) for m in map(TICKET.match, names) if m]

    def test_a_dead_waiters_ticket_is_removed_by_the_next_look(self):
        holder = self.hold_the_lock()
        killed = self.enqueue("environment", "deploy", "--version", "v1", "--yes", "--wait")
        os.killpg(killed.pid, signal.SIGKILL)
        killed.communicate(timeout=30)
        self.assertEqual(self.queued(), 1, "the kernel dropped its flock, not its file")
        refused = self.run_depctl("environment", "deploy", "--version", "v2", "--yes")
        self.assertEqual(refused.returncode, 4)
        self.assertNotIn("deployment waits", refused.stderr, "a dead waiter is not counted")
        self.assertEqual(self.queued(), 0)
        open(self.release, "w").close()
        self.finish(holder)

    def test_a_link_in_place_of_the_queue_is_refused(self):
        locks = os.path.join(self.project, ".depctl", "locks")
        os.makedirs(locks, exist_ok=True)
        env_id = next(e["id"] for e in self.state()["environments"] if e["name"] == "production")
        target = os.path.join(self.dir, "elsewhere")
        os.makedirs(target)
        os.symlink(target, os.path.join(locks, f"{env_id}.queue"))
        result = self.run_depctl("environment", "deploy", "--version", "v1", "--yes", "--wait")
        self.assertEqual(result.returncode, 6, result.stderr)
        self.assertIn("symbolic link", result.stderr)
        self.assertEqual(os.listdir(target), [])
        self.assertEqual(self.steps_ran(), [])
        os.unlink(os.path.join(locks, f"{env_id}.queue"))


class EtcdQueue(QueueChecks, DepctlTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.etcd is None:
            cls.etcd = EtcdServer()
            cls.addClassCleanup(cls.etcd.cleanup)
            cls.etcd.start()

    def setUp(self):
        super().setUp()
        self.env["DEPCTL_ETCD_LEASE_TTL"] = "3"

    def queue_keys(self):
        return self.etcd.client().range_prefix(f"{self.etcd_prefix}/queue/")

    def queued_pids(self):
        return [json.loads(kv["value"])["pid"] for kv in self.queue_keys()]

    def test_a_queue_key_names_its_waiter_and_has_its_own_lease(self):
        holder = self.hold_the_lock()
        waiter = self.enqueue("environment", "deploy", "--version", "v1", "--yes", "--wait=newest")
        [key] = self.queue_keys()
        value = json.loads(key["value"])
        self.assertEqual((value["pid"], value["wait"]), (waiter.pid, "newest"))
        self.assertNotEqual(key["lease"], 0)
        lock = self.etcd.client().range_prefix(f"{self.etcd_prefix}/locks/")[0]
        self.assertNotEqual(key["lease"], lock["lease"])
        open(self.release, "w").close()
        for proc in (holder, waiter):
            self.finish(proc)
        self.assertEqual(self.queue_keys(), [], "the queue key goes when its waiter takes the lock")
