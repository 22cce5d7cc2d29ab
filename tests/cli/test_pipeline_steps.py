"""Pipeline steps and gates: HTTP/command health checks, release commands, hooks,
approval, build reuse, retries, secrets and `environment stop`."""
import glob
import hashlib
import os
import subprocess
import unittest

from depctl_test import DEPCTL, DepctlTestCase
from http_fixture import ScriptedServer, closed_port


def probes(step):
    """How many times a health step probed: `probes` when they outnumbered its attempts."""
    return step.get("probes", step.get("attempts", 1))


class PipelineSteps(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("dev")

    # --- health over HTTP, against a real server on 127.0.0.1 ------------------------------
    def http_service(self, url, *extra):
        self.ok("service", "create", "Api", "--type", "application", "--deploy", "true",
                "--health-http", url, "--health-interval", "0.05", *extra)

    def test_healthy_after_failed_attempts(self):
        server = ScriptedServer([503, 503, 502, 200])
        self.addCleanup(server.close)
        self.http_service(server.url, "--health-attempts", "10")
        self.ok("environment", "deploy", "--version", "v1")
        health = self.step(self.last_record(), "Api", "health")
        self.assertEqual(health["status"], "SUCCEEDED")
        self.assertEqual(server.requests, 4)
        # Probes 5 ms apart share a 50 ms attempt; "probes" is recorded when they outnumber it.
        self.assertEqual(probes(health), 4)
        self.assertLessEqual(health.get("attempts", 1), 4)

    def test_503_fails_after_the_configured_attempts_naming_the_status(self):
        server = ScriptedServer([503])
        self.addCleanup(server.close)
        self.http_service(server.url, "--health-attempts", "3")
        result = self.run_depctl("environment", "deploy", "--version", "v1")
        self.assertEqual(result.returncode, 1)
        record = self.last_record()
        self.assertGreaterEqual(server.requests, 3)
        self.assertEqual(server.requests, probes(self.step(record, "Api", "health")))
        self.assertEqual(record["status"], "DEPLOYMENT_ERROR")
        self.assertIn("unhealthy after 3 attempts (last: status 503)", record["failed_step"]["error"])
        self.assertIn("status 503", result.stdout)

    def test_500_is_healthy_by_default_but_not_with_an_expect_range(self):
        server = ScriptedServer([500])
        self.addCleanup(server.close)
        self.http_service(server.url, "--health-attempts", "2")
        self.ok("environment", "deploy", "--version", "v1")
        self.ok("service", "edit", "Api", "--health-expect", "200-399")
        self.assertEqual(self.run_depctl("environment", "deploy", "--version", "v2").returncode, 1)

    def test_connection_failures_count_as_attempts(self):
        self.http_service(f"http://127.0.0.1:{closed_port()}/health", "--health-attempts", "3")
        result = self.run_depctl("environment", "deploy", "--version", "v1")
        self.assertEqual(result.returncode, 1)
        health = self.step(self.last_record(), "Api", "health")
        self.assertEqual(health["attempts"], 3)
        self.assertRegex(health["error"], r"unhealthy after 3 attempts \(last: .*(onnect|refused)")

    def test_health_command(self):
        counter = os.path.join(self.dir, "count")
        self.ok("service", "create", "Worker", "--type", "job", "--deploy", "true",
                "--health-cmd", f"echo x >> {counter}; test $(wc -l < {counter}) -ge 3",
                "--health-interval", "0.05")
        self.ok("environment", "deploy", "--version", "v1")
        self.assertEqual(probes(self.step(self.last_record(), "Worker", "health")), 3)

    # --- release commands and hooks --------------------------------------------------------
    def test_release_failure_stops_before_deploy(self):
        marker = os.path.join(self.dir, "deployed")
        self.ok("service", "create", "Api", "--type", "application", "--build", "true",
                "--release", "echo migrating; exit 4", "--deploy", f"touch {marker}")
        self.assertEqual(self.run_depctl("environment", "deploy", "--version", "v1").returncode, 1)
        record = self.last_record()
        self.assertEqual(record["status"], "DEPLOYMENT_ERROR")
        self.assertEqual(record["failed_step"]["step"], "release")
        self.assertFalse(os.path.exists(marker))

    def test_hooks_run_before_and_after(self):
        log = os.path.join(self.dir, "order")
        self.ok("service", "create", "Api", "--type", "application", "--deploy", f"echo deploy >> {log}")
        self.ok("environment", "edit", "dev", "--pre-deploy", f"echo pre $DEPCTL_VERSION >> {log}",
                "--post-deploy", f"echo post >> {log}")
        self.ok("environment", "deploy", "--version", "v7")
        with open(log) as f:
            self.assertEqual(f.read().split("\n"), ["pre v7", "deploy", "post", ""])
        self.ok("environment", "edit", "dev", "--pre-deploy", "exit 9")
        self.assertEqual(self.run_depctl("environment", "deploy", "--version", "v8").returncode, 1)
        with open(log) as f:
            self.assertNotIn("v8", f.read())
        self.assertEqual(self.last_record()["hooks"][0]["status"], "FAILED")

    # --- approval ---------------------------------------------------------------------------
    def test_approval_without_tty_needs_yes(self):
        marker = os.path.join(self.dir, "deployed")
        self.ok("service", "create", "Api", "--type", "application", "--deploy", f"touch {marker}")
        self.ok("environment", "edit", "dev", "--require-approval", "on")
        result = self.run_depctl("environment", "deploy", "--version", "v1")
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertIn("requires approval", result.stderr)
        self.assertFalse(os.path.exists(marker))
        self.assertEqual(self.json("deployment", "list"), [])
        self.ok("environment", "deploy", "--version", "v1", "--yes")
        self.assertTrue(os.path.exists(marker))

    def test_approval_prompt_on_a_pseudo_terminal(self):
        marker = os.path.join(self.dir, "deployed")
        self.ok("service", "create", "Api", "--type", "application", "--deploy", f"touch {marker}")
        self.ok("environment", "edit", "dev", "--require-approval", "on")
        for answer, code in [("no", 5), ("yes", 0)]:
            # `script` gives depctl a real pseudo-terminal; the answer is typed into it.
            result = subprocess.run(
                ["script", "-qec", f"{DEPCTL} environment deploy --version v1", "/dev/null"],
                input=answer + "\n", cwd=self.project, env=self.env, capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, code, result.stdout + result.stderr)
            self.assertIn("requires approval", result.stdout)
            self.assertIn("Api: deploy", result.stdout)  # the plan was shown
            self.assertIn('Plan: deploy of environment "dev", version v1', result.stdout)
            self.assertNotIn("Dry run", result.stdout)  # answering yes does run it
            self.assertNotIn("Nothing was run", result.stdout)
            self.assertEqual(os.path.exists(marker), code == 0)
        # With a deployment behind it, the plan at the question carries the estimate too.
        result = subprocess.run(
            ["script", "-qec", f"{DEPCTL} environment deploy --version v2", "/dev/null"],
            input="no\n", cwd=self.project, env=self.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 5, result.stdout + result.stderr)
        self.assertIn("Estimated time:", result.stdout)

    # --- build reuse ------------------------------------------------------------------------
    def test_build_reused_across_environments_and_force_build(self):
        counter = os.path.join(self.dir, "builds")
        self.ok("service", "create", "Api", "--type", "application",
                "--build", f"echo $DEPCTL_VERSION >> {counter}", "--deploy", "true")
        self.ok("environment", "create", "staging", "--clone-from", "dev")
        self.ok("environment", "deploy", "--version", "v1")
        plan = self.json("environment", "deploy", "-e", "staging", "--dry-run", "--version", "v1")
        self.assertEqual(plan["stages"][3]["services"][0]["steps"], ["build (reused)", "deploy"])
        out = self.ok("environment", "deploy", "-e", "staging", "--version", "v1").stdout
        self.assertIn("Api build reused", out)
        with open(counter) as f:
            self.assertEqual(f.read(), "v1\n")  # built once for two environments
        self.assertEqual(self.step(self.last_record("staging"), "Api", "build")["status"], "REUSED")
        self.ok("environment", "deploy", "-e", "staging", "--version", "v1", "--force-build")
        with open(counter) as f:
            self.assertEqual(f.read(), "v1\nv1\n")
        self.ok("environment", "deploy", "--version", "v2")
        with open(counter) as f:
            self.assertEqual(f.read(), "v1\nv1\nv2\n")  # a new version builds again

    def test_builds_get_no_environment_variables_or_secrets(self):
        out = os.path.join(self.dir, "build-env")
        self.ok("service", "create", "Api", "--type", "application", "--env", "PLAIN=1",
                "--secret", "TOKEN=env:MY_TOKEN", "--build", f"env > {out}", "--deploy", "true")
        self.ok("environment", "deploy", "--version", "v1", env={"MY_TOKEN": "tok-123456"})
        with open(out) as f:
            build_env = f.read()
        names = {line.split("=", 1)[0] for line in build_env.splitlines()}
        self.assertNotIn("PLAIN", names)
        self.assertNotIn("TOKEN", names)
        self.assertNotIn("MY_TOKEN", names)  # a secret's source variable is not inherited either
        self.assertNotIn("tok-123456", build_env)
        self.assertNotIn("DEPCTL_ENVIRONMENT", names)
        self.assertIn("DEPCTL_VERSION=v1", build_env)

    # --- retries ----------------------------------------------------------------------------
    def test_retries_a_failing_deploy(self):
        counter = os.path.join(self.dir, "tries")
        self.ok("service", "create", "Api", "--type", "application", "--retries", "2",
                "--deploy", f"echo x >> {counter}; test $(wc -l < {counter}) -ge 2")
        self.ok("environment", "deploy", "--version", "v1")
        self.assertEqual(self.step(self.last_record(), "Api", "deploy")["attempts"], 2)

    # --- secrets ----------------------------------------------------------------------------
    def test_secret_never_written_but_received(self):
        secret = "s3cr3t-" + hashlib.sha256(self.dir.encode()).hexdigest()[:16]
        proof = os.path.join(self.dir, "proof")
        secret_file = os.path.join(self.dir, "db-password")
        with open(secret_file, "w") as f:
            f.write("pw-from-file-XYZ\n")
        self.ok("service", "create", "Api", "--type", "application", "--secret", "TOKEN=env:API_TOKEN",
                "--secret", "DB_PASSWORD=file:" + secret_file, "--build", "echo building",
                "--deploy", f'echo "token is $TOKEN, pw $DB_PASSWORD"; '
                            f'printf %s "$TOKEN" | sha256sum > {proof}; echo "$TOKEN" >&2',
                "--health-cmd", 'echo "health sees $TOKEN"', "--stop", 'echo "stop sees $TOKEN"')
        outputs = []
        for args in [("environment", "deploy", "--version", "v1", "--follow"),
                     ("environment", "deploy", "--version", "v2", "-o", "json", "--follow"),
                     ("environment", "deploy", "--version", "v3", "--dry-run"),
                     ("service", "show", "Api"), ("service", "show", "Api", "-o", "json"),
                     ("environment", "stop", "--follow")]:
            result = self.run_depctl(*args, env={"API_TOKEN": secret})
            self.assertEqual(result.returncode, 0, result.stderr)
            outputs += [result.stdout, result.stderr]
        with open(proof) as f:
            self.assertEqual(f.read().split()[0], hashlib.sha256(secret.encode()).hexdigest())
        joined = "\n".join(outputs)
        self.assertIn("token is ***, pw ***", joined)  # the step printed it, depctl masked it
        for value in (secret, "pw-from-file-XYZ"):
            self.assertNotIn(value, joined)
            for path in glob.glob(os.path.join(self.project, ".depctl", "**"), recursive=True):
                if os.path.isfile(path):
                    with open(path, "rb") as f:
                        self.assertNotIn(value.encode(), f.read(), path)
        logs = self.ok("deployment", "logs", self.json("deployment", "list")[1]["id"], "--service", "Api",
                       "--step", "deploy").stdout
        self.assertIn("token is ***", logs)

    def test_missing_secret_source_fails_before_any_step(self):
        marker = os.path.join(self.dir, "built")
        self.ok("service", "create", "Api", "--type", "application", "--build", f"touch {marker}",
                "--secret", "TOKEN=env:NOT_SET_ANYWHERE")
        result = self.fails(3, "environment", "deploy", "--version", "v1", message="NOT_SET_ANYWHERE")
        self.assertFalse(os.path.exists(marker))
        self.ok("service", "edit", "Api", "--unset-secret", "TOKEN", "--secret", "TOKEN=file:/nonexistent/x")
        self.fails(3, "environment", "deploy", "--version", "v1", message="/nonexistent/x")
        self.assertEqual(self.json("deployment", "list"), [])

    # --- stop -------------------------------------------------------------------------------
    def test_stop_runs_in_reverse_stage_order(self):
        timeline = os.path.join(self.dir, "timeline")
        stamp = lambda name: (f'echo "{name} start $(date +%s.%N)" >> {timeline}; sleep 0.3; '
                              f'echo "{name} end $(date +%s.%N)" >> {timeline}')
        for name, kind in [("DB", "database"), ("Cache", "database"), ("Queue", "container"),
                           ("Api", "application"), ("Web", "application")]:
            self.ok("service", "create", name, "--type", kind, "--deploy", "true", "--stop", stamp(name))
        self.ok("environment", "deploy", "--version", "v1")
        self.ok("environment", "stop")
        spans = {}
        with open(timeline) as f:
            for line in f:
                name, what, at = line.split()
                spans.setdefault(name, {})[what] = float(at)
        apps_end = max(spans[n]["end"] for n in ["Api", "Web"])
        self.assertGreaterEqual(spans["Queue"]["start"], apps_end)
        for db in ["DB", "Cache"]:
            self.assertGreaterEqual(spans[db]["start"], spans["Queue"]["end"])
        self.assertLess(spans["Api"]["start"], spans["Web"]["end"])  # parallel within a stage
        self.assertLess(spans["Web"]["start"], spans["Api"]["end"])
        statuses = {s["name"]: s["status"] for s in self.json("environment", "status")["services"]}
        self.assertEqual(set(statuses.values()), {"STOPPED"})
        self.assertEqual(self.json("deployment", "list")[0]["status"], "STOPPED")


if __name__ == "__main__":
    unittest.main()
