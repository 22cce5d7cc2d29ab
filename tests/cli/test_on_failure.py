"""`environment deploy --on-failure rollback` (DESIGN §9, #16): when a deployment fails, the
services whose release or deploy step ran go back to their previous version AND definition,
dependents first, under the same lock; one ROLLED_BACK record holds both halves. Proven from
what the steps themselves write."""
import json
import os
import signal
import subprocess
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase, file_backend_only
from test_deploy import processes_with, wait_for


class OnFailureRollback(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("production")
        self.runs = os.path.join(self.dir, "runs")
        self.builds = os.path.join(self.dir, "builds")
        # DB (stage 1) <- Api <- Web, and Web <- Worker (Api, Web, Worker in one stage).
        for name, kind in [("DB", "database"), ("Api", "application"), ("Web", "application")]:
            self.ok("service", "create", name, "--type", kind,
                    "--build", f'echo "$DEPCTL_SERVICE $DEPCTL_VERSION" >> {self.builds}',
                    "--deploy", self.deploy_command(), "--env", "MODE=A")
        self.ok("service", "depend", "Api", "--on", "DB")
        self.ok("service", "depend", "Web", "--on", "Api")

    def deploy_command(self):
        return f'echo "$DEPCTL_SERVICE $DEPCTL_VERSION $MODE" >> {self.runs}'

    def lines(self, path):
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.read().splitlines()

    def v1_then_v2_failing_on_web(self, *flags):
        """v1 with env A; then env B, a new Worker (with a stop command) that Web waits for,
        and a Web whose v2 deploy fails: deploy v2 with `flags`."""
        self.ok("environment", "deploy", "--version", "v1")
        for name in ("DB", "Api", "Web"):
            self.ok("service", "edit", name, "--env", "MODE=B")
        self.ok("service", "create", "Worker", "--type", "application",
                "--deploy", self.deploy_command(), "--env", "MODE=B",
                "--stop", f'echo "$DEPCTL_SERVICE stop" >> {self.runs}')
        self.ok("service", "depend", "Web", "--on", "Worker")
        self.ok("service", "edit", "Web", "--deploy", "exit 1")
        self.runs_before = len(self.lines(self.runs))
        self.builds_before = self.lines(self.builds)
        return self.run_depctl("environment", "deploy", "--version", "v2", *flags)

    def status(self):
        return {s["name"]: (s["version"], s["status"])
                for s in self.json("environment", "status")["services"]}

    def test_services_that_ran_go_back_to_v1_with_env_a_dependents_first(self):
        result = self.v1_then_v2_failing_on_web("--on-failure", "rollback")
        self.assertEqual(result.returncode, 1, result.stderr)
        runs = self.lines(self.runs)[self.runs_before:]
        forward, back = runs[:3], runs[3:]
        self.assertEqual(forward[0], "DB v2 B")
        self.assertEqual(sorted(forward[1:]), ["Api v2 B", "Worker v2 B"])
        # Web (whose deploy step ran and failed) first, then Api, then DB; Worker, new in
        # this deployment, is stopped.
        self.assertEqual(back, ["Web v1 A", "Api v1 A", "DB v1 A", "Worker stop"])
        # The builds of v1 are reused: no build of v1 ran again.
        self.assertNotIn("DB v1", self.lines(self.builds)[len(self.builds_before):])
        self.assertIn("Rolling back (--on-failure rollback)", result.stdout)
        self.assertIn("rollback DEPLOYED", result.stdout)

        record = self.last_record()
        self.assertEqual(record["status"], "ROLLED_BACK")
        self.assertEqual(record["failed_step"]["service"], "Web")
        forward_services = {s["name"]: s for st in record["stages"] for s in st["services"]}
        self.assertEqual(forward_services["Web"]["status"], "DEPLOYMENT_ERROR")
        self.assertEqual(forward_services["Api"]["definition"]["env"], {"MODE": "B"})
        rb = record["on_failure_rollback"]
        self.assertEqual(rb["status"], "DEPLOYED")
        self.assertEqual(rb["stopped"], ["Worker"])
        self.assertEqual(rb["left_as_is"], [])
        self.assertIsNone(rb["failed_step"])
        back_services = {s["name"]: s for st in rb["stages"] for s in st["services"]}
        for name in ("DB", "Api", "Web"):
            self.assertEqual(back_services[name]["version"], "v1")
            self.assertEqual(back_services[name]["status"], "DEPLOYED")
            self.assertEqual(back_services[name]["definition"]["env"], {"MODE": "A"})
        self.assertEqual(back_services["Worker"]["status"], "STOPPED")
        shown = self.ok("deployment", "show", "latest").stdout
        self.assertIn("On failure:  rollback DEPLOYED: ", shown)
        self.assertIn("Web DEPLOYED at v1", shown)

        self.assertEqual(self.status(), {"DB": ("v1", "DEPLOYED"), "Api": ("v1", "DEPLOYED"),
                                         "Web": ("v1", "DEPLOYED"), "Worker": ("v2", "STOPPED")})
        # The definitions stay the user's (B, Web's broken deploy): the next deploy runs them.
        env = self.state()["environments"][0]
        self.assertEqual({s["name"]: s["env"]["MODE"] for s in env["services"]},
                         {"DB": "B", "Api": "B", "Web": "B", "Worker": "B"})

    def test_stop_is_the_default_and_keeps_the_new_versions(self):
        result = self.v1_then_v2_failing_on_web()
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertNotIn("Worker stop", self.lines(self.runs))
        record = self.last_record()
        self.assertEqual(record["status"], "DEPLOYMENT_ERROR")
        self.assertNotIn("on_failure_rollback", record)
        self.assertEqual(self.status()["Api"], ("v2", "DEPLOYED"))
        self.assertEqual(self.status()["Web"], ("v2", "FAILED"))

    def test_json_events_show_the_rollback_phase(self):
        result = self.v1_then_v2_failing_on_web("--on-failure", "rollback", "-o", "json")
        self.assertEqual(result.returncode, 1, result.stderr)
        events = [json.loads(line) for line in result.stdout.splitlines()]
        names = [e["event"] for e in events]
        started = names.index("rollback_started")
        self.assertEqual(events[started]["stop"], ["Worker"])
        self.assertEqual({s["service"]: s["version"] for s in events[started]["redeploy"]},
                         {"DB": "v1", "Api": "v1", "Web": "v1"})
        finished = names.index("rollback_finished")
        self.assertEqual(events[finished]["status"], "DEPLOYED")
        self.assertIn("step_finished", names[started:finished])
        self.assertEqual(events[-1]["record"]["status"], "ROLLED_BACK")

    def test_deployment_logs_show_the_rollback_steps_after_the_forward_ones(self):
        self.ok("service", "edit", "Api", "--deploy", 'echo "Api deploys $DEPCTL_VERSION $MODE"')
        result = self.v1_then_v2_failing_on_web("--on-failure", "rollback")
        self.assertEqual(result.returncode, 1, result.stderr)
        text = self.ok("deployment", "logs", "latest", "--service", "Api", "--step", "deploy").stdout
        headers = [line for line in text.splitlines() if line.startswith("==> ")]
        self.assertEqual(len(headers), 2, text)
        self.assertRegex(headers[0], r"^==> Api deploy \(/")
        self.assertRegex(headers[1], r"^==> Api deploy, rolling back \(/")
        forward, back = text.split(headers[1])
        self.assertIn("Api deploys v2 B", forward)
        self.assertIn("Api deploys v1 A", back)  # v1 again, with v1's definition
        logs = self.json("deployment", "logs", "latest", "--service", "Api")
        # The v2 build ran forward; the rollback reused v1's build, so it has no build log.
        self.assertEqual([(entry["step"], entry.get("rollback", False)) for entry in logs],
                         [("build", False), ("deploy", False), ("deploy", True)])
        self.assertEqual(logs[2]["content"], "Api deploys v1 A\n")

    def test_dry_run_says_what_would_go_back(self):
        self.ok("environment", "deploy", "--version", "v1")
        v1 = self.last_record()["id"]
        self.ok("service", "create", "Cron", "--type", "application",
                "--deploy", self.deploy_command())
        before = self.state_bytes()
        text = self.ok("environment", "deploy", "--version", "v2", "--dry-run",
                       "--on-failure", "rollback").stdout
        self.assertIn("On failure (--on-failure rollback)", text)
        self.assertIn(f"Web: back to v1 with the definition of {v1}", text)
        self.assertIn("left as they are (never deployed before, no stop command): Cron", text)
        preview = self.json("environment", "deploy", "--version", "v2", "--dry-run",
                            "--on-failure", "rollback")
        self.assertEqual({s["service"] for s in preview["on_failure_rollback"]["redeploy"]},
                         {"DB", "Api", "Web"})
        self.assertEqual(self.state_bytes(), before)
        plain = self.json("environment", "deploy", "--version", "v2", "--dry-run")
        self.assertNotIn("on_failure_rollback", plain)

    def test_a_failing_rollback_is_said_loudly_and_not_rolled_back(self):
        flag = os.path.join(self.dir, "db-refuses")
        self.ok("service", "edit", "DB", "--deploy", f"test ! -e {flag} && {self.deploy_command()}")
        self.ok("environment", "deploy", "--version", "v1")
        with open(flag, "w"):
            pass
        # v2's DB deploys (its new command ignores the flag); v1's, restored, refuses.
        self.ok("service", "edit", "DB", "--deploy", self.deploy_command())
        self.ok("service", "edit", "Web", "--deploy", "exit 1")
        result = self.run_depctl("environment", "deploy", "--version", "v2",
                                 "--on-failure", "rollback")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("its rollback ended DEPLOYMENT_ERROR (DB deploy)", result.stderr)
        record = self.last_record()
        self.assertEqual(record["status"], "DEPLOYMENT_ERROR")
        self.assertEqual(record["failed_step"]["service"], "Web")
        self.assertEqual(record["on_failure_rollback"]["status"], "DEPLOYMENT_ERROR")
        self.assertEqual(record["on_failure_rollback"]["failed_step"]["service"], "DB")

    def test_stages_of_the_rollback_keep_their_positions(self):
        # The rollback runs the stages last first; each still names its real position.
        self.v1_then_v2_failing_on_web("--on-failure", "rollback")
        layout = {s["name"]: s["position"] for s in self.json("environment", "stage", "list")}
        record = self.json("deployment", "show", "latest")
        back = record["on_failure_rollback"]["stages"]  # the redeploy's, then the stop's
        forward = record["stages"]
        self.assertGreaterEqual(len(forward), 2)
        self.assertEqual([s["name"] for s in back[:len(forward)]], [s["name"] for s in reversed(forward)])
        self.assertEqual([(s["name"], s["position"]) for s in forward + back],
                         [(s["name"], layout[s["name"]]) for s in forward + back])

    def test_a_turned_around_edge_keeps_its_condition(self):
        # Web waits for Api `started`: rolling back, Api waits for Web's deploy step only,
        # not for Web's health check, which here passes only once Api's v1 deploy ran.
        began = os.path.join(self.dir, "api-v1-began")
        armed = os.path.join(self.dir, "armed")
        self.ok("service", "depend", "Web", "--on", "Api", "--condition", "started")
        self.ok("service", "edit", "Api", "--deploy",
                f'{self.deploy_command()}; if [ "$DEPCTL_VERSION" = v1 ]; then touch {began}; fi')
        self.ok("service", "edit", "Web", "--health-cmd", f"test ! -e {armed} || test -e {began}",
                "--health-attempts", "50", "--health-interval", "0.1")
        self.ok("environment", "deploy", "--version", "v1")
        os.remove(began)
        with open(armed, "w"):
            pass
        self.ok("service", "edit", "Web", "--deploy", "exit 1")
        result = self.run_depctl("environment", "deploy", "--version", "v2", "--on-failure", "rollback")
        self.assertEqual(result.returncode, 1, result.stderr)
        record = self.last_record()
        self.assertEqual(record["on_failure_rollback"]["status"], "DEPLOYED", result.stderr)
        self.assertEqual(record["status"], "ROLLED_BACK")
        back = {s["name"]: s for st in record["on_failure_rollback"]["stages"] for s in st["services"]}
        self.assertEqual(back["Api"]["depends_on"], [{"service": "Web", "condition": "started"}])
        self.assertEqual([(step["step"], step["status"]) for step in back["Web"]["steps"]][-2:],
                         [("deploy", "SUCCEEDED"), ("health", "SUCCEEDED")])

    @file_backend_only("the room is reserved in .depctl/running")
    def test_the_room_reserved_for_the_record_holds_the_rollback_half(self):
        # Api's v1 definition is 60 KB larger than today's: the rollback half records it.
        # The running record's reserve (what a full disk leaves for the final record) must
        # hold the final record, both halves.
        self.ok("service", "edit", "Api", "--env", "BIG=" + "x" * 60000)
        self.ok("environment", "deploy", "--version", "v1")
        self.ok("service", "edit", "Api", "--unset-env", "BIG")
        reserved = os.path.join(self.dir, "reserved")
        running = os.path.join(self.project, ".depctl", "running")
        self.ok("service", "edit", "DB", "--deploy", f"cat {running}/*.json | wc -c > {reserved}")
        self.ok("service", "edit", "Web", "--deploy", "exit 1")
        result = self.run_depctl("environment", "deploy", "--version", "v2", "--on-failure", "rollback")
        self.assertEqual(result.returncode, 1, result.stderr)
        record = self.last_record()
        self.assertEqual(record["status"], "ROLLED_BACK")
        folder = os.path.join(self.project, ".depctl", "history")
        with open(os.path.join(folder, os.listdir(folder)[0]), "rb") as f:
            final = f.read().splitlines()[-1]
        self.assertIn(record["id"].encode(), final)
        self.assertGreater(len(final), 60000)
        with open(reserved) as f:
            self.assertLessEqual(len(final), int(f.read()))

    def cancel_during_rollback(self, cancel):
        """v1 (env A), then v2 (env B) whose Web fails; Web's v1 deploy, the rollback's first
        step, sleeps until `cancel(deployer)` ends it. Nothing of the rollback may run after
        that, and the record says so."""
        marker = f"depctl-rb-cancel-{os.getpid()}-{time.monotonic_ns()}"
        armed = os.path.join(self.dir, "armed")
        began = os.path.join(self.dir, "web-rollback-began")
        self.ok("service", "edit", "Web", "--deploy",
                f"{self.deploy_command()}; if [ -e {armed} ]; then touch {began}; "
                f": {marker}; sleep 60; echo Web woke >> {self.runs}; fi")
        self.ok("environment", "deploy", "--version", "v1")
        with open(armed, "w"):
            pass
        for name in ("DB", "Api", "Web"):
            self.ok("service", "edit", name, "--env", "MODE=B")
        self.ok("service", "edit", "Web", "--deploy", "exit 1")
        before = len(self.lines(self.runs))
        deployer = subprocess.Popen([DEPCTL, "environment", "deploy", "--version", "v2",
                                     "--on-failure", "rollback", "--grace", "2"],
                                    cwd=self.project, env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: deployer.poll() is not None or deployer.kill())
        wait_for(lambda: os.path.exists(began) and processes_with(marker), timeout=60)
        cancel(deployer)
        out, err = deployer.communicate(timeout=60)
        self.assertEqual(deployer.returncode, 130, out + err)
        self.assertIn("its rollback ended CANCELED", err)
        wait_for(lambda: not processes_with(marker), timeout=10)
        # Forward: DB, Api at v2 (Web failed); back: Web's v1 deploy began, then nothing.
        self.assertEqual(sorted(self.lines(self.runs)[before:]), ["Api v2 B", "DB v2 B", "Web v1 A"])
        record = self.last_record()
        self.assertEqual(record["status"], "DEPLOYMENT_ERROR")  # what the forward part did
        self.assertEqual(record["failed_step"]["service"], "Web")
        back = record["on_failure_rollback"]
        self.assertEqual(back["status"], "CANCELED")
        services = {s["name"]: s["status"] for st in back["stages"] for s in st["services"]}
        self.assertEqual(services, {"Web": "CANCELED", "Api": "NOT_STARTED", "DB": "NOT_STARTED"})
        self.assertEqual(self.status(), {"DB": ("v2", "DEPLOYED"), "Api": ("v2", "DEPLOYED"),
                                         "Web": ("v1", "CANCELED")})
        self.assertEqual(len(self.lines(self.runs)), before + 3)  # nothing ran on
        os.remove(armed)
        self.ok("service", "edit", "Web", "--deploy", self.deploy_command())
        self.ok("environment", "deploy", "--version", "v3")  # the lock is free

    def test_environment_cancel_during_the_rollback(self):
        def cancel(_deployer):
            done = self.ok("environment", "cancel")
            self.assertIn("DEPLOYMENT_ERROR", done.stdout + done.stderr)
        self.cancel_during_rollback(cancel)

    def test_sigint_during_the_rollback(self):
        self.cancel_during_rollback(lambda deployer: deployer.send_signal(signal.SIGINT))

    def test_refuses_an_unknown_mode(self):
        result = self.run_depctl("environment", "deploy", "--version", "v1", "--on-failure", "undo")
        self.assertEqual(result.returncode, 2, result.stderr)


if __name__ == "__main__":
    unittest.main()
