"""Issue #14 item 5: step logs are named by service id (DESIGN §2), so two services never
share a log file and every name that validates can deploy."""
import os

from depctl_test import DepctlTestCase


class LogsNamedByServiceId(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("production")

    def deploy_ok(self):
        result = self.run_depctl("environment", "deploy", "--version", "v1", "--yes")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return self.last_record()

    def test_names_that_mangled_to_the_same_file(self):
        names = ["a/b", "a_b", "\u00e9", "\u00df"]
        for name in names:
            self.ok("service", "create", name, "--type", "job", "--deploy", f"echo 'I am {name}'")
        record = self.deploy_ok()
        paths = {name: self.step(record, name, "deploy")["log"] for name in names}
        self.assertEqual(len(set(paths.values())), len(names), paths)
        for name in names:
            with open(paths[name]) as f:
                self.assertEqual(f.read(), f"I am {name}\n")
            logs = self.run_depctl("deployment", "logs", record["id"], "--service", name).stdout
            self.assertIn(f"I am {name}", logs)
            for other in names:
                if other != name:
                    self.assertNotIn(f"I am {other}\n", logs)

    def test_longest_valid_name_deploys(self):
        name = "\U0001d518" * 100  # 100 characters, 400 bytes: longer than NAME_MAX
        self.ok("service", "create", name, "--type", "job", "--deploy", "echo long")
        record = self.deploy_ok()
        step = self.step(record, name, "deploy")
        self.assertEqual(step["status"], "SUCCEEDED")
        self.assertLessEqual(len(os.path.basename(step["log"]).encode()), 255)
        self.assertIn("long", self.run_depctl("deployment", "logs", record["id"], "--service", name).stdout)
