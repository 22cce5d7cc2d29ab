"""`latest` wherever a deployment id is taken (DESIGN §4): the newest deployment of the
environment, for every command that takes an id."""
import unittest

from depctl_test import DepctlTestCase


class Latest(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("dev")
        self.ok("service", "create", "api", "--type", "application", "--deploy", "echo deployed $DEPCTL_VERSION")

    def test_every_command_taking_an_id_takes_latest(self):
        self.ok("environment", "deploy", "--version", "v1")
        self.ok("environment", "deploy", "--version", "v2")
        newest = self.json("deployment", "list")[0]
        self.assertEqual(newest["version"], "v2")
        self.assertEqual(self.json("deployment", "show", "latest")["id"], newest["id"])
        self.assertIn("deployed v2", self.ok("deployment", "logs", "latest", "--service", "api").stdout)
        self.assertEqual(self.json("deployment", "explain", "latest")["deployment"], newest["id"])
        self.ok("deployment", "timeline", "latest", "-o", "t.svg")

    def test_latest_is_of_the_selected_environment(self):
        self.ok("environment", "create", "other")
        self.ok("environment", "deploy", "--version", "v1")
        self.fails(3, "deployment", "show", "latest", "-e", "other")
        self.fails(3, "deployment", "logs", "latest", "-e", "other")


if __name__ == "__main__":
    unittest.main()
