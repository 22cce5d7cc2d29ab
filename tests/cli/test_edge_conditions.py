"""Edge conditions (DESIGN §9): what a dependent waits for — `healthy` (the other's health
step), `started` (its deploy step only), `completed` (every step of it) — proven from
timestamps the child processes write, through the CLI, the pipeline file and the records."""
import os
import unittest

import yaml

from depctl_test import DepctlTestCase


def stamped(timeline, label, seconds=0.0, then="true"):
    """Records its start and end in `timeline` around a sleep, then runs `then`."""
    return (f'echo "{label} start $(date +%s.%N)" >> {timeline}; sleep {seconds}; '
            f'echo "{label} end $(date +%s.%N)" >> {timeline}; {then}')


class EdgeConditions(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("dev")
        self.timeline = os.path.join(self.dir, "timeline")
        self.flag = os.path.join(self.dir, "web-deployed")

    def spans(self):
        """{'svc/step': (start, end)} from the timeline the commands wrote."""
        out = {}
        with open(self.timeline) as f:
            for line in f:
                label, what, at = line.split()
                start, end = out.get(label, (None, None))
                out[label] = (float(at), end) if what == "start" else (start, float(at))
        return out

    def add(self, name, kind, *extra, deploy=0.2, then="true", stage=None):
        self.ok("service", "create", name, "--type", kind,
                "--deploy", stamped(self.timeline, f"{name}/deploy", deploy, then), *extra)
        if stage:
            self.ok("environment", "stage", "move", "-n", name, "-s", stage)

    def test_started_does_not_wait_for_the_health_check(self):
        # db's health check passes only once web has deployed: had web waited for db's
        # health, the check would run out of attempts and the deployment fail.
        health = stamped(self.timeline, "db/health", 0, f"test -e {self.flag}")
        self.add("db", "container", "--health-cmd", health)
        self.add("web", "container", then=f"touch {self.flag}")
        self.ok("service", "depend", "web", "--on", "db", "--condition", "started")
        self.ok("environment", "deploy", "--version", "v1", "--yes")
        spans = self.spans()
        self.assertGreaterEqual(spans["web/deploy"][0], spans["db/deploy"][1])
        self.assertLess(spans["web/deploy"][0], spans["db/health"][1])
        record = self.json("deployment", "show", "latest")
        web = [s for st in record["stages"] for s in st["services"] if s["name"] == "web"][0]
        self.assertEqual(web["depends_on"], [{"service": "db", "condition": "started"}])
        # explain: web's deploy waited for db's deploy step, not for its health check.
        explained = self.json("deployment", "explain", "latest")
        step = [s for s in explained["steps"] if (s["service"], s["step"]) == ("web", "deploy")][0]
        db_deploy = [s for s in explained["steps"] if (s["service"], s["step"]) == ("db", "deploy")][0]
        waits = [w for w in step["waits"] if w["kind"] == "dependency"]
        self.assertEqual([(w["what"], w["condition"]) for w in waits], [("db", "started")])
        self.assertEqual(step["ready_ms"], db_deploy["end_ms"])

    def test_the_same_wait_as_healthy_fails(self):
        # The test above can fail: with the default condition web waits for db's health,
        # which waits for web, so db's health check gives up and the deployment fails.
        health = f"test -e {self.flag}"
        self.add("db", "container", "--health-cmd", health)
        self.ok("service", "edit", "db", "--health-attempts", "3", "--health-interval", "0.1")
        self.add("web", "container", then=f"touch {self.flag}")
        self.ok("service", "depend", "web", "--on", "db")
        result = self.run_depctl("environment", "deploy", "--version", "v1", "--yes")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertFalse(os.path.exists(self.flag))

    def test_completed_waits_for_every_step_of_the_job(self):
        self.ok("service", "create", "migrate", "--type", "job",
                "--release", stamped(self.timeline, "migrate/release", 0.1),
                "--deploy", stamped(self.timeline, "migrate/deploy", 0.3),
                "--health-cmd", stamped(self.timeline, "migrate/health", 0.2))
        self.ok("environment", "stage", "move", "-n", "migrate", "-s", "APPLICATION DEFAULT")
        self.add("api", "application")
        self.ok("service", "depend", "api", "--on", "migrate", "--condition", "completed")
        plan = self.ok("environment", "deploy", "--version", "v1", "--dry-run").stdout
        self.assertIn("api: deploy  (after migrate [completed])", plan)
        self.assertNotIn("warning:", plan)
        self.ok("environment", "deploy", "--version", "v1", "--yes")
        spans = self.spans()
        last = max(spans[f"migrate/{step}"][1] for step in ("release", "deploy", "health"))
        self.assertGreaterEqual(spans["api/deploy"][0], last)

    def test_a_cap_of_one_never_overlaps_even_with_started_edges(self):
        self.ok("environment", "stage", "create", "-n", "apps", "--max-parallel", "1")
        for name in ("a", "b", "c"):
            self.add(name, "container", "--health-cmd",
                     stamped(self.timeline, f"{name}/health", 0.2), stage="apps")
        self.ok("service", "depend", "b", "--on", "a", "--condition", "started")
        self.ok("service", "depend", "c", "--on", "a", "--condition", "started")
        self.ok("environment", "deploy", "--version", "v1", "-j", "4", "--yes")
        spans = self.spans()
        windows = sorted((spans[f"{n}/deploy"][0], spans[f"{n}/health"][1]) for n in "abc")
        for (_, end), (start, _) in zip(windows, windows[1:]):
            self.assertGreaterEqual(start, end, windows)

    def test_the_dry_run_warns_of_completed_on_a_service_that_is_not_a_job(self):
        self.add("api", "application")
        self.add("web", "application")
        self.ok("service", "depend", "web", "--on", "api", "--condition", "completed")
        plan = self.ok("environment", "deploy", "--version", "v1", "--dry-run").stdout
        self.assertIn("warning: web waits for api to complete, but api is an APPLICATION, "
                      "not a JOB", plan)
        data = self.json("environment", "deploy", "--version", "v1", "--dry-run")
        self.assertEqual(len(data["warnings"]), 1)
        web = data["stages"][3]["services"][1]
        self.assertEqual(web["dependencies"], [{"service": "api", "condition": "completed"}])

    def test_depend_sets_changes_and_undepend_removes_a_condition(self):
        self.add("db", "database")
        self.add("api", "application")
        self.ok("service", "depend", "api", "--on", "db", "--condition", "started")
        view = self.json("service", "show", "api")
        self.assertEqual(view["depends_on"], ["db"])
        self.assertEqual(view["dependencies"], [{"service": "db", "condition": "started"}])
        self.assertIn("db (started)", self.ok("service", "show", "api").stdout)
        # Depending again with another condition changes it; the same one is refused.
        self.ok("service", "depend", "api", "--on", "db", "--condition", "COMPLETED")
        self.assertEqual(self.json("service", "show", "api")["dependencies"][0]["condition"],
                         "completed")
        self.fails(3, "service", "depend", "api", "--on", "db", "--condition", "completed")
        self.fails(2, "service", "depend", "api", "--on", "db", "--condition", "ready")
        self.ok("service", "undepend", "api", "--on", "db")
        self.assertEqual(self.json("service", "show", "api")["dependencies"], [])

    def test_old_state_files_still_load(self):
        self.add("db", "database")
        self.add("api", "application")
        self.ok("service", "depend", "api", "--on", "db")
        state = self.state()
        api = [s for s in state["environments"][0]["services"] if s["name"] == "api"][0]
        db_id = [s["id"] for s in state["environments"][0]["services"] if s["name"] == "db"][0]
        self.assertEqual(api["depends_on"], [db_id])  # healthy: the plain id, as before
        self.ok("service", "depend", "api", "--on", "db", "--condition", "started")
        api = [s for s in self.state()["environments"][0]["services"]
               if s["name"] == "api"][0]
        self.assertEqual(api["depends_on"], [{"condition": "started", "id": db_id}])

    def test_pipeline_file_map_form_round_trip(self):
        self.add("db", "database")
        self.add("migrate", "job")
        self.add("api", "application")
        self.ok("service", "depend", "api", "--on", "db")
        # All healthy: the short form, a list.
        self.assertEqual(yaml.safe_load(self.ok("export").stdout)["services"]["api"]["depends_on"],
                         ["db"])
        self.ok("service", "depend", "api", "--on", "migrate", "--condition", "completed")
        exported = self.ok("export").stdout
        self.assertEqual(yaml.safe_load(exported)["services"]["api"]["depends_on"],
                         {"db": "healthy", "migrate": "completed"})
        path = os.path.join(self.project, "depctl.yaml")
        with open(path, "w") as f:
            f.write(exported)
        self.assertEqual(self.run_depctl("diff").returncode, 0)
        before = self.state()
        self.ok("apply", "--yes")
        self.assertEqual(self.state()["environments"], before["environments"])
        with open(path, "w") as f:
            f.write(exported.replace("migrate: completed", "migrate: started"))
        diff = self.run_depctl("diff")
        self.assertEqual(diff.returncode, 1, diff.stderr)
        self.assertIn("migrate: started", diff.stdout)
        self.ok("apply", "--yes")
        self.assertEqual(self.json("service", "show", "api")["dependencies"],
                         [{"service": "db", "condition": "healthy"},
                          {"service": "migrate", "condition": "started"}])
        with open(path, "w") as f:
            f.write(exported.replace("migrate: completed", "migrate: ready"))
        result = self.fails(3, "apply", "--yes")
        self.assertRegex(result.stderr, r"depctl\.yaml:\d+:\d+: .*unknown value \"ready\"")
        self.assertIn("completed", result.stderr)


if __name__ == "__main__":
    unittest.main()
