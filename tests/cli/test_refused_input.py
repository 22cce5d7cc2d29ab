"""Every refused input of DESIGN §3/§4: exit code, message, state byte-for-byte unchanged."""
import os
import unittest

from depctl_test import DepctlTestCase, file_backend_only


class RefusedInput(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("production")
        self.ok("service", "create", "DB", "--type", "database")
        self.ok("service", "create", "Backend", "--type", "application")
        self.ok("service", "create", "Worker", "--type", "application")

    def test_duplicate_names_in_any_letter_case(self):
        self.fails(3, "service", "create", "backend", "--type", "job", message='"Backend" already exists')
        self.fails(3, "service", "create", "  BACKEND ", "--type", "job", message="already exists")
        self.fails(3, "environment", "stage", "create", "-n", "job default", message="already exists")
        self.fails(3, "environment", "stage", "edit", "-n", "JOB DEFAULT", "--new-name", "Database Default",
                   message="already exists")
        self.fails(3, "environment", "create", "PRODUCTION", message="already exists")
        self.fails(3, "service", "edit", "Worker", "--new-name", "db", message="already exists")

    def test_invalid_names(self):
        for bad, why in [("", "is empty"), ("   ", "is empty"), ("a\x01b", "control character"),
                         ("tab\there", "control character"), ("x" * 101, "101 characters")]:
            with self.subTest(name=repr(bad)):
                self.fails(3, "service", "create", bad, "--type", "job", message=why)
                self.fails(3, "environment", "stage", "create", "-n", bad, message=why)
                self.fails(3, "environment", "create", bad, message=why)
        self.fails(3, "service", "create", "x" * 10000, "--type", "job", message="10000 characters")
        # 100 characters is the limit, not past it.
        self.ok("service", "create", "y" * 100, "--type", "job")

    def test_unknown_names_suggest_close_matches(self):
        result = self.fails(3, "environment", "stage", "move", "-n", "Backnd", "-s", "JOB DEFAULT",
                            message='service "Backnd" not found')
        self.assertIn('hint: did you mean "Backend"?', result.stderr)
        result = self.fails(3, "environment", "stage", "move", "-n", "Backend", "-s", "JOB DEFAUL",
                            message='stage "JOB DEFAUL" not found')
        self.assertIn('did you mean "JOB DEFAULT"', result.stderr)
        self.fails(3, "service", "show", "nothing-like-it", message="not found")
        self.fails(3, "environment", "stage", "list", "-e", "prod", message='environment "prod" not found')
        self.fails(3, "service", "depend", "Backend", "--on", "Dbb", message='"Dbb" not found')

    def test_non_empty_stage_delete_names_its_services(self):
        result = self.fails(3, "environment", "stage", "delete", "-n", "APPLICATION DEFAULT",
                            message='still holds 2 services (Backend, Worker)')
        self.assertIn("--move-services-to", result.stderr)
        self.fails(3, "environment", "stage", "delete", "-n", "APPLICATION DEFAULT",
                   "--move-services-to", "application default", message="into itself")

    def test_dependency_on_a_later_stage(self):
        self.fails(3, "service", "depend", "DB", "--on", "Backend", message="later stage")
        # Moving a dependency after its dependent is refused the same way.
        self.ok("service", "depend", "Backend", "--on", "DB")
        self.ok("environment", "stage", "create", "-n", "late")
        self.fails(3, "environment", "stage", "move", "-n", "DB", "-s", "late", message="later stage")
        self.fails(3, "environment", "stage", "reorder", "-n", "DATABASE DEFAULT", "--position", "4",
                   message="later stage")
        self.fails(3, "service", "delete", "DB", message="is a dependency of Backend")

    def test_cycle_is_named(self):
        self.ok("service", "create", "Api", "--type", "application")
        self.ok("service", "depend", "Backend", "--on", "Worker")
        self.ok("service", "depend", "Worker", "--on", "Api")
        result = self.fails(3, "service", "depend", "Api", "--on", "Backend", message="dependency cycle")
        rotations = ['"Api" -> "Backend" -> "Worker" -> "Api"', '"Backend" -> "Worker" -> "Api" -> "Backend"',
                     '"Worker" -> "Api" -> "Backend" -> "Worker"']
        self.assertTrue(any(r in result.stderr for r in rotations), result.stderr)
        self.fails(3, "service", "depend", "Api", "--on", "Api", message="depends on itself")
        self.fails(3, "service", "depend", "Backend", "--on", "Worker", message="already depends")

    def test_usage_errors_exit_2(self):
        self.fails(2, "environment", "stage", "frobnicate", message='unknown command "frobnicate"')
        result = self.fails(2, "environment", "stage", "lst")
        self.assertIn("did you mean `depctl environment stage list`", result.stderr)
        self.fails(2, "environment", "stage", "list", "--bogus", message="unknown option --bogus")
        self.fails(2, "environment", "stage", "create", message="--name is required")
        self.fails(2, "environment", "stage", "move", "-n", "Backend", message="--stage is required")
        self.fails(2, "service", "create", "X", message="--type is required")
        self.fails(2, "service", "create", "X", "--type", "lambda", message="unknown service type")
        self.fails(2, "environment", "stage", "edit", "-n", "JOB DEFAULT", message="nothing to change")
        self.fails(2, "environment", "stage", "reorder", "-n", "JOB DEFAULT", message="--before")
        self.fails(2, "environment", "stage", "list", "-o", "yaml")
        self.fails(2, "service", "create", "X", "--type", "job", "--retries", "many")
        self.fails(2)
        self.fails(2, "environment")

    def test_invalid_option_values(self):
        self.fails(3, "service", "create", "X", "--type", "job", "--health-http", "ftp://x",
                   message="invalid health URL")
        self.fails(3, "service", "create", "X", "--type", "job", "--retries", "-1", message="out of range")
        self.fails(3, "service", "create", "X", "--type", "job", "--build-timeout", "0", message="out of range")
        self.fails(3, "service", "create", "X", "--type", "job", "--secret", "K=plain",
                   message="invalid source")
        self.fails(3, "service", "create", "X", "--type", "job", "--env", "1BAD=x",
                   message="invalid variable name")
        self.fails(3, "service", "create", "X", "--type", "job", "--env", "DEPCTL_VERSION=x",
                   message="reserved")
        self.fails(3, "service", "create", "X", "--type", "job", "--health-http", "http://127.0.0.1/",
                   "--health-cmd", "true", message="both")
        self.fails(3, "environment", "stage", "reorder", "-n", "JOB DEFAULT", "--position", "9",
                   message="out of range")
        self.fails(3, "project", "edit", "--enforced-order", "production,staging", message="not found")

    def test_no_environment_selected(self):
        os.remove(os.path.join(self.env["XDG_CONFIG_HOME"], "depctl", "context.json"))
        self.fails(3, "environment", "stage", "list", message="no environment selected")
        self.ok("environment", "stage", "list", env={"DEPCTL_ENVIRONMENT": "production"})

    @file_backend_only("writes corrupt bytes into state.json")
    def test_corrupt_or_truncated_state(self):
        good = self.state_bytes()
        cases = {"truncated": good[: len(good) // 2], "garbage": b"\x00\xffnot json",
                 "empty": b"", "newer": good.replace(b'"schema_version": 1', b'"schema_version": 99'),
                 "dangling": good.replace(b'"stage_id": "stg_', b'"stage_id": "stg_x', 1)}
        for label, content in cases.items():
            with self.subTest(case=label):
                with open(self.state_path, "wb") as f:
                    f.write(content)
                self.fails(6, "environment", "stage", "list", message="unreadable")
                self.fails(6, "service", "create", "New", "--type", "job", message="unreadable")
                self.assertEqual(self.state_bytes(), content)
        with open(self.state_path, "wb") as f:
            f.write(cases["newer"])
        self.assertIn("newer than this depctl supports", self.run_depctl("service", "list").stderr)

    @file_backend_only("removes state.json and searches parent directories for .depctl/")
    def test_no_state_anywhere(self):
        os.remove(self.state_path)
        result = self.run_depctl("environment", "list")
        self.assertEqual(result.returncode, 6)
        self.assertIn("no depctl state found", result.stderr)
        self.assertIn("depctl init", result.stderr)

    def test_init_twice_is_refused(self):
        self.fails(3, "init", message="already exists")


if __name__ == "__main__":
    unittest.main()
