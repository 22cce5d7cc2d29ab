"""Shell completion for real: bash sources `depctl completion bash` and its completion
function runs with COMP_WORDS/COMP_CWORD set as bash sets them, calling the real binary
back for subcommands, flags and names from the state."""
import os
import shutil
import subprocess
import unittest

from depctl_test import DEPCTL, DepctlTestCase

HARNESS = "\n".join([
    'source "$1"; shift',
    'COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))',
    'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}',
    '_depctl',
    'status=$?',
    "printf '%s\\n' \"${COMPREPLY[@]}\"",
    'exit $status',
])


class Completion(DepctlTestCase):
    def setUp(self):
        super().setUp()

        def build():
            self.init_environment("dev")
            self.ok("environment", "stage", "edit", "-n", "DATABASE DEFAULT", "--new-name", "first stage")
            self.ok("service", "create", "Api", "--type", "application", "--deploy", "true")
            self.ok("service", "create", "DB", "--type", "database", "--deploy", "true")
            self.ok("service", "create", "Web", "--type", "application")
            self.ok("environment", "create", "staging")
            self.ok("service", "create", "Queue", "--type", "container", "-e", "staging")
        self.from_snapshot("two environments", build)
        self.script = os.path.join(self.dir, "depctl.bash")
        with open(self.script, "w") as f:
            f.write(self.ok("completion", "bash").stdout)

    def complete(self, *words, cwd=None):
        """COMPREPLY for the words after `depctl`; the last one is being completed."""
        result = subprocess.run(["bash", "--norc", "--noprofile", "-c", HARNESS, "harness", self.script, DEPCTL,
                                 *words], cwd=cwd or self.project, env=self.env, capture_output=True, text=True,
                                timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")  # silent, whatever happens
        return [line for line in result.stdout.splitlines() if line]

    def test_the_script_registers_itself_in_an_interactive_bash(self):
        result = subprocess.run(["bash", "--norc", "--noprofile", "-i", "-c",
                                 f"source {self.script} && complete -p depctl"],
                                cwd=self.project, env=self.env, capture_output=True, text=True, timeout=30,
                                stdin=subprocess.DEVNULL)
        self.assertEqual(result.stdout.strip(), "complete -F _depctl depctl", result.stderr)

    def test_subcommands(self):
        top = self.complete("")
        for command in ("init", "context", "project", "environment", "service", "deployment", "completion"):
            self.assertIn(command, top)
        self.assertFalse([c for c in top if c.startswith("__")], "hidden commands are not offered")
        self.assertEqual(self.complete("env", "st"), ["stage", "stop", "status"])
        self.assertEqual(self.complete("environment", "stage", "re"), ["reorder"])
        self.assertEqual(self.complete("completion", ""), ["bash", "zsh", "fish"])

    def test_flags_of_the_command_and_the_global_ones(self):
        flags = self.complete("service", "list", "--")
        for flag in ("--json", "--help", "--state", "--environment", "--output", "--no-color", "--lock-timeout"):
            self.assertIn(flag, flags)
        self.assertNotIn("--project", flags)  # init's, not list's
        self.assertEqual(self.complete("environment", "deploy", "--dry"), ["--dry-run"])
        self.assertIn("--health-http", self.complete("service", "create", "X", "--he"))

    def test_names_from_the_state(self):
        self.assertEqual(self.complete("environment", "stage", "move", "-n", ""), ["Api", "DB", "Web"])
        self.assertEqual(self.complete("service", "depend", "Web", "--on", "a"), ["Api"])  # any letter case
        self.assertEqual(self.complete("service", "show", ""), ["Api", "DB", "Web"])
        self.assertIn(r"first\ stage", self.complete("environment", "stage", "move", "-n", "Api", "-s", "f"))
        self.assertEqual(self.complete("-e", ""), ["dev", "staging"])
        self.assertEqual(self.complete("environment", "edit", ""), ["dev", "staging"])
        # -e anywhere on the line selects the environment whose names are offered.
        self.assertEqual(self.complete("-e", "staging", "service", "edit", ""), ["Queue"])
        self.assertEqual(self.complete("service", "edit", "--environment", "staging", ""), ["Queue"])

    def test_values_of_choices_and_lists(self):
        self.assertEqual(self.complete("service", "create", "X", "--type", ""),
                         ["application", "container", "database", "job", "helm"])
        self.assertEqual(self.complete("env", "edit", "dev", "--require-approval", ""), ["on", "off"])
        self.assertEqual(self.complete("environment", "deploy", "--services", "Api,"), ["Api,DB", "Api,Web"])
        # bash splits --output=json at "=": the "=" and what follows are separate words.
        self.assertEqual(self.complete("env", "list", "--output", "=", ""), ["text", "json"])
        self.assertEqual(self.complete("env", "list", "--output", "=", "j"), ["json"])

    def test_deployment_ids_and_files(self):
        self.ok("environment", "deploy", "--version", "v1")
        record = self.json("deployment", "list")[0]
        self.assertEqual(self.complete("deployment", "show", ""), ["latest", record["id"]])
        self.assertEqual(self.complete("deployment", "logs", "la"), ["latest"])
        # timeline and explain take the same ids (they once offered the word DEPLOYMENT).
        self.assertEqual(self.complete("deployment", "explain", ""), ["latest", record["id"]])
        # environment rollback --to takes a deployment too (or a version, which is not offered).
        self.assertEqual(self.complete("environment", "rollback", "--to", ""), ["latest", record["id"]])
        self.assertIn("rollback", self.complete("environment", "ro"))
        open(os.path.join(self.project, "other-state.json"), "w").close()
        self.assertIn("other-state.json", self.complete("--state", "oth"))

    def test_silent_outside_a_project(self):
        elsewhere = os.path.join(self.dir, "elsewhere")
        os.makedirs(elsewhere)
        self.assertEqual(self.complete("service", "edit", "", cwd=elsewhere), [])
        self.assertIn("service", self.complete("serv", cwd=elsewhere))  # commands still complete
        direct = self.run_depctl("__complete", "--", "service", "edit", "", cwd=elsewhere)
        self.assertEqual((direct.returncode, direct.stdout, direct.stderr), (0, ":names\n", ""))

    def test_zsh_and_fish_scripts(self):
        zsh = self.ok("completion", "zsh").stdout
        self.assertTrue(zsh.startswith("#compdef depctl"))
        fish = self.ok("completion", "fish").stdout
        self.assertIn("complete -c depctl", fish)
        self.fails(2, "completion", "tcsh")

    @unittest.skipUnless(shutil.which("zsh"), "zsh is not installed")
    def test_zsh_completion_function(self):
        path = os.path.join(self.dir, "_depctl")
        with open(path, "w") as f:
            f.write(self.ok("completion", "zsh").stdout)
        # Outside a completion widget, stand-ins for the zle builtins print what they get.
        harness = ('compdef() { :; }; _describe() { print -rl -- "${(@P)4}"; }; _files() { print FILES; }; '
                   'source "$1"; shift; words=("$@"); CURRENT=$#; _depctl')

        def complete(*words):
            result = subprocess.run(["zsh", "-f", "-c", harness, "zsh", path, DEPCTL, *words], cwd=self.project,
                                    env=self.env, capture_output=True, text=True, timeout=30)
            self.assertEqual(result.stderr, "")
            return result.stdout.splitlines()

        self.assertEqual([c.split(":")[0] for c in complete("env", "st")], ["stage", "stop", "status"])
        self.assertIn("first stage", complete("environment", "stage", "move", "-n", "Api", "-s", ""))
        self.assertEqual(complete("--state", ""), ["FILES"])

    @unittest.skipUnless(shutil.which("fish"), "fish is not installed")
    def test_fish_completion(self):
        path = os.path.join(self.dir, "depctl.fish")
        with open(path, "w") as f:
            f.write(self.ok("completion", "fish").stdout)
        bindir = os.path.join(self.dir, "bin")
        os.makedirs(bindir)
        os.symlink(os.path.abspath(DEPCTL), os.path.join(bindir, "depctl"))
        env = dict(self.env, PATH=bindir + os.pathsep + self.env["PATH"])

        def complete(line):
            result = subprocess.run(["fish", "--no-config", "-c", f"source {path}; complete -C '{line}'"],
                                    cwd=self.project, env=env, capture_output=True, text=True, timeout=30)
            self.assertEqual(result.stderr, "")
            return [c.split("\t")[0] for c in result.stdout.splitlines()]

        self.assertEqual(complete("depctl env st"), ["stage", "status", "stop"])  # fish sorts
        self.assertEqual(complete("depctl service edit "), ["Api", "DB", "Web"])
        self.assertEqual(complete("depctl --output="), ["--output=json", "--output=text"])

if __name__ == "__main__":
    unittest.main()
