"""No step of a SIGKILLed deployer runs beside the next deployment (DESIGN §9 "Honest
status"): the step guard ends the steps, the next deployer waits for them, and records the
dead deployment INTERRUPTED. Checked from stamps the steps write and from /proc."""
import json
import os
import random
import signal
import subprocess
import threading
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase, file_backend_only

GRACE = 1.0


def marked_processes(mark):
    """{pid: deployment id} of live (not zombie) processes whose environment holds `mark`."""
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
        except OSError:
            continue
        if env.get(b"DEPCTL_TEST_MARK") == mark.encode():
            found[int(entry)] = env.get(b"DEPCTL_DEPLOYMENT_ID", b"").decode()
    return found


@file_backend_only("the running record is read from .depctl/running")
class KillDeployer(DepctlTestCase):
    def test_thirty_deploys_killed_at_random_moments(self):
        self.init_environment()
        timeline = os.path.join(self.dir, "timeline")
        mark = f"kill-{os.getpid()}-{time.monotonic_ns()}"
        self.env["DEPCTL_TEST_MARK"] = mark
        # Each step stamps its start and its end, also when it is terminated (`date` ignores
        # the SIGTERM sent to the whole group, or the stamp would be empty).
        script = os.path.join(self.dir, "step.sh")
        with open(script, "w") as f:
            # No output: once depctl is dead, a write to the log pipe is a SIGPIPE.
            f.write(f"""exec >/dev/null 2>&1
stamp() {{ echo "$DEPCTL_DEPLOYMENT_ID $DEPCTL_SERVICE $1 $(trap '' TERM; date +%s.%N)" >> {timeline}; }}
trap 'stamp end; exit 143' TERM
stamp start
sleep 0.4 & wait $!
stamp end
""")
        step = f"sh {script}"
        for name in ("db", "api", "web"):
            kind = "database" if name == "db" else "application"
            self.ok("service", "create", name, "--type", kind, "--deploy", step)
        running = os.path.join(self.project, ".depctl", "running")
        rng = random.Random(int(os.environ.get("DEPCTL_TEST_SEED", "1414")))
        killed_ids, survivors, checks = [], [], []

        def check(deployment_id):
            alive = [pid for pid, dep in marked_processes(mark).items() if dep == deployment_id]
            if alive:
                survivors.append((deployment_id, alive))

        for i in range(30):
            proc = subprocess.Popen([DEPCTL, "environment", "deploy", "--version", f"v{i}", "--grace",
                                     str(GRACE), "--wait"], cwd=self.project, env=self.env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(0.0, 2.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            if proc.returncode != -signal.SIGKILL:
                self.assertEqual(proc.returncode, 0, proc.stderr.read())
                continue
            # Only the renamed file counts, not the temp file of a write the kill interrupted.
            records = [name for name in (os.listdir(running) if os.path.isdir(running) else [])
                       if name.startswith("env_") and name.endswith(".json")]
            if not records:
                continue  # killed before it took the lock, or after it recorded its outcome
            with open(os.path.join(running, records[0])) as f:
                deployment_id = json.load(f)["id"]
            killed_ids.append(deployment_id)
            timer = threading.Timer(2 * GRACE, check, (deployment_id,))
            timer.start()
            checks.append(timer)
        for timer in checks:
            timer.join()
        self.ok("environment", "deploy", "--version", "final", "--grace", str(GRACE))

        self.assertEqual(survivors, [], "steps of a killed deployment were alive 2 x grace after the kill")
        self.assertGreaterEqual(len(killed_ids), 10, "too few kills landed during a deployment")
        # No two deployments' steps overlap.
        spans = {}
        with open(timeline) as f:
            for line in f:
                dep, service, what, at = line.split()
                spans.setdefault((dep, service), {})[what] = float(at)
        intervals = []
        for (dep, service), span in spans.items():
            self.assertIn("end", span, f"{dep} {service} has no end stamp: it was SIGKILLed")
            intervals.append((span["start"], span["end"], dep))
        intervals.sort()
        latest_end, latest_dep = 0.0, None
        for start, end, dep in intervals:
            if latest_dep is not None and latest_dep != dep:
                self.assertGreaterEqual(start, latest_end, f"a step of {dep} started while one of "
                                                           f"{latest_dep} still ran")
            if end > latest_end:
                latest_end, latest_dep = end, dep
        # Each killed deployment is in the history once, INTERRUPTED unless it had recorded
        # its own outcome just before the kill.
        records = self.json("deployment", "list", "--limit", "100")
        by_id = {}
        for record in records:
            by_id.setdefault(record["id"], []).append(record["status"])
        for deployment_id in killed_ids:
            self.assertEqual(len(by_id.get(deployment_id, [])), 1, (deployment_id, by_id.get(deployment_id)))
        interrupted = [d for d in killed_ids if by_id[d] == ["INTERRUPTED"]]
        self.assertGreaterEqual(len(interrupted), len(killed_ids) - 2, by_id)
        self.assertEqual(marked_processes(mark), {})


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
