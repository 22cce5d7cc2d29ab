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

    def test_qovery_session(self):
        out = self.run_example("qovery-session/run.sh")
        self.assertIn('# deployment stage 3: "third stage"', out)
        self.assertTrue(out.rstrip().endswith("APPLICATION | API gateway"))


if __name__ == "__main__":
    unittest.main()
