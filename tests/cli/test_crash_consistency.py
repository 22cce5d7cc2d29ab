"""Crash consistency of whole deployments (file backend): deploys SIGKILLed at random
moments. After each kill the state loads and validates, the history lists every deploy
that exited 0, every service shows the version of its last acknowledged deploy or of a
later interrupted one, and the environment lock died with its holder: a deploy started
right after a kill may be refused as busy for a moment (a step that was being spawned
still holds a copy of the lock's descriptor until its exec), never for longer than a
second. A torn history record never costs a later one."""
import json
import os
import random
import signal
import subprocess
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase, file_backend_only


@file_backend_only("kills depctl while it writes the files of the file backend")
class DeployKills(DepctlTestCase):
    def spawn(self, *args):
        return subprocess.Popen([DEPCTL, *args], cwd=self.project, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def history_dir(self):
        return os.path.join(self.project, ".depctl", "history")

    def depctl_files(self):
        """The bytes of the state and of every history file."""
        out = {}
        for path in [self.state_path] + [os.path.join(self.history_dir(), n)
                                         for n in sorted(os.listdir(self.history_dir()))]:
            with open(path, "rb") as f:
                out[path] = f.read()
        return out

    def test_sigkill_at_random_moments_of_deploys(self):
        self.init_environment("dev")
        names = ["DB", "Api", "Web"]
        for name, kind in zip(names, ["database", "application", "application"]):
            self.ok("service", "create", name, "--type", kind, "--build", "echo build", "--deploy", "echo deploy")
        rng = random.Random(int(os.environ.get("DEPCTL_TEST_SEED", "4242")))
        samples = []
        for i in range(3):
            start = time.monotonic()
            self.ok("environment", "deploy", "--version", f"warmup{i}")
            samples.append(time.monotonic() - start)
        # Kills land at a random moment within a window that starts at two typical
        # deploys and then follows the outcomes (wider after a kill, narrower after a
        # finish), so that on a busy machine as on an idle one some deploys are cut
        # short at every stage and some finish.
        window = 2 * sorted(samples)[1]
        allowed = {name: {"warmup2"} for name in names}
        acknowledged = ["warmup0", "warmup1", "warmup2"]
        kills = int(os.environ.get("DEPCTL_TEST_KILLS", "100"))
        killed = finished = busy = 0
        last_checked = None
        for i in range(kills):
            version = f"v{i}"
            for name in names:
                allowed[name].add(version)
            for attempt in range(20):
                proc = self.spawn("environment", "deploy", "--version", version)
                time.sleep(rng.uniform(0, window))
                proc.send_signal(signal.SIGKILL)
                out, err = proc.communicate(timeout=60)
                if proc.returncode != 4:
                    break
                # A step that was being spawned at the kill holds a copy of the lock's
                # descriptor until its exec closes it: busy for a moment, not for good.
                busy += 1
                time.sleep(0.05)
            if proc.returncode == -signal.SIGKILL:
                killed += 1
                window *= 1.1
            elif proc.returncode == 0:
                finished += 1
                window *= 0.9
                acknowledged.append(version)
                for name in names:
                    allowed[name] = {version}
            else:
                # Exit 4 after a second of retries: a lock that outlived its killed holder.
                self.fail(f"deploy {version} exited {proc.returncode}: {err}")
            with open(self.state_path, "rb") as f:
                json.loads(f.read())  # parses
            files = self.depctl_files()
            if files == last_checked:  # depctl reads the same bytes the same way: once is enough
                continue
            last_checked = files
            status = self.json("environment", "status")  # loads and validates
            for svc in status["services"]:
                self.assertIn(svc["version"], allowed[svc["name"]], f"{svc['name']} lost an acknowledged deploy")
            listed = {r["version"] for r in self.json("deployment", "list", "--limit", "0")}
            missing = [v for v in acknowledged if v not in listed]
            self.assertEqual(missing, [], "acknowledged deployments missing from the history")
        # A killed commit may leave its temp file; the next commit removes it.
        leftovers = [n for n in os.listdir(os.path.dirname(self.state_path)) if ".tmp." in n]
        print(f"\n{kills} deploys: {killed} killed, {finished} finished; 0 corrupt states, 0 lost acknowledged "
              f"deployments, 0 stale locks ({busy} momentary exit 4 right after a kill); "
              f"{len(leftovers)} temp files left after the last kill")
        self.assertLessEqual(len(leftovers), 1, leftovers)
        self.assertGreater(killed, kills // 10, f"only {killed} of {kills} deploys were interrupted")
        self.assertGreater(finished, kills // 10, f"only {finished} of {kills} deploys finished")
        # The next deploy after all this works, and its commit removes what the killed one left.
        self.ok("environment", "deploy", "--version", "after")
        leftovers = [n for n in os.listdir(os.path.dirname(self.state_path)) if ".tmp." in n]
        self.assertEqual(leftovers, [], "a temp file outlived the next commit")

    def test_a_torn_history_record_does_not_swallow_the_next_one(self):
        """A SIGKILL can cut a record of more than a page short (the kernel stops a
        write at a page boundary once a fatal signal is pending). The next record must
        not be glued onto the torn one, or the acknowledged deploy would vanish from
        the history."""
        self.init_environment("dev")
        self.ok("service", "create", "Api", "--type", "application", "--deploy", "echo deploy")
        self.ok("environment", "deploy", "--version", "v1")
        [history] = os.listdir(self.history_dir())
        path = os.path.join(self.history_dir(), history)
        with open(path, "rb") as f:
            lines = f.read().splitlines(keepends=True)
        last = lines[-1]
        with open(path, "ab") as f:
            f.write(last[: len(last) // 2])  # a torn copy of the last record: no newline
        self.ok("environment", "deploy", "--version", "v2")
        versions = [r["version"] for r in self.json("deployment", "list")]
        self.assertEqual(versions[:2], ["v2", "v1"])


if __name__ == "__main__":
    unittest.main()
