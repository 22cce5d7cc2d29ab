"""The pipeline file (DESIGN §8): apply, diff, export, schema; refusals with FILE:LINE:COL
leaving the state byte-for-byte unchanged; round trips; path independence; an apply racing
CLI edits; SIGKILL during applies of a large file."""
import json
import os
import random
import re
import signal
import subprocess
import threading
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase, file_backend_only

BASE = """\
project: shop
enforced_order: [development, production]
stages:
  - name: data
    description: Databases first
  - name: apps
services:
  db:
    type: database
    stage: data
    deploy: "true"
    health: { cmd: "true", attempts: 3, interval: 0.1, start_period: 2 }
  api:
    type: application
    stage: apps
    deploy: "true"
    env: { PORT: "8080" }
    secrets: { DB_PASSWORD: env:DB_PASSWORD }
    depends_on: { db: healthy }
    retries: 1
environments:
  development: {}
  production:
    type: production
    services:
      api: { env: { PORT: "80" }, retries: 2 }
"""

OTHER = """\
project: shop2
stages:
  - name: apps
  - name: data
services:
  db: { type: database, stage: data, deploy: "true" }
  web: { type: container, deploy: "true", depends_on: [db] }
environments:
  staging: { type: staging }
  development:
    stages: [{ name: apps }, { name: data }, { name: extra }]
"""


def without_ids(value):
    """The state with ids and timestamps replaced by their position, for comparing shapes."""
    text = json.dumps(value, sort_keys=True)
    ids = {}
    for found in re.findall(r'"((?:env|stg|svc|prj)_[0-9a-zA-Z]+)"', text):
        ids.setdefault(found, f"id{len(ids)}")
    for old, new in ids.items():
        text = text.replace(old, new)
    doc = json.loads(text)
    doc["project"].pop("applied_file_sha256", None)
    return doc


