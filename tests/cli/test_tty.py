"""Deploy progress on a real pseudo-terminal: the live view seen through tmux (what the user
sees after every redraw), and the raw bytes seen through `script` (colour, NO_COLOR)."""
import json
import os
import re
import shlex
import shutil
import subprocess
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase

SGR = re.compile(r"\x1b\[[0-9;]*m")  # colour and bold; cursor movement is not SGR


def wait_until(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class TtyProgress(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("dev")
        self.ok("environment", "stage", "edit", "-n", "DATABASE DEFAULT", "--new-name", "data")
        self.ok("environment", "stage", "edit", "-n", "APPLICATION DEFAULT", "--new-name", "apps")
        self.ok("service", "create", "DB", "--type", "database", "--deploy", "sleep 0.2", "--health-cmd", "true")
        self.ok("service", "create", "Api", "--type", "application", "--build", "sleep 0.3",
                "--deploy", "sleep 2.5")
        self.ok("service", "create", "Web", "--type", "application", "--deploy", "echo broken; exit 3")
        self.ok("service", "depend", "Web", "--on", "Api")

    def script_file(self, *args, env=None):
        """A shell script that runs depctl with the test's environment and reports its exit code."""
        path = os.path.join(self.dir, "run.sh")
        full_env = dict(self.env, **(env or {}))
        lines = ["#!/bin/sh", f"cd {shlex.quote(self.project)}"]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in full_env.items() if re.fullmatch(r"\w+", k)]
        lines.append(" ".join(shlex.quote(a) for a in [DEPCTL, *args]) + '; echo "[exit $?]"')
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o755)
        return path

    def raw_pty_output(self, *args, env=None):
        """Bytes depctl wrote to a pseudo-terminal, through util-linux `script`."""
        result = subprocess.run(["script", "-qec", self.script_file(*args, env=env), "/dev/null"],
                                cwd=self.project, env=self.env, capture_output=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        out = result.stdout.decode("utf-8", "replace")
        self.assertIn("[exit ", out, out)
        return out

    # --- what the user sees: tmux renders the escape codes into a screen ---------------------
    @unittest.skipUnless(shutil.which("tmux"), "tmux is not installed (scripts/install-deps.sh installs it)")
    def test_live_view_redraws_in_place_and_ends_with_a_summary(self):
        socket = os.path.join(self.dir, "tmux.sock")
        tmux = ["tmux", "-S", socket]
        run = self.script_file("environment", "deploy", "--version", "v1", env={"LANG": "C.UTF-8"})
        subprocess.run(tmux + ["new-session", "-d", "-x", "100", "-y", "40", f"{run}; sleep 600"],
                       env=self.env, check=True, timeout=30)
        self.addCleanup(subprocess.run, tmux + ["kill-server"], capture_output=True, timeout=30)

        def screen():
            return subprocess.run(tmux + ["capture-pane", "-p"], capture_output=True, text=True,
                                  timeout=30).stdout

        def api_deploy_seconds():
            match = re.search(r"Api\s+deploy\s+(\d+\.\d)s", screen())
            return float(match.group(1)) if match else None

        # While Api deploys, its row shows the step and a clock that the ticker advances
        # without any new event.
        first = wait_until(lambda: (api_deploy_seconds() or 0) >= 0.2 and api_deploy_seconds(),
                           what="Api's deploy step on screen")
        running = screen()
        self.assertRegex(running, r"✔ DB\s+done")
        self.assertRegex(running, r"Web\s+waiting")
        self.assertRegex(running, r"elapsed, 1 of 3 services done")
        later = wait_until(lambda: (api_deploy_seconds() or 0) >= first + 0.5 and api_deploy_seconds(),
                           what="the ticker to advance Api's clock")
        self.assertGreater(later, first)

        final = wait_until(lambda: "[exit " in screen() and screen(), what="the deploy to finish")
        self.assertIn("[exit 1]", final)
        # Redrawn in place: each stage section and each service row is on screen once.
        self.assertEqual(final.count('# deployment stage 1: "data"'), 1, final)
        self.assertEqual(final.count('# deployment stage 4: "apps"'), 1, final)
        self.assertEqual(len(re.findall(r"^\s+\S+ Api\s", final, re.M)), 1, final)
        self.assertNotIn("elapsed,", final)  # the ticking footer is gone
        # The last frame is the summary: final status, time and steps of every service...
        self.assertRegex(final, r"✔ DB\s+DEPLOYED\s+\d+\.\ds\s+deploy \d+\.\ds, health \d+\.\ds")
        self.assertRegex(final, r"✔ Api\s+DEPLOYED\s+\d+\.\ds\s+build \d+\.\ds, deploy \d+\.\ds")
        self.assertRegex(final, r"✘ Web\s+DEPLOYMENT_ERROR\s+\d+\.\ds\s+deploy \d+\.\ds FAILED")
        # ...then the verdict and the log of what failed, which holds the step's output.
        record = self.json("deployment", "list")[0]
        self.assertIn(f"Deployment {record['id']} DEPLOYMENT_ERROR", final)
        shown = re.search(r"log:\s+(\S+)", final).group(1)
        log = self.step(self.last_record(), "Web", "deploy")["log"]
        self.assertTrue(log.startswith(shown[:40]), shown)  # a narrow terminal may cut the line
        with open(log) as f:
            self.assertIn("broken", f.read())
        self.assertIn(f"depctl deployment logs {record['id']} --service Web --step deploy", final)

    # --- the bytes: colour, NO_COLOR, --no-color, JSON ---------------------------------------
    def test_colour_on_a_terminal(self):
        out = self.raw_pty_output("environment", "deploy", "--version", "v1")
        self.assertIn("\x1b[32m", out)  # green for DEPLOYED
        self.assertIn("\x1b[31m", out)  # red for the failure
        self.assertIn("\x1b[J", out)    # the live view redraws in place

    def test_no_color_and_flag_leave_no_colour_codes(self):
        for args, env in [((), {"NO_COLOR": "1"}), (("--no-color",), {})]:
            out = self.raw_pty_output("environment", "deploy", "--version", "v1", *args, env=env)
            self.assertNotRegex(out, SGR, f"colour with {args or env}")
            self.assertIn("\x1b[J", out)  # still the live view, only without colour
            self.assertIn("DEPLOYMENT_ERROR", out)

    def test_ascii_symbols_without_a_utf8_locale(self):
        out = self.raw_pty_output("environment", "deploy", "--version", "v1", "--no-color",
                                  env={"LANG": "C", "LC_ALL": "", "LC_CTYPE": ""})
        self.assertTrue(out.isascii(), [c for c in out if not c.isascii()][:5])
        self.assertRegex(out, r"\+ DB\s+DEPLOYED")

    def test_json_lines_on_a_terminal(self):
        out = self.raw_pty_output("environment", "deploy", "--version", "v1", "-o", "json")
        lines = [line for line in out.replace("\r", "").splitlines() if line and not line.startswith("[exit")]
        events = [json.loads(line)["event"] for line in lines]
        self.assertEqual(events[0], "deployment_started")
        self.assertEqual(events[-1], "deployment_finished")
        self.assertNotIn("\x1b", out)

    def test_plain_lines_without_a_terminal(self):
        result = self.run_depctl("environment", "deploy", "--version", "v1")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertNotIn("\x1b", result.stdout)
        self.assertRegex(result.stdout, r"\] Api build started\n")
        self.assertRegex(result.stdout, r"\] Web deploy FAILED in \d+\.\ds \(exit code 3\)")
        # The summary table: one row per service with the time spent in its steps.
        self.assertRegex(result.stdout, r"Api\s+\| apps\s+\| DEPLOYED\s+\| \d+\.\ds \| build \d+\.\ds, deploy")
        self.assertRegex(result.stdout, r"log:\s+\S+/svc_\w+\.deploy\.log")


if __name__ == "__main__":
    unittest.main()
