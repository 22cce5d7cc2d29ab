"""The examples run as documented: the quickstart (the README's main job) and the seed session."""
import os
import subprocess
import unittest

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

    def test_qovery_session(self):
        out = self.run_example("qovery-session/run.sh")
        self.assertIn('# deployment stage 3: "third stage"', out)
        self.assertTrue(out.rstrip().endswith("APPLICATION | API gateway"))


if __name__ == "__main__":
    unittest.main()
