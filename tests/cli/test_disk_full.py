"""A disk that fills up during a deploy (issue #14 item 11, DESIGN §9 "Failure while
recording"): a step whose log is cut is never SUCCEEDED, a record that cannot be written
says that the steps ran and which versions are live (exit 6), and the next deploy finishes
the recording. The file-size limit (RLIMIT_FSIZE, writes past it fail with EFBIG) stands in
for a full disk where a real one cannot be made; a real 1 MiB tmpfs is used where the
machine lets an unprivileged user namespace mount one."""
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import textwrap
import unittest

from depctl_test import DEPCTL, DepctlTestCase, file_backend_only

LIMIT = 256 * 1024


def file_size_limit(limit):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a core dump
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@file_backend_only("the limit is on the files of .depctl")
class FileSizeLimit(DepctlTestCase):
    def deploy_limited(self, limit, *args):
        return subprocess.run([DEPCTL, "environment", "deploy", *args], cwd=self.project, env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                              preexec_fn=file_size_limit(limit))

    def history_path(self):
        folder = os.path.join(self.project, ".depctl", "history")
        return os.path.join(folder, os.listdir(folder)[0])

    def test_a_step_whose_log_is_cut_is_not_succeeded(self):
        self.init_environment()
        # 400 KiB of output, the limit 256 KiB: the command succeeds, its log cannot hold it.
        self.ok("service", "create", "api", "--type", "application",
                "--deploy", "head -c 409600 /dev/zero | tr '\\0' x")
        result = self.deploy_limited(LIMIT, "--version", "v1")
        self.assertEqual(result.returncode, 1, result.stderr)
        record = self.last_record()
        self.assertEqual(record["status"], "DEPLOYMENT_ERROR")
        step = self.step(record, "api", "deploy")
        self.assertEqual(step["status"], "FAILED")
        self.assertEqual(step["exit_code"], 0)
        self.assertIn("could not be written completely", step["error"])
        self.assertIn("the command exited with code 0", step["error"])
        self.assertLessEqual(os.path.getsize(step["log"]), LIMIT)
        self.assertEqual(self.json("environment", "status")["services"][0]["status"],
                         "FAILED")  # its deploy step ran: FAILED at the attempted version

    def test_a_record_that_cannot_be_written_says_the_steps_ran_and_is_finished_later(self):
        self.init_environment()
        self.ok("service", "create", "api", "--type", "application", "--deploy", "true")
        self.ok("service", "create", "web", "--type", "application", "--deploy", "true")
        # A history larger than the room a deployment reserves for its record when it
        # starts (16 KiB + 1 KiB per service, docs/decisions.md) and than the state.
        version = 0
        while version == 0 or os.path.getsize(self.history_path()) < 24 * 1024:
            version += 1
            self.ok("environment", "deploy", "--version", f"v{version}")
        last = f"v{version}"
        # The history file at its limit: the next record cannot be appended; the state file
        # and the RUNNING record (with its reserved room) still can be written.
        size = os.path.getsize(self.history_path())
        self.assertLess(os.path.getsize(self.state_path), size)
        result = self.deploy_limited(size + 64, "--version", "v-next")
        self.assertEqual(result.returncode, 6, result.stderr)
        self.assertRegex(result.stderr, r"error: deployment dep_\w+ ran and ended DEPLOYED "
                                        r"\(api, web now run v-next\), but recording it failed: "
                                        r"writing the history: ")
        self.assertIn("the next deploy or stop of this environment finishes the recording", result.stderr)
        # The state took it; the history did not, yet.
        self.assertEqual({s["name"]: s["version"] for s in self.json("environment", "status")["services"]},
                         {"api": "v-next", "web": "v-next"})
        self.assertEqual([r["version"] for r in self.json("deployment", "list")][:1], [last])
        # The next deployment finishes the recording before its own, once.
        self.ok("environment", "deploy", "--version", "v-after")
        records = self.json("deployment", "list", "--limit", "100")
        self.assertEqual([(r["version"], r["status"]) for r in records][:3],
                         [("v-after", "DEPLOYED"), ("v-next", "DEPLOYED"), (last, "DEPLOYED")])
        self.assertEqual(len([r for r in records if r["version"] == "v-next"]), 1)
        self.assertFalse(os.listdir(os.path.join(self.project, ".depctl", "running")))

    def test_an_unreadable_finished_record_does_not_block_the_environment(self):
        # A final record left by a broken or newer depctl (an outcome, fields that do not
        # read) is recorded INTERRUPTED with what it holds, like a RUNNING one, and the
        # environment deploys again.
        self.init_environment()
        self.ok("service", "create", "api", "--type", "application", "--deploy", "true")
        env_id = self.json("environment", "list")[0]["id"]
        running = os.path.join(self.project, ".depctl", "running")
        os.makedirs(running, exist_ok=True)
        with open(os.path.join(running, env_id + ".json"), "w") as f:
            f.write('{"id": "dep_brokenrecord01", "status": "DEPLOYED", "stages": "not a list",'
                    ' "version": "v0"}')
        self.ok("environment", "deploy", "--version", "v1")
        records = {r["id"]: r for r in self.json("deployment", "list")}
        self.assertEqual(records["dep_brokenrecord01"]["status"], "INTERRUPTED")
        self.assertEqual([r["version"] for r in self.json("deployment", "list")][0], "v1")
        self.assertFalse(os.listdir(running))


