"""The Qovery session of seed 000, step by step, checking the stages after each step."""
import unittest

from depctl_test import DepctlTestCase

SEED_SERVICES = [("Redis", "database"), ("DB", "DATABASE"), ("Rabbitmq", "container"),
                 ("Backend", "application"), ("Frontend", "Application"),
                 ("Pablo Backend App", "application"), ("API gateway", "application")]

DEFAULT_LIST = """\
# deployment stage 1: "DATABASE DEFAULT"
Rename me to avoid default/legacy ordering

Type     | Name
DATABASE | Redis
DATABASE | DB


# deployment stage 2: "JOB DEFAULT"
Rename me to avoid default/legacy ordering

<no service>


# deployment stage 3: "CONTAINER DEFAULT"
Rename me to avoid default/legacy ordering

Type      | Name
CONTAINER | Rabbitmq


# deployment stage 4: "APPLICATION DEFAULT"
Rename me to avoid default/legacy ordering

Type        | Name
APPLICATION | Backend
APPLICATION | Frontend
APPLICATION | Pablo Backend App
APPLICATION | API gateway
"""


class SeedSession(DepctlTestCase):
    def test_qovery_session(self):
        self.init_environment("production")
        for name, kind in SEED_SERVICES:
            self.ok("service", "create", name, "--type", kind)

        # The default stages, exactly as the seed prints them.
        self.assertEqual(self.ok("environment", "stage", "list").stdout, DEFAULT_LIST)

        renames = [("DATABASE DEFAULT", "first stage"), ("JOB DEFAULT", "second stage"),
                   ("CONTAINER DEFAULT", "third stage"), ("APPLICATION DEFAULT", "fourth stage")]
        for old, new in renames:
            result = self.ok("environment", "stage", "edit", "-n", old, "--new-name", new)
            self.assertEqual(result.stdout, "Stage updated successfully\n")
        self.assertEqual(self.stages(), [
            ("first stage", ["Redis", "DB"]),
            ("second stage", []),
            ("third stage", ["Rabbitmq"]),
            ("fourth stage", ["Backend", "Frontend", "Pablo Backend App", "API gateway"]),
        ])
        text = self.ok("environment", "stage", "list").stdout
        self.assertIn('# deployment stage 1: "first stage"\n', text)
        self.assertIn('# deployment stage 4: "fourth stage"\n', text)

        result = self.ok("environment", "stage", "move", "-n", "Rabbitmq", "-s", "second stage")
        self.assertEqual(result.stdout, 'Service "Rabbitmq" moved into stage "second stage"\n')
        self.assertEqual(self.stages()[1], ("second stage", ["Rabbitmq"]))
        self.assertEqual(self.stages()[2], ("third stage", []))

        self.ok("environment", "stage", "move", "-n", "Backend", "--stage", "third stage")
        self.assertEqual(self.stages(), [
            ("first stage", ["Redis", "DB"]),
            ("second stage", ["Rabbitmq"]),
            ("third stage", ["Backend"]),
            ("fourth stage", ["Frontend", "Pablo Backend App", "API gateway"]),
        ])
        text = self.ok("environment", "stage", "list").stdout
        self.assertIn('# deployment stage 3: "third stage"\nRename me to avoid default/legacy ordering\n\n'
                      'Type        | Name\nAPPLICATION | Backend\n', text)

        # "If you want to create a new stage": appended at the end.
        self.ok("environment", "stage", "create", "-n", "fifth stage")
        self.assertEqual(self.stages()[-1], ("fifth stage", []))
        self.assertEqual(len(self.stages()), 5)

    def test_renamed_default_still_receives_its_type(self):
        self.init_environment()
        self.ok("environment", "stage", "edit", "-n", "database default", "--new-name", "data")
        self.ok("environment", "stage", "reorder", "-n", "data", "--position", "3")
        self.ok("service", "create", "PG", "--type", "database")
        self.ok("service", "create", "Chart", "--type", "helm")
        stages = dict(self.stages())
        self.assertEqual(stages["data"], ["PG"])
        self.assertEqual(stages["APPLICATION DEFAULT"], ["Chart"])  # HELM uses APPLICATION's
        # A deleted default sends its type to the last stage.
        self.ok("environment", "stage", "delete", "-n", "data", "--move-services-to", "JOB DEFAULT")
        self.ok("service", "create", "Cache", "--type", "database")
        self.assertEqual(self.stages()[-1][1][-1], "Cache")

    def test_skip_is_marked_in_the_list(self):
        self.init_environment()
        self.ok("service", "create", "Frontend", "--type", "application")
        self.ok("environment", "stage", "skip", "-n", "frontend")
        self.assertIn("APPLICATION | Frontend (skipped)\n", self.ok("environment", "stage", "list").stdout)
        self.assertEqual(self.stages()[3][1], ["Frontend (skipped)"])
        self.ok("environment", "stage", "unskip", "-n", "Frontend")
        self.assertEqual(self.stages()[3][1], ["Frontend"])

    def test_create_before_after_and_reorder(self):
        self.init_environment()
        self.ok("environment", "stage", "create", "-n", "migrations", "--before", "JOB DEFAULT",
                "-d", "schema changes")
        self.ok("environment", "stage", "create", "-n", "smoke", "--after", "DATABASE DEFAULT")
        names = [name for name, _ in self.stages()]
        self.assertEqual(names, ["DATABASE DEFAULT", "smoke", "migrations", "JOB DEFAULT",
                                 "CONTAINER DEFAULT", "APPLICATION DEFAULT"])
        self.ok("environment", "stage", "reorder", "-n", "smoke", "--after", "APPLICATION DEFAULT")
        self.ok("environment", "stage", "reorder", "-n", "migrations", "--position", "1")
        names = [name for name, _ in self.stages()]
        self.assertEqual(names, ["migrations", "DATABASE DEFAULT", "JOB DEFAULT",
                                 "CONTAINER DEFAULT", "APPLICATION DEFAULT", "smoke"])
        listing = self.json("environment", "stage", "list")
        self.assertEqual(listing[0]["description"], "schema changes")
        self.assertEqual(listing[1]["default_for"], ["DATABASE"])


if __name__ == "__main__":
    unittest.main()
