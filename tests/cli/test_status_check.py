"""`environment status --check` (DESIGN §9 "Honest status"): each service's health check
run once, now, beside what was deployed; real HTTP servers on 127.0.0.1 and real commands."""
import json
import os
import unittest

from depctl_test import DepctlTestCase
from http_fixture import ScriptedServer, closed_port


class StatusCheck(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("dev")
        self.up = ScriptedServer([200])
        self.addCleanup(self.up.close)
        self.failing = ScriptedServer([503])
        self.addCleanup(self.failing.close)
        self.flag = os.path.join(self.dir, "worker-running")
        self.seen = os.path.join(self.dir, "seen")
        self.ok("service", "create", "web", "--type", "application", "--deploy", "true",
                "--health-http", self.up.url, "--health-attempts", "1")
        self.ok("service", "create", "api", "--type", "application", "--deploy", "true")
        self.ok("service", "create", "worker", "--type", "application", "--deploy", "true",
                "--env", "MODE=fast", "--secret", "TOKEN=env:WORKER_TOKEN",
                "--health-cmd", f'echo "$DEPCTL_VERSION $MODE $TOKEN" > {self.seen}; test -e {self.flag}')
        self.ok("service", "create", "plain", "--type", "application", "--deploy", "true")  # no check
        open(self.flag, "w").close()
        self.ok("environment", "deploy", "--version", "v1", env={"WORKER_TOKEN": "s3cr3t-value"})
        os.remove(self.flag)  # the worker stopped since

    def checked(self, *, env=None):
        before = self.state_bytes()
        history = self.json("deployment", "list")
        result = self.run_depctl("environment", "status", "--check", "-o", "json", env=env)
        self.assertEqual(self.state_bytes(), before, "a check changed the state")
        self.assertEqual(self.json("deployment", "list"), history, "a check wrote history")
        self.assertNotIn("s3cr3t-value", result.stdout + result.stderr)
        view = json.loads(result.stdout)
        return result.returncode, {s["name"]: (s["status"], s["check"], s["check_detail"]) for s in view["services"]}

    def test_up_down_and_unchecked_beside_what_was_deployed(self):
        token = {"WORKER_TOKEN": "s3cr3t-value"}
        self.ok("service", "edit", "api", "--health-http", self.failing.url, "--health-attempts", "1")
        code, now = self.checked(env=token)
        self.assertEqual(code, 1)  # something is DOWN
        self.assertEqual(now["web"], ("DEPLOYED", "UP", ""))
        self.assertEqual(now["api"], ("DEPLOYED", "DOWN", "status 503"))
        self.assertEqual(now["worker"], ("DEPLOYED", "DOWN", "exit code 1"))  # not running yet
        self.assertEqual(now["plain"], ("DEPLOYED", None, "no health check"))
        # The command check ran with what its health step gets: version, env, secret.
        with open(self.seen) as f:
            self.assertEqual(f.read(), "v1 fast s3cr3t-value\n")
        # Now the worker runs and api answers: all UP, exit 0; the text has a Check column.
        open(self.flag, "w").close()
        self.ok("service", "edit", "api", "--health-http", self.up.url)
        code, now = self.checked(env=token)
        self.assertEqual(code, 0)
        self.assertEqual({n: c for n, (_, c, _) in now.items()}, {"web": "UP", "api": "UP", "worker": "UP", "plain": None})
        text = self.ok("environment", "status", "--check", env=token).stdout
        self.assertRegex(text, r"Service +\| Stage +\| Version +\| Status +\| Since +\| Check")
        self.assertRegex(text, r"plain .*\| -\n")

    def test_a_closed_port_and_a_missing_secret_are_down_with_the_reason(self):
        open(self.flag, "w").close()
        self.ok("service", "edit", "web", "--health-http", f"http://127.0.0.1:{closed_port()}/health")
        code, now = self.checked()  # WORKER_TOKEN is not set here
        self.assertEqual(code, 1)
        self.assertEqual(now["web"][1], "DOWN")
        self.assertIn("127.0.0.1 port", now["web"][2])  # curl: failed to connect
        self.assertEqual(now["worker"][1], "DOWN")
        self.assertIn("WORKER_TOKEN", now["worker"][2])
        # What is not expected to run is not probed and does not count: a stopped
        # environment is not an outage (exit 0), a never-deployed service neither.
        self.ok("service", "create", "later", "--type", "application", "--health-http", self.failing.url)
        self.ok("environment", "stop", env={"WORKER_TOKEN": "s3cr3t-value"})
        before = self.failing.requests
        code, now = self.checked()
        self.assertEqual(code, 0)
        self.assertEqual(now["web"], ("STOPPED", None, "stopped"))
        self.assertEqual(now["later"], ("NEVER_DEPLOYED", None, "never deployed"))
        self.assertEqual(self.failing.requests, before)
        # Another service's env: secret never reaches a check's command (as in a deploy).
        self.ok("service", "edit", "api", "--health-cmd", 'test -z "$WORKER_TOKEN"')
        self.ok("environment", "deploy", "--version", "v2", "--services", "api", env={"WORKER_TOKEN": "x"})
        code, now = self.checked(env={"WORKER_TOKEN": "x"})
        self.assertEqual(now["api"][1], "UP")
        # Without --check nothing is probed: no check fields, exit 0.
        before = self.up.requests
        status = self.json("environment", "status")
        self.assertNotIn("check", status["services"][0])
        self.assertEqual(self.up.requests, before)


if __name__ == "__main__":
    unittest.main()
