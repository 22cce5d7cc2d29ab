"""`depctl import compose` (DESIGN §8, docs/compose.md): compose files written for these tests
(tests/cli/data/compose/) are imported; each draft validates against the JSON Schema, applies,
and deploys with a `docker` test double on PATH whose recorded calls show that the order of
`up` calls respects every depends_on condition. Cycles, include and extends are refused."""
import json
import unittest
import os
import shutil

import yaml

import schema_check
from depctl_test import DepctlTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "compose")
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

# file -> (types, services left out by profiles, phrases stderr must hold)
CASES = {
    "voting.yaml": (
        {"vote": "application", "result": "application", "worker": "application",
         "redis": "database", "db": "database", "seed": "application"},
        {"seed"},
        ["service vote: left to docker compose (no depctl key): ports",
         "environment (POSTGRES_USER, POSTGRES_PASSWORD), volumes",
         "top-level `volumes` is left to docker compose", "in profiles [seed]"]),
    "flask-mariadb.yaml": (
        {"db": "database", "backend": "application", "proxy": "container"},
        set(),
        ["env_file (db.env), environment (MARIADB_ROOT_PASSWORD_FILE), secrets",
         "env_file (backend.env)", "top-level `version` is obsolete",
         "top-level `secrets` is left to docker compose"]),
    "migrations.yaml": (
        {"postgres": "database", "migrate": "job", "api": "application", "cache": "database"},
        set(),
        ["depends_on postgres: restart: true is not kept",
         "depends_on cache: required: false is not kept", "command", "deploy"]),
    "anchors.yaml": (
        {"store": "database", "api": "container", "web": "application"},
        set(),
        ["service api: left to docker compose (no depctl key): restart, networks, logging",
         "service web: left to docker compose (no depctl key): restart, networks\n"]),
    "profiles.yaml": (
        {"app": "container", "sidecar": "container", "debugger": "container", "admin": "container"},
        {"debugger", "admin"},
        ["in profiles [debug, dev]", "in profiles [admin]",
         "depends_on debugger: required: false"]),
    "wsgi.yaml": (
        {"web": "application", "proxy": "container"},
        set(),
        ["awaited as healthy without a healthcheck", "stop_signal, environment (FLASK_ENV), "
         "volumes, networks", "top-level `networks`"]),
}


def compose_edges(path):
    """[(service, dependency, condition)] as the compose file says (anchors resolved)."""
    with open(path) as f:
        doc = yaml.safe_load(f)
    edges = []
    for name, body in doc["services"].items():
        deps = body.get("depends_on") or []
        if isinstance(deps, list):
            deps = {d: {} for d in deps}
        for dep, spec in deps.items():
            edges.append((name, dep, (spec or {}).get("condition", "service_started")))
    return doc, edges


