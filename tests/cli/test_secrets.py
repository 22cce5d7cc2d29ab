"""No secret value reaches any byte depctl writes (issue 7): not stdout, not stderr, not
the state, the history, the step logs, the lock files or the user's context, whatever the
path through depctl: a deploy that succeeds, one that fails in a deploy step, in a
release command, in a health check or by a timeout, a cancel, a dry run, JSON output, and
the read commands that show what was recorded.

Every step prints the secrets it receives (to stdout and to stderr, whole, inside a line,
and after a partial line) and writes a digest of them to a file outside .depctl, so each
test also proves the step did receive them: a test where nothing leaks because no step
ever saw the value would prove nothing."""
import hashlib
import json
import os
import signal
import subprocess
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase, file_backend_only

PRINT = ('printf "token=%s\\n" "$TOKEN"; echo "$TOKEN" >&2; printf "partial %s" "$DB_PASSWORD"; '
         'echo " pw=$DB_PASSWORD"; '
         # The token in two writes 0.1 s apart, so that depctl reads it in two chunks.
         'head=${TOKEN%??????????}; printf "split=%s" "$head"; sleep 0.1; printf "%s\\n" "${TOKEN#"$head"}"; '
         'printf %s "$TOKEN$DB_PASSWORD" | sha256sum >> "$PROOF"')


