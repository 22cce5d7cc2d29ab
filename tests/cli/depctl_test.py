"""Shared fixture of the black-box tests: a temp project dir, an isolated user config,
and helpers to run the real depctl binary and compare state bytes.

DEPCTL_TEST_BACKEND=etcd runs the same tests against a real etcd: one server per test
class, a fresh key prefix per test, DEPCTL_STATE pointing at it, and state_bytes() a
canonical dump of every key under the prefix with its mod_revision."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import uuid

from etcd_server import EtcdServer

DEPCTL = os.environ.get("DEPCTL_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "depctl")
BACKEND = os.environ.get("DEPCTL_TEST_BACKEND", "file")


def file_backend_only(reason):
    """Marks a test about the file backend itself (it edits state.json, ...)."""
    return unittest.skipIf(BACKEND == "etcd", f"file backend only: {reason}")


class DepctlTestCase(unittest.TestCase):
    etcd = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if BACKEND == "etcd":
            cls.etcd = EtcdServer()
            cls.addClassCleanup(cls.etcd.cleanup)
            cls.etcd.start()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="depctl-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("DEPCTL_") and k != "NO_COLOR"}
        self.env["HOME"] = os.path.join(self.dir, "home")
        self.env["XDG_CONFIG_HOME"] = os.path.join(self.dir, "home", ".config")
        os.makedirs(self.env["HOME"])
        self.project = os.path.join(self.dir, "project")
        os.makedirs(self.project)
        if self.etcd:
            self.etcd_prefix = f"/depctl-test/{uuid.uuid4().hex[:12]}"
            self.env["DEPCTL_STATE"] = self.etcd.url(self.etcd_prefix)
            self.env["XDG_STATE_HOME"] = os.path.join(self.env["HOME"], ".local", "state")
        # Runs after the test's own cleanups (LIFO), before the directory goes.
        self.addCleanup(self.check_export_round_trip)

    # Tests whose final state is not a definition to round-trip set this (with a reason).
    # A sanitizer tree sets DEPCTL_TEST_ROUND_TRIP=0 for every test (tests/CMakeLists.txt).
    export_round_trip = os.environ.get("DEPCTL_TEST_ROUND_TRIP", "1") != "0"

    def check_export_round_trip(self):
        """`export` of the state the test leaves re-applies with `diff` exit 0 (#15): whatever
        a CLI test built, the pipeline file can say. Skipped when the test left no state or
        one depctl cannot read (tests of corrupt or missing state), and when the file would
        pass the pipeline file's 16 MiB limit."""
        if not self.export_round_trip or not os.path.isdir(self.project):
            return

        def run(*args):
            return subprocess.run([DEPCTL, *args], cwd=self.project, env=self.env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, errors="replace", timeout=120)
        exported = run("export")
        # Export first, and ask whether there is a readable state only when it fails: two
        # processes per test instead of three (each costs ~0.2 s in the sanitizer tree).
        if exported.returncode != 0 and run("project", "show").returncode != 0:
            return
        self.assertEqual(exported.returncode, 0, f"export of the final state failed: {exported.stderr}")
        if len(exported.stdout.encode()) > 16 * 1024 * 1024:
            return
        path = os.path.join(self.dir, "exported-depctl.yaml")
        with open(path, "w") as f:
            f.write(exported.stdout)
        diff = run("diff", "-f", path)
        self.assertEqual(diff.returncode, 0, "export of the final state does not re-apply unchanged:\n"
                         f"{diff.stdout}{diff.stderr}\n--- exported ---\n{exported.stdout[:5000]}")

    # --- running -------------------------------------------------------------------------
    def run_depctl(self, *args, env=None, cwd=None, timeout=60, stdin=subprocess.DEVNULL):
        full_env = dict(self.env)
        if env:
            full_env.update(env)
        return subprocess.run([DEPCTL, *args], cwd=cwd or self.project, env=full_env,
                              stdin=stdin, capture_output=True, text=True, timeout=timeout)

    def ok(self, *args, **kwargs):
        result = self.run_depctl(*args, **kwargs)
        self.assertEqual(result.returncode, 0,
                         f"depctl {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def fails(self, code, *args, message=None, **kwargs):
        """Runs a command that must be refused with `code` and leave the state untouched."""
        before = self.state_bytes()
        result = self.run_depctl(*args, **kwargs)
        self.assertEqual(result.returncode, code,
                         f"depctl {' '.join(args)}: expected exit {code}, got {result.returncode}\n"
                         f"stdout: {result.stdout}\nstderr: {result.stderr}")
        self.assertTrue(result.stderr.startswith("error: "), result.stderr)
        if message is not None:
            self.assertIn(message, result.stderr)
        self.assertEqual(self.state_bytes(), before, "refused input changed the state")
        return result

    def json(self, *args, **kwargs):
        return json.loads(self.ok(*args, "-o", "json", **kwargs).stdout)

    # --- state -----------------------------------------------------------------------------
    @property
    def state_path(self):
        return os.path.join(self.project, ".depctl", "state.json")

    def state_bytes(self):
        if self.etcd:
            return self.etcd.client().dump(self.etcd_prefix + "/")
        try:
            with open(self.state_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def state(self):
        if self.etcd:
            return self.etcd.client().state(self.etcd_prefix)
        with open(self.state_path) as f:
            return json.load(f)

    # --- deployment records ------------------------------------------------------------------
    def last_record(self, env=None):
        """`deployment show` of the newest deployment (of env, else the current environment)."""
        args = ("-e", env) if env else ()
        summary = self.json("deployment", "list", *args)[0]
        return self.json("deployment", "show", summary["id"])

    @staticmethod
    def step(record, service, step):
        """One step of one service in a deployment record."""
        for stage in record["stages"]:
            for svc in stage["services"]:
                if svc["name"] == service:
                    return next(s for s in svc["steps"] if s["step"] == step)
        raise KeyError(service)

    def init_environment(self, name="production"):
        def build():
            self.ok("init", "--project", "demo")
            self.ok("environment", "create", name)
            self.ok("context", "set", "-e", name)
        self.from_snapshot(f"init_environment {name}", build)

    # --- set-ups shared by the tests of a class -------------------------------------------------
    def from_snapshot(self, name, build):
        """Leaves the project as build() leaves it, running build() once per test class: the
        first test takes a snapshot (.depctl, the user's config, and on etcd the keys under
        the prefix), later tests get a byte-for-byte copy. A class of many small tests then
        pays its set-up once; each depctl run costs ~0.2 s in the sanitizer tree. Only for a
        project in the default place that holds no state yet; anything else runs build()."""
        cls = type(self)
        if "_snapshots" not in cls.__dict__:
            cls._snapshots = {}
        if not self._snapshot_applies():
            build()
            return
        snapshot = cls._snapshots.get(name)
        if snapshot is None:
            build()
            cls._snapshots[name] = self._take_snapshot()
        else:
            self._restore_snapshot(snapshot)

    # A class whose tests are about how depctl creates its files (modes under a umask, ...)
    # sets this to False: its tests must see depctl create them.
    snapshots = True

    def _snapshot_applies(self):
        if not self.snapshots:
            return False
        if self.env.get("DEPCTL_STATE") != (self.etcd.url(self.etcd_prefix) if self.etcd else None):
            return False
        # Never over something the test made itself.
        if any(os.path.exists(p) for p in self._snapshot_dirs().values()):
            return False
        try:  # an etcd the test client cannot read (one that requires a login) is left alone
            return self.state_bytes() is None
        except OSError:
            return False

    def _snapshot_dirs(self):
        """What a snapshot holds (step logs are not set-up): only directories inside this
        test's own temp dir."""
        dirs = {"depctl": os.path.join(self.project, ".depctl"),
                "config": os.path.join(self.env["XDG_CONFIG_HOME"], "depctl")}
        for path in dirs.values():
            assert os.path.realpath(path).startswith(os.path.realpath(self.dir) + os.sep), path
        return dirs

    def _take_snapshot(self):
        where = tempfile.mkdtemp(prefix="depctl-test-snapshot-")
        type(self).addClassCleanup(shutil.rmtree, where, ignore_errors=True)
        for name, path in self._snapshot_dirs().items():
            if os.path.isdir(path):
                shutil.copytree(path, os.path.join(where, name), symlinks=True)
        keys = None
        if self.etcd:
            prefix = self.etcd_prefix + "/"
            keys = [(key[len(prefix):], raw) for key, raw in self.etcd.client().raw_prefix(prefix)]
        return where, keys

    def _restore_snapshot(self, snapshot):
        where, keys = snapshot
        for name, path in self._snapshot_dirs().items():
            if os.path.isdir(os.path.join(where, name)):
                shutil.copytree(os.path.join(where, name), path, symlinks=True)
        if keys is not None:
            client = self.etcd.client()
            for key, raw in keys:
                client.put_raw(f"{self.etcd_prefix}/{key}", raw)

    def stages(self):
        """[(stage name, [service names, skipped marked])] from the JSON stage list."""
        return [(s["name"], [svc["name"] + (" (skipped)" if svc["skipped"] else "")
                             for svc in s["services"]])
                for s in self.json("environment", "stage", "list")]
