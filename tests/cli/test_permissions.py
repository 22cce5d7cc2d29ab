"""Everything depctl creates is private to its user: directories 0700, files 0600, whatever
the umask (DESIGN §2). Checked on the disk, after init, mutations, a deploy (history, step
logs, the environment lock) and `context set`."""
import os
import stat
import unittest

from depctl_test import DepctlTestCase, file_backend_only


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


@file_backend_only("checks the files of the file backend")
class Permissions(DepctlTestCase):
    snapshots = False  # each test must see depctl create its files under its umask

    def with_umask(self, value):
        old = os.umask(value)
        self.addCleanup(os.umask, old)

    def deploy_everything(self):
        self.init_environment("dev")
        self.ok("service", "create", "Api", "--type", "application", "--build", "echo built",
                "--deploy", "echo deployed", "--health-cmd", "true")
        self.ok("environment", "deploy", "--version", "v1")

    def walk(self, root):
        """(path, mode) of root and everything below it."""
        found = [(root, mode(root))]
        for parent, dirs, files in os.walk(root):
            found += [(os.path.join(parent, n), mode(os.path.join(parent, n))) for n in dirs + files]
        return found

    def assert_private(self, root, expect_kinds):
        found = self.walk(root)
        seen = set()
        for path, bits in found:
            rel = os.path.relpath(path, root)
            if os.path.isdir(path):
                self.assertEqual(bits, 0o700, f"directory {rel} is {oct(bits)}")
            else:
                self.assertEqual(bits, 0o600, f"file {rel} is {oct(bits)}")
            seen.add(rel.split(os.sep)[0] if rel != "." else ".")
        for kind in expect_kinds:
            self.assertIn(kind, seen, f"nothing under {kind} was created, so nothing was checked")
        return found

    def check_tree(self):
        depctl_dir = os.path.dirname(self.state_path)
        found = self.assert_private(depctl_dir, ["state.json", "state.lock", "history", "logs", "locks"])
        logs = [p for p, _ in found if p.endswith(".log")]
        self.assertGreaterEqual(len(logs), 3, logs)  # build, deploy and health logs were checked
        self.assertTrue(any(p.endswith(".jsonl") for p, _ in found))
        # $XDG_CONFIG_HOME itself did not exist either: depctl created it, 0700 as XDG asks.
        self.assertEqual(mode(self.env["XDG_CONFIG_HOME"]), 0o700)
        context_dir = os.path.join(self.env["XDG_CONFIG_HOME"], "depctl")
        self.assert_private(context_dir, ["context.json"])
        return found

    def test_private_under_a_permissive_umask(self):
        self.with_umask(0o000)
        self.deploy_everything()
        found = self.check_tree()
        print(f"\numask 000: {len(found)} paths under .depctl checked, all 0700/0600")

    def test_private_under_the_usual_umask(self):
        self.with_umask(0o022)
        self.deploy_everything()
        self.check_tree()

    def test_a_mutation_writes_the_state_0600_again(self):
        # Commits replace the file with a new one created 0600, whatever the old one had.
        self.with_umask(0o022)
        self.init_environment("dev")
        os.chmod(self.state_path, 0o644)
        self.ok("service", "create", "Api", "--type", "application")
        self.assertEqual(mode(self.state_path), 0o600)

    def test_state_directory_named_by_state_is_created_0700(self):
        self.with_umask(0o000)
        target = os.path.join(self.dir, "elsewhere", "deeper", "state.json")
        self.ok("--state", target, "init", "--project", "p")
        self.assertEqual(mode(target), 0o600)
        # Every directory it had to create, not only the innermost.
        self.assertEqual(mode(os.path.join(self.dir, "elsewhere", "deeper")), 0o700)
        self.assertEqual(mode(os.path.join(self.dir, "elsewhere")), 0o700)


if __name__ == "__main__":
    unittest.main()
