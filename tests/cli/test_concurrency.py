"""No lost update between concurrent processes, and no torn state after SIGKILL."""
import fcntl
import json
import os
import random
import signal
import subprocess
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase


class Concurrency(DepctlTestCase):
    def spawn(self, *args):
        return subprocess.Popen([DEPCTL, *args], cwd=self.project, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def test_twenty_processes_create_services_at_once(self):
        self.init_environment()
        procs = [self.spawn("service", "create", f"svc-{i}", "--type", "application") for i in range(20)]
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 0, err)
        names = {s["name"] for s in self.json("service", "list")}
        self.assertEqual(names, {f"svc-{i}" for i in range(20)})
        # No temp file is left behind by the atomic writes.
        self.assertEqual(sorted(os.listdir(os.path.dirname(self.state_path))),
                         ["state.json", "state.lock"])

    def test_lock_timeout_exits_4(self):
        self.init_environment()
        lock_path = os.path.join(self.project, ".depctl", "state.lock")
        with open(lock_path, "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # another holder of the state lock
            self.fails(4, "service", "create", "late", "--type", "job", "--lock-timeout", "0.2",
                       message="locked by another depctl process")
        self.ok("service", "create", "late", "--type", "job", "--lock-timeout", "0.2")

    def test_sigkill_at_random_moments_never_tears_the_state(self):
        """300 mutations, each killed at a random moment. After each: the state parses and
        validates, holds every service whose creation exited 0, and every field holds the
        value of its last acknowledged change or of a later, interrupted one."""
        self.init_environment()
        stages = ["DATABASE DEFAULT", "JOB DEFAULT", "CONTAINER DEFAULT", "APPLICATION DEFAULT"]
        rng = random.Random(int(os.environ.get("DEPCTL_TEST_SEED", "4242")))
        # Kill delays span one typical mutation, measured here, so that on a slow or busy
        # machine kills still land before, during and after the commit.
        samples = []
        for i in range(5):
            start = time.monotonic()
            self.ok("project", "edit", "--new-name", f"demo{i}")
            samples.append(time.monotonic() - start)
        typical = sorted(samples)[len(samples) // 2]
        created = []
        allowed = {}  # (service, field) -> values the state may hold
        killed = 0
        last_listed = None
        for i in range(300):
            kind = rng.choice(["create", "edit", "move"]) if created else "create"
            if kind == "create":
                name, field, value = f"svc-{i}", None, None
                args = ("service", "create", name, "--type", "application")
            elif kind == "edit":
                name, field, value = rng.choice(created), "deploy", f"echo {i}"
                args = ("service", "edit", name, "--deploy", value)
            else:
                name, field, value = rng.choice(created), "stage", rng.choice(stages)
                args = ("environment", "stage", "move", "-n", name, "-s", value)
            if field:
                allowed[(name, field)].add(value)
            proc = self.spawn(*args)
            time.sleep(rng.uniform(0, 1.5 * typical))
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=30)
            if proc.returncode == -signal.SIGKILL:
                killed += 1
            elif proc.returncode == 0:
                if kind == "create":
                    created.append(name)
                    allowed[(name, "stage")] = {"APPLICATION DEFAULT"}
                    allowed[(name, "deploy")] = {None}
                else:
                    allowed[(name, field)] = {value}  # acknowledged: nothing older may show
            else:
                self.fail(f"mutation {i} exited {proc.returncode}: {err}")
            with open(self.state_path, "rb") as f:
                raw = f.read()
            state = json.loads(raw)
            env = state["environments"][0]
            stage_names = {st["id"]: st["name"] for st in env["stages"]}
            services = {svc["name"]: svc for svc in env["services"]}
            for done in created:
                self.assertIn(done, services)
            for (svc, fld), values in allowed.items():
                actual = services[svc].get("deploy") if fld == "deploy" else stage_names[services[svc]["stage_id"]]
                self.assertIn(actual, values, f"{svc}.{fld} lost an acknowledged update")
            if raw != last_listed:  # depctl reads the same bytes the same way: once is enough
                self.ok("service", "list")
                last_listed = raw
        acknowledged = 300 - killed
        print(f"\n300 mutations: {killed} killed, {acknowledged} acknowledged ({len(created)} creations); "
              "0 corrupt states, 0 lost acknowledged mutations")
        self.assertGreater(killed, 30, "the test never interrupted a mutation")
        self.assertGreater(len(created), 5, "no mutation ever finished")


if __name__ == "__main__":
    unittest.main()