class ComposeImport(DepctlTestCase):
    def setUp(self):
        super().setUp()
        bin_dir = os.path.join(self.dir, "bin")
        os.makedirs(bin_dir)
        shutil.copy(os.path.join(HERE, "fake_docker.sh"), os.path.join(bin_dir, "docker"))
        self.log = os.path.join(self.dir, "docker.log")
        self.docker_env = {"PATH": bin_dir + os.pathsep + self.env["PATH"], "DOCKER_LOG": self.log}
        with open(os.path.join(ROOT, "docs", "depctl.schema.json")) as f:
            self.schema = json.load(f)

    def events(self):
        with open(self.log) as f:
            lines = [line.split() for line in f.read().splitlines()]
        out = []
        for words in lines:
            if words[0] == "call" and "up" in words:
                out.append(("up", words[-1]))
            elif words[0] in ("healthy", "done"):
                out.append((words[0], words[1]))
        return out

    def import_deploy_and_check(self, name):
        types, skipped, phrases = CASES[name]
        shutil.copy(os.path.join(DATA, name), os.path.join(self.project, "compose.yaml"))
        result = self.ok("import", "compose", "-o", "depctl.yaml")
        for phrase in phrases:
            self.assertIn(phrase, result.stderr)
        with open(os.path.join(self.project, "depctl.yaml")) as f:
            text = f.read()
        self.assertTrue(text.startswith("# yaml-language-server: $schema="), text)
        draft = yaml.safe_load(text)
        self.assertEqual(schema_check.errors(self.schema, draft), [], text)
        self.assertEqual({k: v["type"] for k, v in draft["services"].items()}, types)
        self.assertNotIn("not-a-real-secret", text + result.stderr)  # names only, never values
        self.ok("apply", "--yes")
        self.assertEqual(self.run_depctl("diff").returncode, 0)
        self.ok("environment", "deploy", "-e", "development", "--version", "v1", "--yes",
                env=self.docker_env)
        events = self.events()
        ups = [svc for kind, svc in events if kind == "up"]
        self.assertEqual(sorted(ups), sorted(set(types) - skipped), events)
        doc, edges = compose_edges(os.path.join(DATA, name))
        mapped = {"service_started": "started", "service_healthy": "healthy",
                  "service_completed_successfully": "completed"}
        for service, dep, condition in edges:
            drafted = draft["services"][service]["depends_on"]
            # The short form (a list) only while every edge is healthy.
            self.assertEqual("healthy" if isinstance(drafted, list) else drafted[dep],
                             mapped[condition], (service, dep))
            if service in skipped:
                continue
            with self.subTest(edge=(service, dep, condition)):
                start = events.index(("up", service))
                if dep in skipped:  # left out, as `docker compose up` leaves it out
                    self.assertNotIn(("up", dep), events)
                    continue
                self.assertLess(events.index(("up", dep)), start)
                if condition == "service_healthy":
                    self.assertLess(events.index(("healthy", dep)), start)
                if condition == "service_completed_successfully":
                    self.assertLess(events.index(("done", dep)), start)
        return draft, result

    def test_voting_app(self):
        draft, _ = self.import_deploy_and_check("voting.yaml")
        self.assertEqual([s["name"] for s in draft["stages"]],
                         ["redis + db", "vote + result + worker", "seed"])
        db = draft["services"]["db"]
        self.assertEqual(db["health"]["start_period"], 1)
        self.assertEqual(db["health"]["interval"], 0.2)
        self.assertTrue(draft["services"]["seed"]["skip"])

    def test_flask_mariadb_named_project(self):
        draft, _ = self.import_deploy_and_check("flask-mariadb.yaml")
        self.assertEqual(draft["project"], "flaskdb")
        self.assertEqual(draft["services"]["proxy"]["depends_on"], {"backend": "started"})
        self.assertEqual(draft["services"]["backend"]["depends_on"], ["db"])
        self.assertNotIn("build", draft["services"]["proxy"])

    def test_migration_job_completes_before_the_api(self):
        draft, _ = self.import_deploy_and_check("migrations.yaml")
        migrate = draft["services"]["migrate"]
        self.assertEqual(migrate["deploy"],
                         "docker compose up --no-deps --exit-code-from migrate migrate")
        health = draft["services"]["postgres"]["health"]
        self.assertEqual((health["interval"], health["start_period"]), (0.1, 60))
        self.assertEqual(health["attempts"], 1803)  # 2 retries of (0.1s + 1m30s), polled each 0.1s, + 1

    def test_anchors_merge_keys_and_extensions(self):
        draft, result = self.import_deploy_and_check("anchors.yaml")
        self.assertIn("health", draft["services"]["web"])  # healthcheck merged from an anchor
        self.assertNotIn("x-owner", result.stderr)  # extensions mean nothing, to compose too
        self.assertNotIn("<<", result.stderr)

    def test_profiles_and_disabled_healthchecks(self):
        draft, _ = self.import_deploy_and_check("profiles.yaml")
        for name in ("app", "sidecar"):
            self.assertNotIn("health", draft["services"][name])

    def test_image_healthcheck_awaited_and_other_file_name(self):
        shutil.copy(os.path.join(DATA, "wsgi.yaml"), os.path.join(self.project, "stack.yaml"))
        draft = yaml.safe_load(self.ok("import", "compose", "stack.yaml").stdout)
        self.assertEqual(draft["services"]["web"]["deploy"],
                         "docker compose -f stack.yaml up -d --no-deps web")
        self.import_deploy_and_check("wsgi.yaml")

    def test_refusals_name_the_cycle_include_and_extends(self):
        cases = {
            "cycle.yaml": r"cycle.yaml:11:18: services.c.depends_on: dependency cycle: a → b → c → a",
            "include.yaml": r"include.yaml:1:1: include: `include` is not supported",
            "extends.yaml": r"extends.yaml:4:5: services.a.extends: `extends` is not supported",
        }
        for name, pattern in cases.items():
            with self.subTest(name=name):
                shutil.copy(os.path.join(DATA, name), os.path.join(self.project, name))
                result = self.fails(3, "import", "compose", name, "-o", "depctl.yaml")
                self.assertRegex(result.stderr, pattern)
                self.assertFalse(os.path.exists(os.path.join(self.project, "depctl.yaml")))

    def test_bad_compose_input_is_refused_with_position(self):
        cases = [
            ("services:\n  a: {image: x, depends_on: [b]}\n",
             "compose.yaml:2:30: services.a.depends_on: service \"a\" depends on undefined service \"b\""),
            ("services:\n  a:\n    image: x\n    healthcheck: {interval: 90}\n",
             "compose.yaml:4:29: services.a.healthcheck.interval: expected a duration"),
            ("services:\n  a: {image: x, depends_on: {b: {condition: service_heathy}}}\n  b: {image: x}\n",
             "did you mean \"service_healthy\""),
            ("services:\n  a: {image: x}\n  A: {image: x}\n",
             "a service named \"a\" already exists"),
            ("name: p\n", "compose.yaml:1:1: services: no services to import"),
            ("services: [\n", "compose.yaml:2:1: not valid YAML"),
        ]
        for text, message in cases:
            with self.subTest(message=message):
                with open(os.path.join(self.project, "compose.yaml"), "w") as f:
                    f.write(text)
                self.fails(3, "import", "compose", message=message)
        self.fails(3, "import", "compose", "missing.yaml", message="no compose file at missing.yaml")
        os.remove(os.path.join(self.project, "compose.yaml"))
        self.fails(3, "import", "compose", message="no compose.yaml or docker-compose.yml")


if __name__ == "__main__":
    unittest.main()