TMPFS_SCRIPT = textwrap.dedent("""\
    set -u
    mount -t tmpfs -o size=1m depctl-test "$PROJECT/.depctl" || exit 99
    cd "$PROJECT"
    "$DEPCTL" init --project demo >/dev/null &&
    "$DEPCTL" environment create production >/dev/null &&
    "$DEPCTL" context set -e production >/dev/null &&
    "$DEPCTL" service create api --type application \\
        --deploy "head -c 2000000 /dev/zero | tr '\\\\0' x" >/dev/null || exit 98
    "$DEPCTL" environment deploy --version v1 >"$OUT/deploy.out" 2>"$OUT/deploy.err"
    echo $? >"$OUT/deploy.rc"
    rm -rf .depctl/logs/dep_*                       # space again
    "$DEPCTL" service edit api --deploy true >/dev/null
    "$DEPCTL" environment deploy --version v2 >/dev/null 2>"$OUT/next.err"
    echo $? >"$OUT/next.rc"
    "$DEPCTL" deployment list -o json >"$OUT/list.json"
    """)


@file_backend_only("a full disk under .depctl")
class RealFullDisk(DepctlTestCase):
    def test_a_full_tmpfs(self):
        unshare = shutil.which("unshare")
        if not unshare or subprocess.run([unshare, "-rm", "true"], capture_output=True).returncode != 0:
            self.skipTest("no unprivileged mount namespace here: the file-size-limit tests cover it")
        out = tempfile.mkdtemp(prefix="depctl-full-")
        self.addCleanup(shutil.rmtree, out, ignore_errors=True)
        os.makedirs(os.path.join(self.project, ".depctl"))
        env = dict(self.env, DEPCTL=os.path.abspath(DEPCTL), PROJECT=self.project, OUT=out)
        done = subprocess.run([unshare, "-rm", "sh", "-c", TMPFS_SCRIPT], env=env, capture_output=True,
                              text=True, timeout=300)
        if done.returncode == 99:
            self.skipTest(f"cannot mount a tmpfs in a user namespace: {done.stderr}")
        self.assertEqual(done.returncode, 0, done.stderr)

        def read(name):
            with open(os.path.join(out, name)) as f:
                return f.read()
        # The step's 2 MB do not fit: its log is cut, the step is FAILED, not SUCCEEDED; the
        # record may or may not fit after that, and either way the error says what ran.
        deploy_rc = int(read("deploy.rc"))
        self.assertIn(deploy_rc, (1, 6), read("deploy.err"))
        if deploy_rc == 6:
            self.assertIn("ran and ended DEPLOYMENT_ERROR", read("deploy.err"))
        self.assertEqual(int(read("next.rc")), 0, read("next.err"))
        import json
        records = [(r["version"], r["status"]) for r in json.loads(read("list.json"))]
        self.assertEqual(records[0], ("v2", "DEPLOYED"))
        self.assertEqual(records[1], ("v1", "DEPLOYMENT_ERROR"))
        self.export_round_trip = False  # the project lived on the namespace's tmpfs


if __name__ == "__main__":
    unittest.main()
