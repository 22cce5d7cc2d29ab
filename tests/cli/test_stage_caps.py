"""A stage's max_parallel (DESIGN §9, per-stage caps): at most N of its services in their
release/deploy/health steps at once, below --parallelism; set from the CLI and the file."""
import os
import unittest

from depctl_test import DepctlTestCase

# Each deploy marks itself running, counts who else runs, holds a moment, and unmarks.
# The count is what the test checks: it is the number of services rolling out together.
PROBE = ("mkdir -p ../running; touch ../running/$DEPCTL_SERVICE; "
         "ls ../running | wc -l >> ../counts; sleep 0.3; rm ../running/$DEPCTL_SERVICE")


class StageCaps(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("dev")
        self.ok("environment", "stage", "create", "-n", "migrations", "--before", "DATABASE DEFAULT",
                "--max-parallel", "1")
        os.makedirs(os.path.join(self.project, "work"))
        for name in ("m1", "m2", "m3", "m4"):
            self.ok("service", "create", name, "--type", "job", "--workdir", "work", "--deploy", PROBE)
            self.ok("environment", "stage", "move", "-n", name, "-s", "migrations")

    def counts(self):
        path = os.path.join(self.project, "counts")
        with open(path) as f:
            values = [int(line) for line in f]
        os.unlink(path)
        return values

    def test_cap_of_one_runs_the_stage_one_service_at_a_time(self):
        self.ok("environment", "deploy", "--version", "v1", "-j", "4")
        self.assertEqual(self.counts(), [1, 1, 1, 1])

    def test_cap_of_two_and_no_cap(self):
        self.ok("environment", "stage", "edit", "-n", "migrations", "--max-parallel", "2")
        self.ok("environment", "deploy", "--version", "v1", "-j", "4")
        counts = self.counts()
        self.assertEqual(len(counts), 4)
        self.assertLessEqual(max(counts), 2)
        # Without the cap the same stage runs wider: the check above can fail.
        self.ok("environment", "stage", "edit", "-n", "migrations", "--max-parallel", "0")
        self.assertIsNone(self.json("environment", "stage", "list")[0]["max_parallel"])
        for attempt in range(5):  # 4 services sleeping 0.3 s at -j 4: they overlap
            self.ok("environment", "deploy", "--version", f"v{attempt + 2}", "-j", "4")
            if max(self.counts()) > 2:
                break
        else:
            self.fail("four uncapped services never ran more than two at a time")

    def test_shown_in_the_stage_list_and_the_dry_run(self):
        listing = self.ok("environment", "stage", "list").stdout
        self.assertIn('# deployment stage 1: "migrations" (at most 1 at a time)', listing)
        self.assertEqual(self.json("environment", "stage", "list")[0]["max_parallel"], 1)
        plan = self.ok("environment", "deploy", "--version", "v1", "--dry-run").stdout
        self.assertIn('# deployment stage 1: "migrations" (at most 1 at a time)', plan)
        self.assertEqual(self.json("environment", "deploy", "--version", "v1", "--dry-run")["stages"][0]
                         ["max_parallel"], 1)

    def test_out_of_range_is_refused_and_changes_nothing(self):
        self.fails(2, "environment", "stage", "edit", "-n", "migrations", "--max-parallel", "-1")
        self.fails(2, "environment", "stage", "edit", "-n", "migrations", "--max-parallel", "1025")
        self.fails(2, "environment", "stage", "create", "-n", "x", "--max-parallel", "many")

    def test_from_the_file_and_back(self):
        exported = self.ok("export").stdout
        self.assertIn("max_parallel: 1", exported)
        with open(os.path.join(self.project, "depctl.yaml"), "w") as f:
            f.write(exported.replace("max_parallel: 1", "max_parallel: 3"))
        diff = self.run_depctl("diff")
        self.assertEqual(diff.returncode, 1, diff.stderr)  # 1: the file differs
        self.assertIn("max_parallel 1 → 3", diff.stdout)
        self.ok("apply", "--yes")
        self.assertEqual(self.json("environment", "stage", "list")[0]["max_parallel"], 3)
        with open(os.path.join(self.project, "depctl.yaml"), "w") as f:
            f.write(exported.replace("max_parallel: 1", "max_parallel: 0"))
        result = self.fails(3, "apply", "--yes")
        self.assertRegex(result.stderr, r"depctl\.yaml:\d+:\d+")


if __name__ == "__main__":
    unittest.main()
