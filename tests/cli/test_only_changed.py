"""`deploy --only-changed` and `version_from: git-tree` (DESIGN §9 "Only what changed", #16):
a service whose version and definition are those of its last successful deployment is left
out, and in a git repository a change to one service's directory deploys that service alone.
What ran is read from a file the deploy steps write, never from depctl's own account."""
import json
import os
import subprocess
import unittest

from depctl_test import DepctlTestCase


class Services(DepctlTestCase):
    """Three services whose deploy steps append "SERVICE VERSION" to a file."""

    def setUp(self):
        super().setUp()
        self.init_environment("production")
        self.runs = os.path.join(self.dir, "runs")
        # DB (stage 1) <- Api <- Web; Api and Web share the application stage.
        for name, kind in [("DB", "database"), ("Api", "application"), ("Web", "application")]:
            self.ok("service", "create", name, "--type", kind, "--deploy",
                    f'echo "$DEPCTL_SERVICE $DEPCTL_VERSION" >> {self.runs}')
        self.ok("service", "depend", "Api", "--on", "DB")
        self.ok("service", "depend", "Web", "--on", "Api")

    def ran(self):
        """The deploy steps that ran since the last call, as "SERVICE VERSION" lines."""
        if not os.path.exists(self.runs):
            return []
        with open(self.runs) as f:
            lines = f.read().splitlines()
        os.remove(self.runs)
        return lines

    def record_count(self):
        return len(self.json("deployment", "list"))

    def git(self, *args):
        subprocess.run(["git", *args], cwd=self.project, check=True, capture_output=True,
                       env={**self.env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})

    def write(self, path, text):
        full = os.path.join(self.project, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def monorepo(self):
        """A git repository with one directory per service, each taking its version from it."""
        for name, workdir in [("DB", "db"), ("Api", "services/api"), ("Web", "services/web")]:
            self.write(f"{workdir}/main.txt", f"{name} 1\n")
            self.ok("service", "edit", name, "--workdir", workdir, "--version-from", "git-tree")
        self.git("init", "-q")
        self.git("add", "db", "services")
        self.git("commit", "-q", "-m", "one")


class OnlyChanged(Services):
    def test_unchanged_services_are_left_out_and_the_dry_run_says_why(self):
        self.ok("environment", "deploy", "--version", "v1")
        self.assertEqual(sorted(self.ran()), ["Api v1", "DB v1", "Web v1"])
        self.ok("service", "edit", "Web", "--env", "COLOR=blue")
        plan = self.json("environment", "deploy", "--dry-run", "--only-changed", "--version", "v1")
        planned = {s["name"]: s for st in plan["stages"] for s in st["services"]}
        self.assertEqual(list(planned), ["Web"])
        self.assertEqual(planned["Web"]["change"], "definition changed: env")
        unchanged = [n for st in plan["stages"] for n in st["unchanged"]]
        self.assertEqual(sorted(unchanged), ["Api", "DB"])
        left_out = " ".join(x for st in plan["stages"] for x in st["left_out"])
        self.assertRegex(left_out, r"DB \(unchanged since dep_\w+, version v1\)")
        text = self.ok("environment", "deploy", "--dry-run", "--only-changed", "--version", "v1")
        self.assertIn("(definition changed: env)", text.stdout)
        self.assertIn("Api (unchanged since dep_", text.stdout)

        self.ok("environment", "deploy", "--only-changed", "--version", "v1")
        self.assertEqual(self.ran(), ["Web v1"])
        record = self.last_record()
        self.assertEqual([s["name"] for st in record["stages"] for s in st["services"]], ["Web"])
        # A new version changes every fingerprint.
        self.ok("environment", "deploy", "--only-changed", "--version", "v2")
        self.assertEqual(sorted(self.ran()), ["Api v2", "DB v2", "Web v2"])

    def test_nothing_changed_runs_and_records_nothing(self):
        self.ok("environment", "deploy", "--version", "v1")
        self.ran()
        records = self.record_count()
        before = self.state_bytes()
        result = self.ok("environment", "deploy", "--only-changed", "--version", "v1")
        self.assertIn("Nothing to deploy", result.stdout)
        self.assertEqual(self.ran(), [])
        self.assertEqual(self.record_count(), records)
        self.assertEqual(self.state_bytes(), before)
        event = json.loads(self.ok("environment", "deploy", "--only-changed", "--version", "v1",
                                   "-o", "json").stdout)
        self.assertEqual(event["event"], "nothing_changed")

    def test_a_service_that_failed_or_was_stopped_is_deployed_again(self):
        self.ok("service", "edit", "Web", "--stop", "true")
        self.ok("environment", "deploy", "--version", "v1")
        self.ok("environment", "stop", "--services", "Web")
        self.ran()
        plan = self.json("environment", "deploy", "--dry-run", "--only-changed", "--version", "v1")
        planned = {s["name"]: s["change"] for st in plan["stages"] for s in st["services"]}
        self.assertEqual(planned, {"Web": "its status is STOPPED"})
        self.ok("service", "edit", "Api", "--deploy", "exit 3")
        self.run_depctl("environment", "deploy", "--only-changed", "--version", "v1")
        self.assertEqual(self.ran(), [])  # Api failed before Web could start
        self.ok("service", "edit", "Api", "--deploy", f'echo "$DEPCTL_SERVICE $DEPCTL_VERSION" >> {self.runs}')
        self.ok("environment", "deploy", "--only-changed", "--version", "v1")
        self.assertEqual(self.ran(), ["Api v1", "Web v1"])

    def test_rollback_and_only_changed_exclude_each_other(self):
        result = self.run_depctl("environment", "deploy", "--only-changed", "--rollback")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--only-changed", result.stderr)


class GitTreeVersions(Services):
    """The issue's Done-when: after touching one service's directory in a git repository,
    --only-changed deploys only that service."""

    def test_touching_one_directory_deploys_only_that_service(self):
        self.monorepo()
        self.ok("environment", "deploy", "--only-changed", "--version", "p1")
        first = dict(line.split() for line in self.ran())
        self.assertEqual(sorted(first), ["Api", "DB", "Web"])
        # Each version is its directory's git tree hash (12 hex digits).
        tree = subprocess.run(["git", "rev-parse", "HEAD:services/api"], cwd=self.project,
                              capture_output=True, text=True, check=True).stdout.strip()
        self.assertEqual(first["Api"], tree[:12])
        self.assertEqual(len({first["Api"], first["Web"], first["DB"]}), 3)
        status = {s["name"]: s["version"] for s in self.json("environment", "status")["services"]}
        self.assertEqual(status, first)

        # A new project version changes nothing for git-tree services.
        self.assertIn("Nothing to deploy",
                      self.ok("environment", "deploy", "--only-changed", "--version", "p2").stdout)
        # An uncommitted edit in one directory: that service alone, at a new version.
        self.write("services/api/main.txt", "Api 2\n")
        plan = self.json("environment", "deploy", "--dry-run", "--only-changed")
        planned = {s["name"]: s for st in plan["stages"] for s in st["services"]}
        self.assertEqual(list(planned), ["Api"])
        self.assertRegex(planned["Api"]["change"], r"^version [0-9a-f]{12} -> [0-9a-f]{12}$")
        self.assertEqual(sorted(n for st in plan["stages"] for n in st["unchanged"]), ["DB", "Web"])
        self.ok("environment", "deploy", "--only-changed")
        (line,) = self.ran()
        self.assertTrue(line.startswith("Api ") and line != f"Api {first['Api']}", line)
        # Committing the edit does not change the tree: nothing to deploy.
        self.git("commit", "-q", "-am", "two")
        self.assertIn("Nothing to deploy", self.ok("environment", "deploy", "--only-changed").stdout)
        # A new untracked file counts; an ignored one does not.
        self.write(".gitignore", "*.log\n")
        self.write("services/web/debug.log", "x\n")
        self.assertIn("Nothing to deploy", self.ok("environment", "deploy", "--only-changed").stdout)
        self.write("services/web/new.txt", "x\n")
        self.ok("environment", "deploy", "--only-changed")
        self.assertEqual([line.split()[0] for line in self.ran()], ["Web"])

    def test_the_users_index_is_left_alone(self):
        self.monorepo()
        self.write("services/api/main.txt", "Api 2\n")
        index = os.path.join(self.project, ".git", "index")
        with open(index, "rb") as f:
            before = f.read()
        self.ok("environment", "deploy", "--version", "p1")
        with open(index, "rb") as f:
            self.assertEqual(f.read(), before)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=self.project,
                                capture_output=True, text=True, check=True).stdout
        self.assertIn(" M services/api/main.txt", status)

    def test_outside_a_git_repository_the_deploy_is_refused(self):
        self.write("services/api/main.txt", "x\n")
        self.ok("service", "edit", "Api", "--workdir", "services/api", "--version-from", "git-tree")
        result = self.fails(3, "environment", "deploy", "--version", "p1",
                            message='cannot take the version of service "Api" from its git tree')
        self.assertEqual(self.ran(), [])
        self.assertIn("not a git repository", result.stderr)
        self.fails(3, "environment", "deploy", "--dry-run", "--version", "p1",
                   message="from its git tree")

    def test_a_missing_workdir_is_refused(self):
        self.monorepo()
        self.ok("service", "edit", "Web", "--workdir", "services/gone")
        self.fails(3, "environment", "deploy", "--version", "p1",
                   message='"services/gone" is not a directory')

    def test_version_from_is_checked_shown_and_round_trips_through_the_file(self):
        self.fails(2, "service", "edit", "Api", "--version-from", "git-trees")
        self.ok("service", "edit", "Api", "--version-from", "GIT-TREE")
        self.assertEqual(self.json("service", "show", "Api")["version_from"], "git-tree")
        self.assertIn("Version from: git-tree", self.ok("service", "show", "Api").stdout)
        exported = self.ok("export").stdout
        self.assertIn("version_from: git-tree", exported)
        self.ok("service", "edit", "Api", "--version-from", "project")
        self.assertNotIn("version_from", self.ok("export").stdout)
        # The file's key: checked against its values, applied, exported back.
        path = os.path.join(self.dir, "depctl.yaml")
        with open(path, "w") as f:
            f.write(exported.replace("version_from: git-tree", "version_from: git-three"))
        result = self.fails(3, "apply", "-f", path, "--yes")
        self.assertIn("version_from", result.stderr)
        self.assertIn("git-tree", result.stderr)  # did you mean
        with open(path, "w") as f:
            f.write(exported)
        self.ok("apply", "-f", path, "--yes")
        self.assertEqual(self.json("service", "show", "Api")["version_from"], "git-tree")
        schema = json.loads(self.ok("schema").stdout)
        self.assertIn("git-tree", json.dumps(schema))


if __name__ == "__main__":
    unittest.main()