class PipelineFile(DepctlTestCase):
    def write(self, text, name="depctl.yaml"):
        path = os.path.join(self.project, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_apply_diff_export_round_trip(self):
        self.write(BASE)
        self.assertEqual(self.run_depctl("diff").returncode, 1)
        self.fails(5, "apply")  # no terminal and no --yes
        self.ok("apply", "--yes")
        self.assertEqual(self.ok("diff").returncode, 0)
        api = self.json("service", "show", "api", "-e", "production")
        self.assertEqual(api["retries"], 2)
        self.assertEqual(api["env"], {"PORT": "80"})
        before = self.state_bytes()
        exported = self.ok("export").stdout
        self.write(exported)
        self.assertEqual(self.run_depctl("diff").returncode, 0, self.run_depctl("diff").stdout)
        self.ok("apply", "--yes")
        self.assertEqual(without_ids(json.loads(before)), without_ids(self.state()))
        # export | apply -f - changes nothing either
        with open(os.path.join(self.project, "depctl.yaml")) as stdin:
            result = self.run_depctl("apply", "-f", "-", "--yes", stdin=stdin)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_apply_keeps_ids_and_reports_changes(self):
        self.write(BASE)
        self.ok("apply", "--yes")
        ids = {s["name"]: s["id"] for s in self.json("service", "list", "-e", "production")}
        self.write(BASE.replace("retries: 1", "retries: 4").replace("  db:\n", "  cache:\n    type: container\n    deploy: \"true\"\n  db:\n"))
        diff = self.run_depctl("diff", "-o", "json")
        self.assertEqual(diff.returncode, 1)
        changes = json.loads(diff.stdout)["changes"]
        self.assertIn({"action": "add", "kind": "service", "name": "cache", "environment": "production"}, changes)
        self.assertIn("~ service \"api\" (in \"development\"): retries 1 → 4", self.run_depctl("diff").stdout)
        self.ok("apply", "--yes")
        after = {s["name"]: s["id"] for s in self.json("service", "list", "-e", "production")}
        self.assertEqual(after["api"], ids["api"])
        self.assertEqual(after["db"], ids["db"])

    def test_apply_a_then_b_equals_b(self):
        self.write(BASE)
        self.ok("apply", "--yes")
        self.write(OTHER)
        self.ok("apply", "--yes")
        a_then_b = without_ids(self.state())
        os.remove(self.state_path)
        self.ok("apply", "--yes")
        self.assertEqual(a_then_b, without_ids(self.state()))
        self.assertEqual(self.ok("apply", "--yes").stdout.strip().split("\n")[-1][:10], "No changes")

    def test_refusals_name_line_and_column_and_change_nothing(self):
        self.write(BASE)
        self.ok("apply", "--yes")
        cases = [
            (BASE.replace("retries: 1", "retrys: 1"), r"depctl.yaml:20:5: services.api.retrys: unknown key", "did you mean \"retries\""),
            (BASE.replace("retries: 1", "retries: many"), r"depctl.yaml:20:14: services.api.retries: expected a whole number", None),
            (BASE.replace("    deploy: \"true\"\n    health", "    deploy: \"true\"\n    depends_on: [api]\n    health"),
             r"depctl.yaml:\d+:\d+: services\.\w+\.depends_on: .*(cycle|later stage|earlier)", None),
            (BASE.replace("stage: data\n", "stage: apps\n", 1).replace("stage: apps\n    deploy: \"true\"\n    env", "stage: data\n    deploy: \"true\"\n    env"),
             r"depctl.yaml:\d+:\d+: services.api.depends_on: ", None),
            (BASE.replace("  api:\n", "  API:\n    type: job\n  api:\n"), r"depctl.yaml:\d+:\d+: services.api: a service named \"API\" already exists", None),
            (BASE.replace("  - name: apps\n", "  - name: apps\n  - name: APPS\n"), r"depctl.yaml:7:11: stages\[2\].name: a stage named \"apps\" already exists", None),
            (BASE.replace("stage: apps", "stage: appz"), r"depctl.yaml:15:12: services.api.stage: stage \"appz\" not found", "did you mean"),
        ]
        for text, pattern, hint in cases:
            with self.subTest(pattern=pattern):
                self.write(text)
                result = self.fails(3, "apply", "--yes")
                self.assertRegex(result.stderr, pattern)
                if hint:
                    self.assertIn(hint, result.stderr)
                self.assertEqual(self.run_depctl("diff").returncode, 3)

    def test_schema_is_json_schema_from_the_key_table(self):
        schema = json.loads(self.ok("schema").stdout)
        self.assertEqual(schema["$schema"], "https://json-schema.org/draft/2020-12/schema")
        service = schema["properties"]["services"]["additionalProperties"]
        self.assertIn("start_period", service["properties"]["health"]["properties"])
        self.assertEqual(service["required"], ["type"])
        docs = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "depctl.schema.json")
        with open(docs) as f:
            self.assertEqual(json.load(f), schema, "docs/depctl.schema.json is stale: depctl schema > it")

    def test_cli_edit_warns_and_deploy_warns_on_drift(self):
        self.write(BASE)
        self.ok("apply", "--yes")
        edit = self.ok("service", "edit", "api", "-e", "development", "--retries", "3")
        self.assertIn("next `depctl apply` undoes this change", edit.stderr)
        deploy = self.ok("environment", "deploy", "-e", "development", "--version", "v1", "--yes",
                         env={"DB_PASSWORD": "x"})
        self.assertIn("differs from", deploy.stderr)
        self.ok("environment", "deploy", "-e", "development", "--version", "v2", "--yes", "--apply",
                env={"DB_PASSWORD": "x"})
        self.assertEqual(self.ok("diff").returncode, 0)
        self.assertEqual(self.json("service", "show", "api", "-e", "development")["current"]["version"], "v2")

    def test_diff_after_apply_sees_edits_but_not_deploys(self):
        """diff skips parsing a file whose bytes and definition match the last apply; a
        deploy (statuses) keeps that, an edit of the state or of the file does not."""
        self.write(BASE)
        self.ok("apply", "--yes")
        self.assertIn(":", self.state()["project"]["applied_file_sha256"])
        self.ok("environment", "deploy", "-e", "development", "--version", "v1", "--yes",
                env={"DB_PASSWORD": "x"})
        self.assertEqual(self.run_depctl("diff").returncode, 0)
        self.assertEqual(self.json("diff"), {"changes": [], "in_sync": True})
        self.ok("service", "edit", "db", "-e", "production", "--health-attempts", "4")
        result = self.run_depctl("diff")
        self.assertEqual(result.returncode, 1)
        self.assertIn('~ service "db" (in "production"): health.attempts 4 → 3', result.stdout)
        self.ok("apply", "--yes")
        self.write(BASE + "\n# a comment changes the bytes, not the definition\n")
        self.assertEqual(self.run_depctl("diff").returncode, 0)
        self.ok("apply", "--yes", "-e", "production")  # one environment: no whole-file mark
        self.assertNotIn(":", self.state()["project"]["applied_file_sha256"])
        self.assertEqual(self.run_depctl("diff").returncode, 0)

    def test_start_period_failures_do_not_count(self):
        self.ok("init", "--project", "p")
        self.ok("environment", "create", "dev")
        marker = os.path.join(self.dir, "ready")
        # Healthy only from the third attempt on; one attempt allowed, but the first two fall
        # inside the start period.
        check = f"n=$(cat {marker} 2>/dev/null || echo 0); echo $((n+1)) > {marker}; [ $n -ge 2 ]"
        self.ok("service", "create", "s", "--type", "container", "-e", "dev", "--deploy", "true",
                "--health-cmd", check, "--health-attempts", "1", "--health-interval", "0.1",
                "--health-start-period", "30")
        self.ok("environment", "deploy", "-e", "dev", "--version", "v1", "--yes")
        os.remove(marker)
        self.ok("service", "edit", "s", "-e", "dev", "--health-start-period", "0.0001")
        self.assertEqual(self.run_depctl("environment", "deploy", "-e", "dev", "--version", "v2", "--yes").returncode, 1)


