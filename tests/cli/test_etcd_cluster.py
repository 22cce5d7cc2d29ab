"""depctl against a three-member etcd cluster on loopback ports (DESIGN §7, §9; issue #14
items 2 and 3): a hung member (SIGSTOP) never costs a live deployer its lock, and SIGKILL of
the leader during concurrent mutations loses nothing acknowledged. The lock-lost test on
the cluster is test_lock_lost's LockLostOnACluster."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase
from etcd_server import EtcdCluster

LEASE_TTL = 3  # seconds, via DEPCTL_ETCD_LEASE_TTL


class ClusterTestCase(DepctlTestCase):
    """A fresh cluster per test (members are frozen and killed)."""

    def setUp(self):
        self.etcd = EtcdCluster()
        self.addCleanup(self.etcd.cleanup)
        self.etcd.start()
        super().setUp()
        self.env["DEPCTL_ETCD_LEASE_TTL"] = str(LEASE_TTL)

    def use_endpoints(self, members):
        self.env["DEPCTL_STATE"] = f"etcd://{','.join(m.endpoint for m in members)}{self.etcd_prefix}"

    def spawn(self, *args, env=None):
        return subprocess.Popen([DEPCTL, *args], cwd=self.project, env={**self.env, **(env or {})},
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def reap(self, proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            self.assertLess(time.monotonic(), deadline, f"timed out waiting for {what}")
            time.sleep(0.05)

    def follower_first(self):
        """The members with a follower first: freezing it leaves the leader serving, so the
        test is about the client's endpoint choice, not about an election."""
        leader = self.etcd.leader()
        self.assertIsNotNone(leader, "the cluster has no leader")
        followers = [m for m in self.etcd.members if m is not leader]
        return [followers[0], leader, followers[1]]

    def freeze(self, member):
        member.proc.send_signal(signal.SIGSTOP)
        self.addCleanup(member.proc.send_signal, signal.SIGCONT)


