"""Issue #13 (DESIGN §5): the plan that runs is made from the state read under the
environment's lock. A `deploy --wait` that waited while someone edited the environment
deploys the definition as it is when its turn comes, and an approval switched on
meanwhile is asked for. The code is the same for both stores (src/core/deploy/deploy.cpp):
the file store runs it."""
import os
import signal
import subprocess
import time

from depctl_test import DEPCTL, DepctlTestCase


class PlanUnderLock(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("production")
        self.started = os.path.join(self.dir, "started")
        self.release = os.path.join(self.dir, "release")
        # The holder's step runs until the test releases it; the waiter's copy of the same
        # command would end at once (the release file exists by then).
        self.ok("service", "create", "Api", "--type", "job", "--deploy",
                f"touch {self.started}; while [ ! -e {self.release} ]; do sleep 0.05; done")

    def popen(self, *args):
        proc = subprocess.Popen([DEPCTL, *args], cwd=self.project, env=self.env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.addCleanup(lambda: proc.poll() is None and os.killpg(proc.pid, signal.SIGKILL))
        return proc

    def wait_for(self, predicate, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        self.fail("condition not met in time")

    def hold_and_wait(self, *waiter_args):
        """Starts a deploy that holds the lock, then a `--wait` deploy behind it."""
        holder = self.popen("environment", "deploy", "--version", "v1", "--yes")
        self.wait_for(lambda: os.path.exists(self.started))
        waiter = self.popen("environment", "deploy", "--version", "v2", "--wait", *waiter_args)
        with self.assertRaises(subprocess.TimeoutExpired):
            waiter.wait(timeout=1)  # it waits for the lock
        return holder, waiter

    def release_holder(self, holder):
        with open(self.release, "w"):
            pass
        _, err = holder.communicate(timeout=60)
        self.assertEqual(holder.returncode, 0, err)

    def test_a_waiter_deploys_the_definition_as_it_is_when_its_turn_comes(self):
        holder, waiter = self.hold_and_wait("--yes")
        edited = os.path.join(self.dir, "edited-command-ran")
        added = os.path.join(self.dir, "added-service-ran")
        self.ok("service", "edit", "Api", "--deploy", f"touch {edited}")
        self.ok("service", "create", "Worker", "--type", "job", "--deploy", f"touch {added}")
        self.release_holder(holder)
        out, err = waiter.communicate(timeout=60)
        self.assertEqual(waiter.returncode, 0, out + err)
        self.assertTrue(os.path.exists(edited), "the waiter ran the command planned before the edit")
        self.assertTrue(os.path.exists(added), "the service created while waiting was not deployed")
        record = self.last_record()
        self.assertEqual(record["version"], "v2")
        names = [svc["name"] for stage in record["stages"] for svc in stage["services"]]
        self.assertEqual(sorted(names), ["Api", "Worker"], record)

    def test_an_approval_switched_on_while_waiting_is_asked_for(self):
        holder, waiter = self.hold_and_wait()  # no --yes, no terminal
        self.ok("environment", "edit", "production", "--require-approval", "on")
        self.release_holder(holder)
        out, err = waiter.communicate(timeout=60)
        self.assertEqual(waiter.returncode, 5, out + err)
        self.assertIn("requires approval", err)
        self.assertEqual([r["version"] for r in self.json("deployment", "list")], ["v1"])

    def test_a_service_deleted_while_waiting_is_refused_before_any_step(self):
        self.ok("service", "create", "Web", "--type", "job", "--deploy", "true")
        holder, waiter = self.hold_and_wait("--yes", "--services", "Web")
        self.ok("service", "delete", "Web")
        self.release_holder(holder)
        out, err = waiter.communicate(timeout=60)
        self.assertEqual(waiter.returncode, 3, out + err)
        self.assertIn("Web", err)
        self.assertEqual([r["version"] for r in self.json("deployment", "list")], ["v1"])
