"""Promotion across environments: enforced order, rollback, cancel from another shell,
honest status."""
import os
import signal
import subprocess
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase
from test_deploy import processes_with, wait_for


class Promotion(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("development")
        self.builds = os.path.join(self.dir, "builds")
        self.ok("service", "create", "Api", "--type", "application",
                "--build", f"echo $DEPCTL_VERSION >> {self.builds}", "--deploy", "true")
        self.ok("environment", "create", "staging", "--clone-from", "development", "--type", "staging")
        self.ok("environment", "create", "production", "--clone-from", "staging", "--type", "production")
        self.ok("project", "edit", "--enforced-order", "development,staging,production")

    def version_of(self, env):
        return self.json("environment", "status", "-e", env)["services"][0]["version"]

    def test_walk_v1_through_and_refuse_v2_in_production(self):
        for env in ["development", "staging", "production"]:
            self.ok("environment", "deploy", "-e", env, "--version", "V1")
        self.assertEqual(self.version_of("production"), "V1")
        with open(self.builds) as f:
            self.assertEqual(f.read(), "V1\n")  # built once, reused twice

        self.ok("environment", "deploy", "-e", "development", "--version", "V2")
        result = self.fails(5, "environment", "deploy", "-e", "production", "--version", "V2",
                            message='"staging" has V1 as its latest successful deployment, not V2')
        self.assertIn("cannot deploy V2 to \"production\"", result.stderr)
        self.assertEqual(self.version_of("production"), "V1")
        plan = self.json("environment", "deploy", "-e", "production", "--version", "V2", "--dry-run")
        self.assertFalse(plan["enforced_order"]["allowed"])
        self.assertIn("staging", plan["enforced_order"]["blocking"][0])
        self.assertIn("NOT satisfied", self.ok("environment", "deploy", "-e", "production", "--version", "V2",
                                               "--dry-run").stdout)

        self.ok("environment", "deploy", "-e", "staging", "--version", "V2")
        self.ok("environment", "deploy", "-e", "production", "--version", "V2")
        self.assertEqual(self.version_of("production"), "V2")

        # Rollback: the previous successful version, without the order, reusing the build.
        self.ok("environment", "deploy", "-e", "development", "--version", "V3")
        result = self.ok("environment", "deploy", "-e", "production", "--rollback")
        self.assertIn("Api build reused", result.stdout)
        self.assertEqual(self.version_of("production"), "V1")
        record = self.json("deployment", "list", "-e", "production")[0]
        self.assertEqual(self.json("deployment", "show", record["id"])["rollback"], True)
        self.ok("environment", "deploy", "-e", "production", "--rollback", "--version", "V2")
        self.assertEqual(self.version_of("production"), "V2")
        self.fails(3, "environment", "deploy", "-e", "production", "--rollback", "--version", "V3",
                   message="never had version")

    def test_a_failed_attempt_does_not_hide_the_latest_successful_deployment(self):
        """DESIGN §5: the environments before must have V as their latest *successful*
        deployment; a newer failed one neither counts nor blocks V."""
        self.ok("environment", "deploy", "-e", "development", "--version", "V1")
        self.ok("service", "edit", "Api", "-e", "development", "--deploy", "exit 9")
        result = self.run_depctl("environment", "deploy", "-e", "development", "--version", "V2")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.ok("environment", "deploy", "-e", "staging", "--version", "V1")  # V1 is still development's
        self.fails(5, "environment", "deploy", "-e", "staging", "--version", "V2",
                   message='"development" has V1 as its latest successful deployment, not V2; '
                           'its latest deployment, of V2, ended DEPLOYMENT_ERROR')
        self.fails(5, "environment", "deploy", "-e", "production", "--version", "V2", message='"staging" has V1')

    def test_enforced_order_follows_renames_and_deletes(self):
        self.ok("environment", "edit", "staging", "--new-name", "qa")
        self.assertEqual(self.json("project", "show")["enforced_order"], ["development", "qa", "production"])
        self.fails(5, "environment", "deploy", "-e", "production", "--version", "V1", message='"qa" has no successful deployment (needs V1)')
        self.ok("environment", "delete", "qa")
        self.assertEqual(self.json("project", "show")["enforced_order"], ["development", "production"])
        self.ok("environment", "deploy", "-e", "development", "--version", "V1")
        self.ok("environment", "deploy", "-e", "production", "--version", "V1")

    def test_cancel_from_another_shell(self):
        marker = f"depctl-cancel-other-{os.getpid()}-{time.monotonic_ns()}"
        self.ok("service", "create", "Slow", "--type", "application", "-e", "development",
                "--deploy", f"sh -c 'sleep 60 # {marker}' # {marker}")
        none = self.ok("environment", "cancel", "-e", "development")
        self.assertIn("No deployment", none.stdout)
        deployer = subprocess.Popen([DEPCTL, "environment", "deploy", "-e", "development", "--version", "V1",
                                     "--grace", "2"], cwd=self.project, env=self.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: processes_with(marker))
        result = self.ok("environment", "cancel", "-e", "development", "-o", "json")
        self.assertIn('"status": "CANCELED"', result.stdout)
        deployer.communicate(timeout=30)
        self.assertEqual(deployer.returncode, 130)
        self.assertEqual(self.json("deployment", "list", "-e", "development")[0]["status"], "CANCELED")
        wait_for(lambda: not processes_with(marker), timeout=5)

    def test_mixed_versions_after_a_failure_in_stage_two(self):
        self.ok("service", "create", "DB", "--type", "database", "-e", "development", "--deploy", "true")
        self.ok("service", "create", "Jobs", "--type", "job", "-e", "development", "--deploy", "true")
        self.ok("environment", "deploy", "-e", "development", "--version", "V1")
        self.ok("service", "edit", "Jobs", "-e", "development", "--deploy", "exit 3")
        # Api's build is still running when Jobs fails: fail-fast cancels it, and Api, never
        # touched, keeps running V1.
        self.ok("service", "edit", "Api", "-e", "development", "--build", "sleep 5")
        self.assertEqual(self.run_depctl("environment", "deploy", "-e", "development", "--version", "V2").returncode, 1)
        record = self.json("deployment", "show", self.json("deployment", "list", "-e", "development")[0]["id"])
        api = [svc for st in record["stages"] for svc in st["services"] if svc["name"] == "Api"][0]
        self.assertEqual(api["status"], "NOT_STARTED")
        self.assertIn(api["steps"][0]["status"], ("CANCELED", "NOT_STARTED"))
        status = self.json("environment", "status", "-e", "development")
        by_name = {s["name"]: (s["version"], s["status"]) for s in status["services"]}
        self.assertEqual(by_name, {"Api": ("V1", "DEPLOYED"), "DB": ("V2", "DEPLOYED"),
                                   "Jobs": ("V2", "FAILED")})  # its deploy step ran (DESIGN §9)
        self.assertTrue(status["mixed_versions"])
        text = self.ok("environment", "status", "-e", "development").stdout
        self.assertIn("mixed versions: the environment runs 2 versions (V1, V2)", text)
        self.assertIn("1 failed or cancelled in their last deployment", text)

    def test_deployment_list_filters(self):
        self.ok("environment", "deploy", "-e", "development", "--version", "V1")
        self.ok("service", "edit", "Api", "-e", "development", "--deploy", "false")
        self.run_depctl("environment", "deploy", "-e", "development", "--version", "V2")
        self.assertEqual([d["version"] for d in self.json("deployment", "list", "-e", "development")], ["V2", "V1"])
        self.assertEqual(len(self.json("deployment", "list", "-e", "development", "--limit", "1")), 1)
        deployed = self.json("deployment", "list", "-e", "development", "--status", "deployed")
        self.assertEqual([d["version"] for d in deployed], ["V1"])


if __name__ == "__main__":
    unittest.main()