@file_backend_only("reads every file depctl wrote under .depctl")
class SecretsNeverWritten(DepctlTestCase):
    def setUp(self):
        super().setUp()
        digest = hashlib.sha256(self.dir.encode()).hexdigest()
        self.token = "tok-" + digest[:20]
        self.password = "pw-" + digest[20:40]
        self.secret_file = os.path.join(self.dir, "db-password")
        with open(self.secret_file, "w") as f:
            f.write(self.password + "\n")
        self.proof = os.path.join(self.dir, "proof")
        self.outputs = []
        self.init_environment("dev")

    def peek(self):
        """A command for a build step or a hook: records what it sees of both secrets and of
        the variable one is read from (builds get no --env, so the path is literal)."""
        self.peeked = os.path.join(self.dir, "peeked")
        return f'echo "${{TOKEN:-none}} ${{DB_PASSWORD:-none}} ${{API_TOKEN:-none}}" >> {self.peeked}'

    def service(self, name, *args):
        self.ok("service", "create", name, "--type", "application", "--env", f"PROOF={self.proof}",
                "--secret", "TOKEN=env:API_TOKEN", "--secret", f"DB_PASSWORD=file:{self.secret_file}", *args)

    def call(self, *args, code=0, **kwargs):
        result = self.run_depctl(*args, env={"API_TOKEN": self.token}, **kwargs)
        self.assertEqual(result.returncode, code, f"depctl {' '.join(args)}:\n{result.stdout}\n{result.stderr}")
        self.outputs += [result.stdout, result.stderr]
        return result

    def received(self):
        """How many steps received both secrets (each appended the digest of both)."""
        want = hashlib.sha256((self.token + self.password).encode()).hexdigest()
        try:
            with open(self.proof) as f:
                lines = [line.split()[0] for line in f]
        except FileNotFoundError:
            return 0
        self.assertTrue(all(line == want for line in lines), "a step received something else")
        return len(lines)

    def read_everything(self):
        """Every command that shows what was recorded, in text and in JSON."""
        self.call("environment", "status")
        self.call("environment", "status", "-o", "json")
        self.call("service", "list", "-o", "json")
        self.call("environment", "stage", "list", "-o", "json")
        for record in json.loads(self.call("deployment", "list", "--limit", "0", "-o", "json").stdout):
            self.call("deployment", "show", record["id"])
            self.call("deployment", "show", record["id"], "-o", "json")
            self.call("deployment", "logs", record["id"])
        for name in json.loads(self.call("service", "list", "-o", "json").stdout):
            self.call("service", "show", name["name"])
            self.call("service", "show", name["name"], "-o", "json")

    def assert_nothing_written(self, steps_that_received):
        self.assertGreaterEqual(self.received(), steps_that_received, "the steps never saw the secrets")
        self.read_everything()
        joined = "\n".join(self.outputs)
        # Every file, hidden ones included (a temp file, the user's ~/.config/depctl).
        files = [os.path.join(parent, name) for root in (os.path.join(self.project, ".depctl"), self.env["HOME"])
                 for parent, _, names in os.walk(root) for name in names]
        self.assertTrue(any(p.endswith(".log") for p in files), "no step log was written, so none was checked")
        self.assertTrue(any(p.endswith("context.json") for p in files), "the user config was not searched")
        # Not only whole values: any 8 characters in a row of one (a value cut at a chunk
        # boundary must not leak either half).
        windows = {value[i:i + 8] for value in (self.token, self.password) for i in range(len(value) - 7)}
        for window in windows:
            self.assertNotIn(window, joined)
        for path in files:
            with open(path, "rb") as f:
                content = f.read()
            for window in windows:
                self.assertNotIn(window.encode(), content, path)
        return joined

    # --- the paths ---------------------------------------------------------------------------
    def test_successful_deploy_in_every_output_mode(self):
        self.service("Api", "--build", self.peek(), "--release", PRINT, "--deploy", PRINT,
                     "--health-cmd", PRINT, "--stop", PRINT)
        self.ok("environment", "edit", "dev", "--pre-deploy", self.peek(), "--post-deploy", self.peek())
        self.call("environment", "deploy", "--version", "v1")
        self.call("environment", "deploy", "--version", "v2", "--follow")
        self.call("environment", "deploy", "--version", "v3", "-o", "json")
        self.call("environment", "deploy", "--version", "v4", "-o", "json", "--follow")
        self.call("environment", "deploy", "--version", "v5", "--dry-run")
        self.call("environment", "deploy", "--version", "v5", "--dry-run", "-o", "json")
        self.call("environment", "deploy", "--rollback", "--follow")
        self.call("environment", "stop", "--follow")
        joined = self.assert_nothing_written(steps_that_received=5 * 3 + 1)  # 4 deploys and a rollback: release, deploy, health; stop
        self.assertIn("token=***", joined)  # the steps printed them, depctl masked them
        self.assertIn("partial *** pw=***", joined)
        self.assertIn("split=***", joined)  # also when it came in two reads
        # Builds and hooks got neither secret, nor the variable a secret is read from.
        with open(self.peeked) as f:
            seen = f.read().splitlines()
        self.assertEqual(len(seen), 4 * 3 + 2, seen)  # 4 deploys: build and two hooks; the rollback reuses its build
        self.assertEqual(set(seen), {"none none none"})

    def test_failing_deploy_step(self):
        self.service("Api", "--deploy", PRINT + "; exit 7")
        for extra in ((), ("--follow",), ("-o", "json")):
            result = self.call("environment", "deploy", "--version", "v1", *extra, code=1)
        self.assertIn("exit", result.stdout + result.stderr)
        self.assert_nothing_written(steps_that_received=3)

    def test_failing_release_command(self):
        self.service("Api", "--release", PRINT + "; exit 3", "--deploy", "true")
        self.call("environment", "deploy", "--version", "v1", "--follow", code=1)
        self.call("environment", "deploy", "--version", "v2", code=1)
        self.assert_nothing_written(steps_that_received=2)

    def test_failing_health_check(self):
        self.service("Api", "--deploy", "true", "--health-cmd", PRINT + "; exit 1",
                     "--health-attempts", "3", "--health-interval", "0.05")
        self.call("environment", "deploy", "--version", "v1", code=1)
        self.call("environment", "deploy", "--version", "v2", "-o", "json", "--follow", code=1)
        self.assert_nothing_written(steps_that_received=6)

    def test_timed_out_step(self):
        self.service("Api", "--deploy-timeout", "1", "--deploy", PRINT + "; sleep 60")
        self.call("environment", "deploy", "--version", "v1", "--grace", "1", "--follow", code=1)
        self.assert_nothing_written(steps_that_received=1)

    def test_canceled_deploy(self):
        ready = os.path.join(self.dir, "ready")
        self.service("Api", "--deploy", PRINT + f"; touch {ready}; sleep 60")
        env = dict(self.env, API_TOKEN=self.token)
        proc = subprocess.Popen([DEPCTL, "environment", "deploy", "--version", "v1", "--follow"], cwd=self.project,
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 30
        while not os.path.exists(ready) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(os.path.exists(ready), "the step never started")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 130, err)
        self.outputs += [out, err]
        self.assert_nothing_written(steps_that_received=1)

    def test_refused_deploy_and_error_messages(self):
        # A missing secret source is refused before any step runs; the message names the
        # source, and the value of the other secret (which was readable) appears nowhere.
        self.service("Api", "--deploy", PRINT)
        self.ok("service", "edit", "Api", "--unset-secret", "TOKEN", "--secret", "TOKEN=env:NOT_SET_ANYWHERE")
        result = self.call("environment", "deploy", "--version", "v1", code=3)
        self.assertIn("NOT_SET_ANYWHERE", result.stderr)
        # A secret given where a source is expected is refused without echoing it back.
        result = self.call("service", "edit", "Api", "--secret", f"TOKEN={self.token}", code=3)
        self.assertIn('secret "TOKEN" has an invalid source (not shown', result.stderr)
        result = self.call("service", "edit", "Api", "--secret", self.token, code=3)
        self.assertIn("--secret argument (not shown) is not KEY=VALUE", result.stderr)
        # A typo in a source is shown: it names a variable or a path, not a value.
        result = self.call("service", "edit", "Api", "--secret", "TOKEN=env:1BAD", code=3)
        self.assertIn('invalid source "env:1BAD"', result.stderr)
        self.ok("service", "edit", "Api", "--unset-secret", "TOKEN", "--secret", "TOKEN=env:API_TOKEN")
        self.call("environment", "deploy", "--version", "v2")
        self.assert_nothing_written(steps_that_received=1)


if __name__ == "__main__":
    unittest.main()
