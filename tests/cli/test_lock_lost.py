"""A deployer that loses its etcd lock notices it (DESIGN §9 "Fencing", issue #14 item 2):
frozen (SIGSTOP) past the lease's TTL while a second deployer takes the lock, then resumed,
it kills its running step at once, records LOCK_LOST and exits 4; its step never runs beside
the second deployer's (checked by the second step itself, in /proc). Its final write is an
etcd txn that compares the lock key: once the key changed, it is refused (DESIGN §9). Both
run on one member (LockLost) and on a three-member cluster (LockLostOnACluster)."""
import base64
import json
import os
import signal
import subprocess
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase
from etcd_server import EtcdCluster, EtcdServer

LEASE_TTL = 3  # seconds, via DEPCTL_ETCD_LEASE_TTL


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class LockLost(DepctlTestCase):
    make_etcd = EtcdServer

    def setUp(self):
        self.etcd = self.make_etcd()
        self.addCleanup(self.etcd.cleanup)
        self.etcd.start()
        super().setUp()
        self.env["DEPCTL_ETCD_LEASE_TTL"] = str(LEASE_TTL)
        self.client = self.etcd.client()

    def spawn(self, *args):
        return subprocess.Popen([DEPCTL, *args], cwd=self.project, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            self.assertLess(time.monotonic(), deadline, f"timed out waiting for {what}")
            time.sleep(0.05)

    def lock_holder_pid(self, lock_key):
        kv = self.client.get(lock_key)
        return json.loads(kv["value"]).get("pid") if kv else None

    def test_frozen_holder_loses_the_lock_and_exits_4(self):
        self.init_environment()
        first_pid = os.path.join(self.dir, "first.pid")
        overlap = os.path.join(self.dir, "overlap")
        # v1's step records its pid and runs long; v2's step looks in /proc for it.
        step = (f'if [ "$DEPCTL_VERSION" = v1 ]; then echo $$ > {first_pid}; exec sleep 60; fi; '
                f'p=$(cat {first_pid}); if [ -e /proc/$p ] && ! grep -q "^[0-9]* (.*) Z" /proc/$p/stat; '
                f'then echo "$p alive" > {overlap}; fi')
        self.ok("service", "create", "api", "--type", "application", "--deploy", step)
        self.addCleanup(self.kill_pidfile, first_pid)
        env_id = self.state()["environments"][0]["id"]
        lock_key = f"{self.etcd_prefix}/locks/{env_id}"

        first = self.spawn("environment", "deploy", "--version", "v1", "--yes")
        self.addCleanup(self.reap, first)
        self.wait_for(lambda: os.path.exists(first_pid) and os.path.getsize(first_pid) > 0, 20, "v1's step")
        with open(first_pid) as f:
            step_pid = int(f.read())
        first.send_signal(signal.SIGSTOP)
        second = self.spawn("environment", "deploy", "--version", "v2", "--yes", "--wait")
        self.addCleanup(self.reap, second)
        # The frozen holder cannot renew: its lease expires, the second deployer takes the lock.
        self.wait_for(lambda: self.lock_holder_pid(lock_key) == second.pid, LEASE_TTL * 3 + 5,
                      "the second deployer to take the lock")
        first.send_signal(signal.SIGCONT)

        _, err = first.communicate(timeout=30)
        self.assertEqual(first.returncode, 4, err)
        self.assertFalse(alive(step_pid), "the step of the deployer that lost its lock still runs")
        out, err = second.communicate(timeout=60)
        self.assertEqual(second.returncode, 0, err)
        self.assertFalse(os.path.exists(overlap), "v1's step ran beside v2's")

        statuses = [(d["version"], d["status"]) for d in self.json("deployment", "list")]
        self.assertEqual(statuses, [("v2", "DEPLOYED"), ("v1", "LOCK_LOST")])
        services = self.json("environment", "status")["services"]
        self.assertEqual([s.get("version") for s in services], ["v2"])

    def test_final_write_refused_once_the_lock_key_changed(self):
        # The lock key is replaced under a running deployer whose lease lives on: the
        # keep-alive sees nothing wrong, only the final write's compare can refuse.
        self.init_environment()
        ready, go = os.path.join(self.dir, "ready"), os.path.join(self.dir, "go")
        self.ok("service", "create", "api", "--type", "application", "--deploy",
                f"touch {ready}; while [ ! -e {go} ]; do sleep 0.1; done")
        env_id = self.state()["environments"][0]["id"]
        lock_key = f"{self.etcd_prefix}/locks/{env_id}"
        history_before = self.client.range_prefix(f"{self.etcd_prefix}/history/")

        first = self.spawn("environment", "deploy", "--version", "v1", "--yes")
        self.addCleanup(self.reap, first)
        self.wait_for(lambda: os.path.exists(ready), 30, "v1's step")
        ours = self.client.get(lock_key)
        self.assertEqual(json.loads(ours["value"])["pid"], first.pid)
        self.assertNotEqual(ours["lease"], 0)
        # What a second deployer does once our lease is gone: a new key (new create revision).
        self.client.call("/v3/kv/deleterange", {"key": _b64(lock_key)})
        other = {"user": "other", "host": "elsewhere", "pid": 1, "operation": "deploy",
                 "since": "2026-01-01T00:00:00.000Z"}
        self.client.put(lock_key, json.dumps(other))
        self.addCleanup(lambda: self.client.call("/v3/kv/deleterange", {"key": _b64(lock_key)}))
        with open(go, "w"):
            pass

        _, err = first.communicate(timeout=60)
        self.assertEqual(first.returncode, 4, err)
        records = self.json("deployment", "list")
        self.assertEqual([(d["version"], d["status"]) for d in records], [("v1", "LOCK_LOST")])
        self.assertIn("before the final write", self.json("deployment", "show", records[0]["id"])["error"])
        services = self.json("environment", "status")["services"]
        self.assertEqual([s.get("version") for s in services], [None], "the fenced write changed the state")
        # Only the LOCK_LOST record was added, and the other holder's key is untouched.
        history = self.client.range_prefix(f"{self.etcd_prefix}/history/")
        self.assertEqual(len(history), len(history_before) + 1)
        self.assertEqual(json.loads(self.client.get(lock_key)["value"]), other)

    def reap(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
        proc.communicate(timeout=30)

    def kill_pidfile(self, pidfile):
        try:
            with open(pidfile) as f:
                os.kill(int(f.read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


class LockLostOnACluster(LockLost):
    """The same on three members (issue #14, "Done when"): the lock key and the lease live
    in a replicated store; the endpoints are listed in member order."""
    make_etcd = EtcdCluster


if __name__ == "__main__":
    unittest.main()