@file_backend_only("kills and races on the file backend")
class PipelineFileStress(DepctlTestCase):
    def test_apply_racing_cli_edits_loses_nothing(self):
        path = os.path.join(self.project, "depctl.yaml")
        with open(path, "w") as f:
            f.write(BASE)
        self.ok("apply", "--yes")
        errors = []

        def edits():
            for i in range(10):
                r = self.run_depctl("service", "create", f"cli{i}", "--type", "job", "-e", "development")
                if r.returncode != 0:
                    errors.append(r.stderr)

        thread = threading.Thread(target=edits)
        thread.start()
        for _ in range(10):
            self.ok("apply", "--yes", "-e", "production")
        thread.join()
        self.assertEqual(errors, [])
        names = {s["name"] for s in self.json("service", "list", "-e", "development")}
        self.assertTrue({f"cli{i}" for i in range(10)} <= names, names)
        self.assertEqual(self.run_depctl("diff", "-e", "production").returncode, 0)

    def test_sigkill_during_applies_leaves_old_or_new(self):
        def big(retries):
            lines = ["project: big", "services:"]
            for i in range(500):
                lines += [f"  s{i}:", "    type: container", '    deploy: "true"', f"    retries: {retries}"]
            lines += ["environments:", "  prod: {}"]
            return "\n".join(lines) + "\n"

        files = [os.path.join(self.project, f"f{i}.yaml") for i in range(2)]
        for i, p in enumerate(files):
            with open(p, "w") as f:
                f.write(big(i))
        # One whole apply's duration sets the window: kills land anywhere from the start to a
        # little after the end, so some find the old state and some the new one.
        start = time.monotonic()
        self.ok("apply", "--yes", "-f", files[1])
        self.ok("apply", "--yes", "-f", files[0])
        window = (time.monotonic() - start) / 2 * 1.2
        rng = random.Random(15)
        seen = set()
        # 100 kills; should none of them have let an apply finish (the machine got slower
        # than when the window was measured), 20 more at a time with the window doubled.
        n = 0
        while n < 100 or (seen != {0, 1} and n < 200):
            if n >= 100 and n % 20 == 0:
                window *= 2
            proc = subprocess.Popen([DEPCTL, "apply", "--yes", "-f", files[n % 2]], cwd=self.project,
                                    env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, window))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            services = self.state()["environments"][0]["services"]
            retries = {s.get("retries", 0) for s in services}
            self.assertEqual(len(services), 500)
            self.assertEqual(len(retries), 1, "a torn state mixes the two files")
            seen |= retries
            n += 1
        self.assertEqual(seen, {0, 1}, "the kills never let an apply finish")


if __name__ == "__main__":
    unittest.main()
