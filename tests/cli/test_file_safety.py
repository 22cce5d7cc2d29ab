"""Issue #14 items 7, 8 and 9: depctl reads regular files only, bounded (never /dev/zero,
never a FIFO it would wait on forever), never follows a symbolic link in place of its own
files in .depctl/, and an unreadable .depctl/ is a permission error, never a reason to use
a parent directory's project."""
import os
import shutil
import subprocess

from depctl_test import DEPCTL, DepctlTestCase, file_backend_only

# Each command here must end by itself: a hang is a failure, not a wait.
QUICK = 20


@file_backend_only("about files in .depctl")
class RegularFilesOnly(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("production")
        self.fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(self.fifo)

    def test_state_that_is_a_device_a_fifo_or_huge(self):
        big = os.path.join(self.dir, "big.json")
        with open(big, "wb") as f:
            f.truncate((1 << 30) + 1)  # sparse: costs no disk
        for path, why in [("/dev/zero", "it is a device"), (self.fifo, "it is a FIFO"),
                          (big, "bytes (at most")]:
            with self.subTest(path=path):
                result = self.run_depctl("--state", path, "environment", "list", timeout=QUICK)
                self.assertEqual(result.returncode, 6, result.stderr)
                self.assertIn(why, result.stderr)

    def test_secret_file_that_is_a_device_a_fifo_or_too_big(self):
        big = os.path.join(self.dir, "big-secret")
        with open(big, "wb") as f:
            f.write(b"x" * (200 * 1024))
        for path, why in [("/dev/zero", "it is a device"), (self.fifo, "it is a FIFO"),
                          (big, "bytes (at most")]:
            with self.subTest(path=path):
                self.ok("service", "create", "Api", "--type", "job", "--deploy", "true",
                        "--secret", f"TOKEN=file:{path}")
                result = self.fails(3, "environment", "deploy", "--version", "v1", "--yes",
                                    timeout=QUICK)
                self.assertIn(why, result.stderr)
                self.ok("service", "delete", "Api")
        self.assertEqual(self.json("deployment", "list"), [])

    def test_secret_file_behind_a_link_is_read(self):
        # Kubernetes mounts secrets as links: a secret file is the user's, not depctl's.
        target = os.path.join(self.dir, "real-secret")
        with open(target, "w") as f:
            f.write("s3cret\n")
        link = os.path.join(self.dir, "secret-link")
        os.symlink(target, link)
        out = os.path.join(self.dir, "seen")
        self.ok("service", "create", "Api", "--type", "job", "--secret", f"TOKEN=file:{link}",
                "--deploy", f'printf %s "$TOKEN" > {out}')
        self.ok("environment", "deploy", "--version", "v1", "--yes")
        with open(out) as f:
            self.assertEqual(f.read(), "s3cret")


@file_backend_only("about files in .depctl")
class NoSymlinksInDepctl(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("production")
        self.ok("service", "create", "Api", "--type", "job", "--deploy", "echo hi")
        self.depctl = os.path.join(self.project, ".depctl")
        self.env_id = self.state()["environments"][0]["id"]
        self.outside = os.path.join(self.dir, "outside")
        os.makedirs(self.outside)

    def deploy_refused(self, why="symbolic link"):
        result = self.fails(6, "environment", "deploy", "--version", "v1", "--yes", timeout=QUICK)
        self.assertIn(why, result.stderr)
        self.assertEqual(os.listdir(self.outside), ["victim"] if os.path.exists(
            os.path.join(self.outside, "victim")) else [])

    def victim(self):
        path = os.path.join(self.outside, "victim")
        with open(path, "w") as f:
            f.write("precious\n")
        return path

    def test_lock_file_link_is_refused_and_its_target_kept(self):
        os.makedirs(os.path.join(self.depctl, "locks"), exist_ok=True)
        victim = self.victim()
        os.symlink(victim, os.path.join(self.depctl, "locks", self.env_id + ".lock"))
        self.deploy_refused()
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_history_file_link_is_refused(self):
        os.makedirs(os.path.join(self.depctl, "history"), exist_ok=True)
        victim = self.victim()
        os.symlink(victim, os.path.join(self.depctl, "history", self.env_id + ".jsonl"))
        result = self.run_depctl("environment", "deploy", "--version", "v1", "--yes", timeout=QUICK)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("symbolic link", result.stderr)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_history_and_logs_directory_links_are_refused(self):
        for name in ["history", "logs"]:
            with self.subTest(directory=name):
                link = os.path.join(self.depctl, name)
                shutil.rmtree(link, ignore_errors=True)
                os.symlink(self.outside, link)
                self.run_depctl("environment", "deploy", "--version", "v1", "--yes", timeout=QUICK)
                self.assertEqual(os.listdir(self.outside), [], f"depctl wrote through {name}/")
                os.unlink(link)

    def test_running_and_steps_lock_directory_links_are_refused(self):
        # The record of the deployment under way (running/<env>.json, #14 item 11) and the
        # steps lock (logs/.steps/<env>.lock, item 1) are depctl's own files too.
        ran = os.path.join(self.dir, "ran")
        self.ok("service", "edit", "Api", "--deploy", f"touch {ran}")
        for name in ["running", os.path.join("logs", ".steps")]:
            with self.subTest(directory=name):
                link = os.path.join(self.depctl, name)
                os.makedirs(os.path.dirname(link), exist_ok=True)
                shutil.rmtree(link, ignore_errors=True)
                os.symlink(self.outside, link)
                result = self.fails(6, "environment", "deploy", "--version", "v1", "--yes",
                                    timeout=QUICK)
                self.assertIn("symbolic link", result.stderr)
                self.assertEqual(os.listdir(self.outside), [], f"depctl wrote through {name}/")
                self.assertFalse(os.path.exists(ran), "a step ran")
                os.unlink(link)
        self.ok("environment", "deploy", "--version", "v1", "--yes")
        self.assertTrue(os.path.exists(ran))


@file_backend_only("about the .depctl directory")
class UnreadableDepctlIsAPermissionError(DepctlTestCase):
    def test_no_fallback_to_the_parent_project(self):
        # The parent project is readable; the child's .depctl/ is not (for "nobody", since
        # root reads everything).
        self.init_environment("parent-env")
        child = os.path.join(self.project, "child")
        os.makedirs(os.path.join(child, ".depctl"))
        with open(os.path.join(child, ".depctl", "state.json"), "w") as f:
            f.write("{}")
        os.chmod(os.path.join(child, ".depctl"), 0o700)
        kwargs = {}
        if os.geteuid() == 0:
            import pwd
            nobody = pwd.getpwnam("nobody")
            for root, dirs, files in os.walk(self.dir):
                for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                    if not name.startswith(os.path.join(child, ".depctl")):
                        os.chown(name, nobody.pw_uid, nobody.pw_gid)
            os.chmod(self.dir, 0o755)
            kwargs = {"user": nobody.pw_uid, "group": nobody.pw_gid}
        else:
            os.chmod(os.path.join(child, ".depctl"), 0)
            self.addCleanup(os.chmod, os.path.join(child, ".depctl"), 0o700)
        result = subprocess.run([DEPCTL, "environment", "list"], cwd=child, env=self.env,
                                capture_output=True, text=True, timeout=QUICK, **kwargs)
        self.assertEqual(result.returncode, 6, result.stdout + result.stderr)
        self.assertIn("Permission denied", result.stderr)
        self.assertNotIn("parent-env", result.stdout)
