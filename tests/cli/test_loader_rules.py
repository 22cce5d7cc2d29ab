"""Issue #14 item 10: the loader refuses what the CLI refuses (one set of rules), C1
control characters are refused like C0 ones, an empty --services is refused, and a health
response is judged by its status whatever the size of its body."""
import http.server
import json
import threading

from depctl_test import DepctlTestCase, file_backend_only

C1 = "\u0085"  # NEXT LINE, a C1 control: UTF-8 C2 85


@file_backend_only("edits state.json by hand")
class LoaderRefusesWhatTheCliRefuses(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("production")
        self.ok("service", "create", "Api", "--type", "application", "--secret", "TOKEN=env:API_TOKEN")
        self.ok("environment", "stage", "create", "-n", "late", "--description", "fine")

    def edit_state(self, change):
        state = self.state()
        change(state)
        with open(self.state_path, "w") as f:
            json.dump(state, f)

    def service(self, state):
        return next(s for s in state["environments"][0]["services"] if s["name"] == "Api")

    def assert_corrupt(self, message):
        result = self.fails(6, "environment", "status")
        self.assertIn(message, result.stderr)
        return result

    def test_secret_source_that_is_not_env_or_file(self):
        def bad(state):
            self.service(state)["secrets"][0]["source"] = "hunter2"
        self.edit_state(bad)
        result = self.assert_corrupt("invalid source")
        self.assertNotIn("hunter2", result.stderr + result.stdout)
        self.fails(6, "environment", "deploy", "--version", "v1", "--yes")

    def test_secret_key_and_variable_names(self):
        self.edit_state(lambda s: self.service(s)["secrets"][0].update(key="DEPCTL_X"))
        self.assert_corrupt("reserved")

    def test_health_rules(self):
        self.edit_state(lambda s: self.service(s).setdefault("health", {}).update(http="ftp://x/"))
        self.assert_corrupt("health URL")

    def test_c1_controls_in_names_descriptions_versions(self):
        for field, change in [
            ("name", lambda s: self.service(s).update(name="Api" + C1)),
            ("description", lambda s: s["environments"][0]["stages"][-1].update(description="a" + C1)),
        ]:
            with self.subTest(field=field):
                original = self.state()
                self.edit_state(change)
                self.assert_corrupt("control character")
                with open(self.state_path, "w") as f:
                    json.dump(original, f)


class C1ControlsRefusedByTheCli(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("production")

    def test_names_descriptions_versions(self):
        self.fails(3, "service", "create", "Api" + C1, "--type", "job", message="control character")
        self.fails(3, "environment", "create", "x\u009fy", message="control character")
        self.fails(3, "environment", "stage", "create", "-n", "s", "--description", "d" + C1,
                   message="control character")
        self.ok("service", "create", "Api", "--type", "job", "--deploy", "true")
        self.fails(3, "environment", "deploy", "--version", "v" + C1, "--yes", message="invalid version")
        # Letters just above the C1 block are text: U+00A0 (NBSP) and U+00E9 are names.
        self.ok("service", "create", "caf\u00e9\u00a0x", "--type", "job")


class EmptyServicesRefused(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("production")
        self.ok("service", "create", "Api", "--type", "job", "--deploy", "true")

    def test_empty_and_comma_only(self):
        for value in ["", ",", " , ,"]:
            with self.subTest(value=repr(value)):
                self.fails(3, "environment", "deploy", "--services", value, "--version", "v1", "--yes",
                           message="--services names no service")
                self.fails(3, "environment", "deploy", "--dry-run", "--services", value,
                           "--version", "v1", message="--services names no service")
                self.fails(3, "environment", "stop", "--services", value,
                           message="--services names no service")
        self.assertEqual(self.json("deployment", "list"), [])


class BigBody(http.server.BaseHTTPRequestHandler):
    SIZE = 8 * 1024 * 1024

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(self.SIZE))
        self.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(self.SIZE // len(chunk)):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # depctl stops reading once it knows the status

    def log_message(self, *args):
        pass


class HealthBodyOfAnySize(DepctlTestCase):
    def test_200_with_an_8_mib_body_is_healthy(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BigBody)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.init_environment("production")
        url = f"http://127.0.0.1:{server.server_address[1]}/health"
        self.ok("service", "create", "Api", "--type", "application", "--deploy", "true",
                "--health-http", url, "--health-attempts", "2", "--health-interval", "0.1")
        result = self.run_depctl("environment", "deploy", "--version", "v1", "--yes")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(self.step(self.last_record(), "Api", "health")["status"], "SUCCEEDED")