class HungMember(ClusterTestCase):
    def deploy_keeps_its_lock(self, timeout, freeze_first_at_start):
        """A deploy whose step outlasts the lease TTL several times, with the first listed
        member hung (from the start, or from the step on): a second deploy meanwhile is
        refused busy, the first ends DEPLOYED and holds its lock throughout."""
        members = self.follower_first()
        self.use_endpoints(members)
        self.init_environment()
        started, release = os.path.join(self.dir, "started"), os.path.join(self.dir, "release")
        step = (f'[ "$DEPCTL_VERSION" = v2 ] && exit 0; touch {started}; sleep {LEASE_TTL * 2}; '
                f'while [ ! -e {release} ]; do sleep 0.1; done')
        self.ok("service", "create", "api", "--type", "application", "--deploy", step)
        env_id = self.state()["environments"][0]["id"]
        lock_key = f"{self.etcd_prefix}/locks/{env_id}"
        client = members[1].client()
        timeout_env = {"DEPCTL_ETCD_TIMEOUT": str(timeout)}
        if freeze_first_at_start:
            self.freeze(members[0])

        first = self.spawn("environment", "deploy", "--version", "v1", "--yes", env=timeout_env)
        self.addCleanup(self.reap, first)
        self.wait_for(lambda: os.path.exists(started), timeout * 3 + 30, "v1's step")
        if not freeze_first_at_start:
            self.freeze(members[0])  # the member the keep-alive was renewing through
        time.sleep(LEASE_TTL + 1)  # past the TTL: only renewals keep the lock now
        second = self.run_depctl("environment", "deploy", "--version", "v2", "--yes", env=timeout_env,
                                 timeout=timeout * 3 + 30)
        self.assertEqual(second.returncode, 4, second.stderr)
        self.assertIn("already being deployed by", second.stderr)
        self.assertIn(f"(pid {first.pid}, deploy", second.stderr)
        holder = client.get(lock_key)
        self.assertIsNotNone(holder, "the lock key is gone while its deployer runs")
        self.assertEqual(json.loads(holder["value"])["pid"], first.pid)
        with open(release, "w"):
            pass

        out, err = first.communicate(timeout=timeout * 3 + 60)
        self.assertEqual(first.returncode, 0, err)
        self.assertNotIn("LOCK_LOST", out + err)
        statuses = [(d["version"], d["status"]) for d in self.json("deployment", "list", env=timeout_env)]
        self.assertEqual(statuses, [("v1", "DEPLOYED")])
        self.assertIsNone(client.get(lock_key), "the lock was not released")

    def test_hung_first_member_never_loses_a_live_lock_timeout_7(self):
        self.deploy_keeps_its_lock(7, freeze_first_at_start=True)

    def test_hung_first_member_never_loses_a_live_lock_timeout_10(self):
        self.deploy_keeps_its_lock(10, freeze_first_at_start=True)

    def test_member_hung_under_the_keep_alive_never_loses_the_lock(self):
        # The keep-alive renews through the first member (it answered last); frozen under
        # it, a renewal moves on after TTL/3 instead of DEPCTL_ETCD_TIMEOUT.
        self.deploy_keeps_its_lock(10, freeze_first_at_start=False)

    def test_a_hung_member_costs_one_timeout(self):
        members = self.follower_first()
        self.use_endpoints(members)
        self.init_environment()
        self.ok("service", "create", "api", "--type", "application", "--deploy", "true")
        self.freeze(members[0])
        timings = []
        for args in [("environment", "stage", "list"), ("environment", "deploy", "--version", "v1", "--yes")]:
            begun = time.monotonic()
            self.ok(*args, env={"DEPCTL_ETCD_TIMEOUT": "2"}, timeout=120)
            timings.append((" ".join(args[:2]), time.monotonic() - begun))
        # Reported, not asserted (STYLE: timing claims go in bench/): the first command
        # waits for the hung member once; the deploy (a later process: the endpoint that
        # answered last is remembered per user) and its keep-alive and release start past it.
        # test_etcd's test_a_hung_first_endpoint_is_waited_for_by_one_command_only counts it.
        print("\nwith the first member hung, DEPCTL_ETCD_TIMEOUT=2: " +
              ", ".join(f"{what} {seconds:.2f} s" for what, seconds in timings), file=sys.stderr)
        self.assertEqual([d["status"] for d in self.json("deployment", "list")], ["DEPLOYED"])


class LeaderKilled(ClusterTestCase):
    WRITERS, MUTATIONS = 8, 25

    def test_sigkill_of_the_leader_during_concurrent_mutations_loses_nothing_acknowledged(self):
        self.init_environment()
        acknowledged, refused = [], []
        lock = threading.Lock()

        def writer(w):
            for i in range(self.MUTATIONS):
                name = f"w{w}-{i}"
                result = self.run_depctl("service", "create", name, "--type", "application", timeout=120)
                with lock:
                    (acknowledged if result.returncode == 0 else refused).append((name, result))

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(self.WRITERS)]
        for t in threads:
            t.start()
        self.wait_for(lambda: len(acknowledged) >= self.WRITERS * self.MUTATIONS // 4, 120,
                      "a quarter of the mutations")
        leader = self.etcd.leader()
        self.assertIsNotNone(leader)
        leader.kill()
        killed_after = len(acknowledged)
        for t in threads:
            t.join()
        self.assertLess(killed_after, self.WRITERS * self.MUTATIONS, "the leader died after every mutation")

        # What a refused mutation says: etcd's trouble (6) or contention (4), never a crash.
        for name, result in refused:
            self.assertIn(result.returncode, (4, 6), f"{name}: {result.stderr}")
            self.assertTrue(result.stderr.startswith("error: "), result.stderr)
        stored = {s["name"] for s in self.json("service", "list")}
        lost = [name for name, _ in acknowledged if name not in stored]
        self.assertEqual(lost, [], "acknowledged mutations lost")
        print(f"\nleader {leader.name} killed after {killed_after} acknowledged; "
              f"{len(acknowledged)} acknowledged, {len(refused)} refused, {len(stored)} stored, 0 lost",
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
