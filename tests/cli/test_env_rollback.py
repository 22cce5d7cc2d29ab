"""`environment rollback` (DESIGN §9, #16): every service back to the version AND definition
it had after an earlier successful deployment, proven from what the steps themselves write."""
import json
import os
import signal
import subprocess
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase, file_backend_only
from test_deploy import processes_with, wait_for


class EnvironmentRollback(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("production")
        self.runs = os.path.join(self.dir, "runs")
        self.builds = os.path.join(self.dir, "builds")
        # DB (stage 1) <- Api <- Web (Api and Web in one stage: order from depends_on).
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

    def set_mode(self, mode, *names):
        for name in names or ("DB", "Api", "Web"):
            self.ok("service", "edit", name, "--env", f"MODE={mode}")

    def v1_v2_v3_failing(self):
        """v1 with env A, v2 with env B, v3 with env C and a broken Web: the issue's story."""
        self.ok("environment", "deploy", "--version", "v1")
        self.set_mode("B")
        self.ok("environment", "deploy", "--version", "v2")
        self.set_mode("C")
        self.ok("service", "edit", "Web", "--deploy", "exit 1")
        failed = self.run_depctl("environment", "deploy", "--version", "v3")
        self.assertEqual(failed.returncode, 1, failed.stderr)
        return [r["id"] for r in reversed(self.json("deployment", "list"))]  # oldest first

    def services_in_state(self):
        env = self.state()["environments"][0]
        return {s["name"]: s for s in env["services"]}

    def test_restores_v2_with_its_env_for_every_service_in_order_reusing_builds(self):
        ids = self.v1_v2_v3_failing()
        builds_before = self.lines(self.builds)
        runs_before = len(self.lines(self.runs))
        result = self.ok("environment", "rollback")
        # Every service ran v2 with env B, DB before Api before Web; no build ran.
        self.assertEqual(self.lines(self.runs)[runs_before:], ["DB v2 B", "Api v2 B", "Web v2 B"])
        self.assertEqual(self.lines(self.builds), builds_before)
        self.assertIn("reused", result.stdout)
        self.assertIn("are the current ones now", result.stderr)
        status = self.json("environment", "status")
        self.assertEqual({s["name"]: (s["version"], s["status"]) for s in status["services"]},
                         {n: ("v2", "DEPLOYED") for n in ("DB", "Api", "Web")})
        record = self.last_record()
        self.assertTrue(record["rollback"])
        self.assertEqual(record["rolled_back_to"], ids[1])
        self.assertEqual(record["status"], "DEPLOYED")
        for stage in record["stages"]:
            for svc in stage["services"]:
                self.assertEqual(svc["version"], "v2")
                self.assertEqual(svc["definition"]["env"], {"MODE": "B"})
        # The restored definitions are the current ones: the next deploy does not re-break.
        services = self.services_in_state()
        self.assertEqual(services["Web"]["deploy"], self.deploy_command())
        self.assertEqual({n: s["env"] for n, s in services.items()},
                         {n: {"MODE": "B"} for n in ("DB", "Api", "Web")})
        self.ok("environment", "deploy", "--version", "v4")
        self.assertEqual(self.lines(self.runs)[-3:], ["DB v4 B", "Api v4 B", "Web v4 B"])

    def test_to_by_id_and_by_version(self):
        ids = self.v1_v2_v3_failing()
        runs = len(self.lines(self.runs))
        self.ok("environment", "rollback", "--to", "v1")
        self.assertEqual(self.lines(self.runs)[runs:], ["DB v1 A", "Api v1 A", "Web v1 A"])
        self.assertEqual(self.last_record()["rolled_back_to"], ids[0])
        runs = len(self.lines(self.runs))
        self.ok("environment", "rollback", "--to", ids[1][:10], "-o", "json")
        self.assertEqual(self.lines(self.runs)[runs:], ["DB v2 B", "Api v2 B", "Web v2 B"])
        self.assertEqual(self.last_record()["rolled_back_to"], ids[1])

    def test_mixed_version_target_gives_each_service_its_own_version(self):
        self.ok("environment", "deploy", "--version", "v1")
        self.set_mode("B")
        self.ok("environment", "deploy", "--version", "v2", "--services", "Api")
        target = self.last_record()["id"]
        self.set_mode("C")
        self.ok("environment", "deploy", "--version", "v3")
        runs = len(self.lines(self.runs))
        preview = self.json("environment", "rollback", "--dry-run")
        restores = {s["service"]: s for s in preview["restores"]["services"]}
        self.assertEqual(preview["restores"]["to"], target)
        self.assertEqual({n: (s["version_now"], s["version"], s["changed"]) for n, s in restores.items()},
                         {"DB": ("v3", "v1", ["env"]), "Api": ("v3", "v2", ["env"]),
                          "Web": ("v3", "v1", ["env"])})
        self.ok("environment", "rollback")
        # DB and Web go back to v1 with env A (what they ran as of the target), Api to v2 with B.
        self.assertEqual(self.lines(self.runs)[runs:], ["DB v1 A", "Api v2 B", "Web v1 A"])
        status = self.json("environment", "status")
        self.assertEqual({s["name"]: s["version"] for s in status["services"]},
                         {"DB": "v1", "Api": "v2", "Web": "v1"})
        self.assertEqual({n: s["env"]["MODE"] for n, s in self.services_in_state().items()},
                         {"DB": "A", "Api": "B", "Web": "A"})

    def test_dry_run_writes_nothing_and_names_fields_only(self):
        ids = self.v1_v2_v3_failing()
        self.ok("service", "edit", "Api", "--env", "TOKEN=not-for-the-dry-run")
        before = self.state_bytes()
        history = self.json("deployment", "list")
        text = self.ok("environment", "rollback", "--dry-run").stdout
        self.assertIn(f'Dry run: rollback of environment "production" to deployment {ids[1]}', text)
        self.assertIn("Web: v3 -> v2, definition: deploy, env", text)  # v3 FAILED on Web
        self.assertIn("Api: v3 -> v2, definition: env", text)
        self.assertNotIn("not-for-the-dry-run", text)
        self.assertIn("Nothing was run and nothing was written.", text)
        self.json("environment", "rollback", "--dry-run")
        self.assertEqual(self.state_bytes(), before)
        self.assertEqual(self.json("deployment", "list"), history)
        self.assertEqual(len(self.lines(self.runs)), 8)  # v1, v2: 3 each; v3: DB, Api

    def test_a_service_created_after_the_target_is_left_as_it_is(self):
        self.ok("environment", "deploy", "--version", "v1")
        self.ok("environment", "deploy", "--version", "v2")
        self.ok("service", "create", "Cron", "--type", "application", "--deploy", self.deploy_command())
        self.ok("environment", "deploy", "--version", "v3")
        plan = self.ok("environment", "rollback", "--dry-run").stdout
        self.assertIn("Cron: left out (no successful deployment as of", plan)
        self.assertIn("Cron (no successful deployment as of", plan)
        runs = len(self.lines(self.runs))
        self.ok("environment", "rollback")
        self.assertEqual(self.lines(self.runs)[runs:], ["DB v2 A", "Api v2 A", "Web v2 A"])
        self.assertEqual(self.services_in_state()["Cron"]["current"]["version"], "v3")

    def test_rolling_back_again_goes_further_back_and_a_failed_rollback_is_retried(self):
        """An environment rollback stands for the deployment it restored: a second one goes one
        further back (never to what the first one left), a failed one is retried to its target."""
        ids = self.v1_v2_v3_failing()
        self.ok("environment", "rollback")  # to v2
        self.assertEqual(self.last_record()["rolled_back_to"], ids[1])
        runs = len(self.lines(self.runs))
        self.ok("environment", "rollback")  # v2 was bad too: to v1, not back to v3
        self.assertEqual(self.last_record()["rolled_back_to"], ids[0])
        self.assertEqual(self.lines(self.runs)[runs:], ["DB v1 A", "Api v1 A", "Web v1 A"])
        # A rollback that fails is retried to the same target.
        self.ok("environment", "deploy", "--version", "v5")
        good = self.last_record()["id"]
        self.ok("environment", "deploy", "--version", "v6")
        flag = os.path.join(self.dir, "db-down")
        open(flag, "w").close()
        self.ok("environment", "edit", "production", "--pre-deploy", f"test ! -e {flag}")
        self.assertEqual(self.run_depctl("environment", "rollback").returncode, 1)
        self.assertEqual(self.last_record()["rolled_back_to"], good)
        os.remove(flag)
        self.ok("environment", "rollback")
        self.assertEqual(self.last_record()["rolled_back_to"], good)
        self.assertEqual({s["version"] for s in self.json("environment", "status")["services"]}, {"v5"})

    def test_a_service_with_nothing_but_defaults_is_restored_too(self):
        self.ok("service", "create", "Bare", "--type", "container")  # no command, env or check
        self.ok("environment", "deploy", "--version", "v1")
        self.ok("environment", "deploy", "--version", "v2")
        self.assertEqual(self.step_definition("Bare"), {})  # stored, empty: not an old record
        self.ok("environment", "rollback")
        self.assertEqual({s["name"]: s["version"] for s in self.json("environment", "status")["services"]},
                         {"DB": "v1", "Api": "v1", "Web": "v1", "Bare": "v1"})

    def step_definition(self, name):
        record = self.last_record()
        return next(svc for st in record["stages"] for svc in st["services"] if svc["name"] == name)["definition"]

    def test_help_names_the_target_forms(self):
        text = self.ok("environment", "rollback", "--help").stdout
        for needle in ("--to DEPLOYMENT|latest", "--dry-run", "--wait", "--yes", "version and definition"):
            self.assertIn(needle, text)

    def test_refusals_leave_the_state_unchanged(self):
        self.fails(3, "environment", "rollback", message="no successful deployment before the current one")
        self.ok("environment", "deploy", "--version", "v1")
        self.fails(3, "environment", "rollback", message="no successful deployment before the current one")
        self.fails(3, "environment", "rollback", "--to", "v9", message='no DEPLOYED deployment of a version "v9"')
        self.ok("service", "edit", "Web", "--deploy", "exit 1")
        self.run_depctl("environment", "deploy", "--version", "v2")
        failed = self.last_record()["id"]
        self.fails(3, "environment", "rollback", "--to", failed, message="only a DEPLOYED deployment")
        self.fails(3, "environment", "rollback", "--dry-run", "--to", failed)
        self.fails(2, "environment", "rollback", "--bogus")

    @file_backend_only("rewrites the history file as an older depctl wrote it")
    def test_a_record_without_definitions_is_refused_naming_the_services(self):
        self.ok("environment", "deploy", "--version", "v1")
        self.ok("environment", "deploy", "--version", "v2")
        env_id = self.state()["environments"][0]["id"]
        path = os.path.join(self.project, ".depctl", "history", env_id + ".jsonl")
        with open(path) as f:
            lines = f.read().splitlines()
        old = []
        for line in lines:
            if line.startswith("{") and '"v1"' in line:
                record = json.loads(line)
                for stage in record["stages"]:
                    for svc in stage["services"]:
                        svc.pop("definition", None)
                line = json.dumps(record, separators=(",", ":"))
            old.append(line)
        with open(path, "w") as f:
            f.write("\n".join(old) + "\n")
        self.fails(3, "environment", "rollback", message="holds no definition of DB, Api, Web")
        self.ok("environment", "rollback", "--to", "v2")  # a record that has them


    def test_cancel_during_the_rollback_stops_it_and_records_it(self):
        # v1 (env A), v2 (env B); rolling back to v1, Api's v1 deploy sleeps until Ctrl-C.
        marker = f"depctl-envrb-cancel-{os.getpid()}-{time.monotonic_ns()}"
        armed = os.path.join(self.dir, "armed")
        began = os.path.join(self.dir, "api-began")
        self.ok("service", "edit", "Api", "--deploy",
                f"{self.deploy_command()}; if [ -e {armed} ]; then touch {began}; "
                f": {marker}; sleep 60; echo Api woke >> {self.runs}; fi")
        self.ok("environment", "deploy", "--version", "v1")
        v1 = self.last_record()["id"]
        self.set_mode("B")
        self.ok("service", "edit", "Api", "--deploy", self.deploy_command())
        self.ok("environment", "deploy", "--version", "v2")
        with open(armed, "w"):
            pass
        runs_before = len(self.lines(self.runs))
        proc = subprocess.Popen([DEPCTL, "environment", "rollback", "--yes", "--grace", "2"],
                                cwd=self.project, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is not None or proc.kill())
        wait_for(lambda: os.path.exists(began) and processes_with(marker), timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 130, out + err)
        wait_for(lambda: not processes_with(marker), timeout=10)
        # DB went back; Api's v1 deploy began and was cut; Web never started.
        self.assertEqual(self.lines(self.runs)[runs_before:], ["DB v1 A", "Api v1 A"])
        record = self.last_record()
        self.assertEqual((record["status"], record["rolled_back_to"]), ("CANCELED", v1))
        services = {s["name"]: s["status"] for st in record["stages"] for s in st["services"]}
        self.assertEqual(services, {"DB": "DEPLOYED", "Api": "CANCELED", "Web": "NOT_STARTED"})
        status = {s["name"]: (s["version"], s["status"])
                  for s in self.json("environment", "status")["services"]}
        self.assertEqual(status, {"DB": ("v1", "DEPLOYED"), "Api": ("v1", "CANCELED"),
                                  "Web": ("v2", "DEPLOYED")})
        # Only what went back has its v1 definition written back.
        state = self.services_in_state()
        self.assertEqual({name: state[name]["env"]["MODE"] for name in state},
                         {"DB": "A", "Api": "B", "Web": "B"})
        # Retried: the same target, the rest goes back.
        os.remove(armed)
        self.ok("environment", "rollback", "--yes")
        self.assertEqual(self.last_record()["rolled_back_to"], v1)
        self.assertEqual({s["name"]: s["version"] for s in self.json("environment", "status")["services"]},
                         {"DB": "v1", "Api": "v1", "Web": "v1"})


if __name__ == "__main__":
    unittest.main()
