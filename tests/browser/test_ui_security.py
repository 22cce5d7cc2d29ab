"""Security of `depctl ui` (DESIGN §10), against the real server with urllib: the token,
the Host header (DNS rebinding), same-origin writes (CSRF), and secrets never sent."""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

BIN = os.environ["DEPCTL_BIN"]
SECRET = "s3cr3t-value-8b1f2e"


class UiSecurityTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="depctl-ui-sec-")
        self.env = dict(os.environ, HOME=self.dir, XDG_CONFIG_HOME=self.dir + "/.config",
                        DEPCTL_STATE=self.dir + "/.depctl/state.json", UI_SECRET=SECRET,
                        DISPLAY="", DEPCTL_VERSION="2.0.0")
        self.env.pop("DEPCTL_ENVIRONMENT", None)
        self.cli("init", "--project", "shop")
        self.cli("environment", "create", "staging")
        self.cli("context", "set", "-e", "staging")
        self.cli("service", "create", "Api", "--type", "application", "--secret",
                 "TOKEN=env:UI_SECRET", "--deploy", 'echo "token is $TOKEN"')
        self.proc = subprocess.Popen([BIN, "ui", "--no-open"], cwd=self.dir, env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = ""
        deadline = time.monotonic() + 10
        while "token=" not in line and time.monotonic() < deadline:
            line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]{64})", line)
        self.assertIsNotNone(m, line)
        self.port, self.token = int(m.group(1)), m.group(2)
        self.bodies = []

    def tearDown(self):
        self.proc.send_signal(signal.SIGINT)
        self.assertEqual(self.proc.wait(timeout=30), 0)
        self.proc.stdout.close()
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def cli(self, *args):
        return subprocess.run([BIN, *args], cwd=self.dir, env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def state_bytes(self):
        with open(self.dir + "/.depctl/state.json", "rb") as f:
            return f.read()

    def request(self, method, path, body=None, host=None, cookie=True, origin=True):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": host or "127.0.0.1:%d" % self.port}
        if cookie:
            headers["Cookie"] = "depctl_ui_%d=%s" % (self.port, self.token)
        if origin is True:
            headers["Origin"] = "http://127.0.0.1:%d" % self.port
        elif origin:
            headers["Origin"] = origin
        data = json.dumps(body).encode() if body is not None else None
        if data:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        res = conn.getresponse()
        text = res.read().decode("utf-8", "replace")
        self.bodies.append(text)
        conn.close()
        return res, text

    def move(self, **kw):
        return self.request("POST", "/api/action", {"action": "move", "environment": "staging",
                                                     "service": "Api", "stage": "JOB DEFAULT"}, **kw)

    def test_no_token_is_refused_and_changes_nothing(self):
        before = self.state_bytes()
        for path in ["/", "/api/board", "/board.js"]:
            res, _ = self.request("GET", path, cookie=False)
            self.assertIn(res.status, (401, 403), path)
        res, _ = self.request("GET", "/?token=" + "0" * 64, cookie=False)
        self.assertIn(res.status, (401, 403))
        res, _ = self.move(cookie=False)
        self.assertIn(res.status, (401, 403))
        self.assertEqual(self.state_bytes(), before)

    def test_the_url_token_becomes_an_httponly_strict_cookie(self):
        res, _ = self.request("GET", "/?token=" + self.token, cookie=False)
        self.assertEqual(res.status, 303)
        cookie = res.getheader("Set-Cookie")
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        res, _ = self.request("GET", "/")
        self.assertEqual(res.status, 200)
        self.assertIn("default-src 'none'", res.getheader("Content-Security-Policy"))
        self.assertIsNone(res.getheader("Access-Control-Allow-Origin"))

    def test_wrong_host_is_refused(self):
        before = self.state_bytes()
        for host in ["evil.example:%d" % self.port, "127.0.0.1", "127.0.0.1:1"]:
            res, _ = self.request("GET", "/api/board", host=host)
            self.assertEqual(res.status, 403, host)
            res, _ = self.move(host=host)
            self.assertEqual(res.status, 403, host)
        self.assertEqual(self.state_bytes(), before)
        res, _ = self.request("GET", "/api/board", host="localhost:%d" % self.port)
        self.assertEqual(res.status, 200)

    def test_cross_origin_and_origin_less_writes_are_refused(self):
        before = self.state_bytes()
        res, _ = self.move(origin="http://evil.example")
        self.assertEqual(res.status, 403)
        res, _ = self.move(origin=None)
        self.assertEqual(res.status, 403)
        res, _ = self.move(origin="http://127.0.0.1:%d" % (self.port + 1))
        self.assertEqual(res.status, 403)
        self.assertEqual(self.state_bytes(), before)
        res, _ = self.move()
        self.assertEqual(res.status, 200)
        self.assertNotEqual(self.state_bytes(), before)

    def test_a_taken_port_is_refused_as_busy(self):
        taken = subprocess.run([BIN, "ui", "--no-open", "--port", str(self.port)], cwd=self.dir, env=self.env,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(taken.returncode, 4, taken.stderr)
        self.assertIn("error: cannot listen on 127.0.0.1:%d" % self.port, taken.stderr)
        self.assertIn("hint:", taken.stderr)

    def test_a_secret_never_appears_in_any_response_of_a_full_session(self):
        self.request("GET", "/?token=" + self.token, cookie=False)
        for path in ["/", "/board.js", "/deploy.js", "/app.css", "/api/board"]:
            self.assertEqual(self.request("GET", path)[0].status, 200, path)
        self.assertEqual(self.move()[0].status, 200)
        env_id = json.loads(self.request("GET", "/api/board")[1])["environments"][0]["id"]
        self.assertEqual(self.request("POST", "/api/plan", {"environment": env_id})[0].status, 200)
        res, text = self.request("POST", "/api/deploy", {"environment": env_id})
        self.assertEqual(res.status, 202, text)
        run = json.loads(text)["run"]
        res, events = self.request("GET", "/api/runs/%s/events" % run)
        self.assertIn('"event":"deployment_finished"', events.replace(" ", ""))
        self.assertIn("token is ***", events)
        history = json.loads(self.request("GET", "/api/history?environment=" + env_id)[1])
        dep = history[0]["id"]
        self.assertEqual(history[0]["status"], "DEPLOYED")
        self.request("GET", "/api/deployments/" + dep)
        res, svg = self.request("GET", "/api/deployments/%s/timeline.svg" % dep)
        self.assertEqual(res.status, 200, svg)
        self.assertTrue(res.getheader("Content-Type").startswith("image/svg+xml"))
        # One policy, no script: only the SVG's own <style> is allowed.
        self.assertEqual(res.getheader("Content-Security-Policy"),
                         "default-src 'none'; style-src 'unsafe-inline'")
        self.assertNotIn("<script", svg)
        res, _ = self.request("GET", "/api/deployments/%s/timeline.svg" % dep, cookie=False)
        self.assertEqual(res.status, 401)
        res, log = self.request("GET", "/api/log?deployment=%s&service=Api&step=deploy" % dep)
        self.assertIn("token is ***", log)
        for body in self.bodies:
            self.assertNotIn(SECRET, body)

    def test_a_log_replaced_by_a_link_or_a_fifo_is_refused(self):
        # Issue #14 item 8 (DESIGN §2): the console reads step logs as `deployment logs` does,
        # never through a symbolic link, never waiting on a FIFO.
        self.cli("environment", "deploy", "--version", "v1", "--yes")
        dep = json.loads(self.cli("deployment", "list", "-o", "json"))[0]["id"]
        path = "/api/log?deployment=%s&service=Api&step=deploy" % dep
        res, log = self.request("GET", path)
        self.assertEqual(res.status, 200, log)
        log_dir = os.path.join(self.dir, ".depctl", "logs", dep)
        [log_file] = [os.path.join(log_dir, f) for f in os.listdir(log_dir) if f.endswith(".deploy.log")]
        outside = os.path.join(self.dir, "outside.txt")
        with open(outside, "w") as f:
            f.write("not a log of depctl\n")
        os.unlink(log_file)
        os.symlink(outside, log_file)
        res, text = self.request("GET", path)
        self.assertEqual(res.status, 500, text)
        self.assertIn("symbolic link", json.loads(text)["error"])
        self.assertNotIn("not a log of depctl", text)
        os.unlink(log_file)
        os.mkfifo(log_file)
        res, text = self.request("GET", path)  # the connection's 30 s timeout: a hang fails
        self.assertEqual(res.status, 500, text)
        self.assertIn("FIFO", json.loads(text)["error"])


if __name__ == "__main__":
    unittest.main()
