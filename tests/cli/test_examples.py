"""The examples run as documented: the quickstart (the README's main job) and the seed session;
every example depctl.yaml applies, validates against the JSON Schema, and deploys."""
import glob
import json
import os
import shutil
import socket
import subprocess
import unittest

import yaml

import schema_check
from depctl_test import DEPCTL, DepctlTestCase

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class Examples(DepctlTestCase):
    def run_example(self, script):
        env = dict(self.env)
        env["PATH"] = os.path.dirname(os.path.abspath(DEPCTL)) + os.pathsep + env["PATH"]
        result = subprocess.run(["bash", os.path.join(ROOT, "examples", script)], env=env, cwd=self.dir,
                                capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result.stdout

    def test_quickstart_deploys_for_real_and_stops(self):
        out = self.run_example("quickstart/run.sh")
        self.assertIn("Nothing was run and nothing was written", out)
        self.assertRegex(out, r"Deployment dep_\w+ DEPLOYED")
        self.assertIn("Api release SUCCEEDED", out)
        self.assertIn("Web health SUCCEEDED", out)
        self.assertIn('all deployed services run version 1.0.0', out)
        self.assertIn('{"version": "1.0.0", "visits": 1}', out)
        self.assertIn("stopped api", out)
        self.assertIn("No changes: the state matches", out)  # the second apply

    def test_readme_shows_the_quickstart_file(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            readme = f.read()
        with open(os.path.join(ROOT, "examples", "quickstart", "depctl.yaml")) as f:
            self.assertIn("```yaml\n" + f.read() + "```\n", readme)

    def test_promotion_project(self):
        out = self.run_example("promotion/run.sh")
        self.assertIn("refused with exit code 5", out)
        self.assertIn("Api build reused", out)
        self.assertIn('Environment "production": all deployed services run version 1.0.0', out)

    def test_github_actions_workflow_uses_yes_and_json(self):
        with open(os.path.join(ROOT, "examples", "github-actions", "deploy.yml")) as f:
            workflow = f.read()
        for needle in ("depctl environment deploy -e production --yes", "-o json", "--rollback"):
            self.assertIn(needle, workflow)
        for env in ("development", "staging", "production"):  # the file first, then the deploy
            apply = workflow.find(f"depctl apply --yes -e {env}\n")
            self.assertGreater(apply, 0, env)
            self.assertLess(apply, workflow.find(f"depctl environment deploy -e {env} "), env)

    def test_every_example_file_applies_and_deploys(self):
        with open(os.path.join(ROOT, "docs", "depctl.schema.json")) as f:
            schema = json.load(f)
        files = sorted(glob.glob(os.path.join(ROOT, "examples", "*", "depctl.yaml")))
        self.assertGreaterEqual(len(files), 2, files)
        ports = {}
        for name in ("API_PORT", "WEB_PORT"):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                ports[name] = str(s.getsockname()[1])
        for path in files:
            example = os.path.basename(os.path.dirname(path))
            with self.subTest(example=example):
                with open(path) as f:
                    text = f.read()
                self.assertTrue(text.startswith("# yaml-language-server: $schema="), path)
                self.assertEqual(schema_check.errors(schema, yaml.safe_load(text)), [])
                copy = os.path.join(self.dir, example)
                shutil.copytree(os.path.dirname(path), copy,
                                ignore=shutil.ignore_patterns(".depctl", "run", "dist"))
                self.ok("apply", "--yes", cwd=copy)
                self.assertEqual(self.run_depctl("diff", cwd=copy).returncode, 0)
                order = self.json("project", "show", cwd=copy).get("enforced_order") or [
                    e["name"] for e in self.json("environment", "list", cwd=copy)]
                try:
                    for env in order:
                        self.ok("environment", "deploy", "-e", env, "--version", "1.0.0", "--yes",
                                cwd=copy, env=ports, timeout=120)
                        status = self.json("environment", "status", "-e", env, cwd=copy)
                        self.assertIn("1.0.0", json.dumps(status))
                finally:
                    for env in order:
                        self.ok("environment", "stop", "-e", env, cwd=copy, env=ports)

    def test_qovery_session(self):
        out = self.run_example("qovery-session/run.sh")
        self.assertIn('# deployment stage 3: "third stage"', out)
        self.assertTrue(out.rstrip().endswith("APPLICATION | API gateway"))


if __name__ == "__main__":
    unittest.main()
