"""Every command's --help, found by walking the "Subcommands:" lists from the top: it
describes every argument and flag, lists the global options, and shows examples whose
flags exist."""
import re
import unittest

from depctl_test import DepctlTestCase

GLOBAL_FLAGS = ["--state", "--environment", "--output", "--no-color", "--quiet", "--verbose", "--lock-timeout"]


def sections(text):
    """{'Options': [lines], 'Subcommands': [...], ...} from CLI11's help layout."""
    out, current = {}, None
    for line in text.splitlines():
        header = re.fullmatch(r"([A-Z][A-Za-z ]*(?: \([^)]*\))?):", line)
        if header:
            current = header.group(1)
            out[current] = []
        elif current and line.strip():
            out[current].append(line)
        elif current and not line.strip() and out[current]:
            current = None
    return out


def entries(lines):
    """(term, description) pairs; CLI11 puts a long term's description on the next line."""
    result = []
    for line in lines:
        if re.match(r"^ {2}\S", line):
            term, _, desc = line.strip().partition("  ")
            result.append([term, desc.strip()])
        elif re.match(r"^ {20,}\S", line) and result:
            result[-1][1] = (result[-1][1] + " " + line.strip()).strip()
    return result


def walk_commands(run_help):
    """{('environment', 'stage', 'list'): help text} for every command reachable from the top;
    run_help(*path) returns the text of `depctl PATH --help`."""
    found = {}
    pending = [()]
    while pending:
        path = pending.pop()
        found[path] = run_help(*path)
        for term, _ in entries(sections(found[path]).get("Subcommands", [])):
            pending.append(path + (term.split(",")[0].strip(),))
    return found


class Help(DepctlTestCase):
    def commands(self):
        return walk_commands(lambda *path: self.ok(*path, "--help").stdout)

    def test_every_command_is_reachable_and_documented(self):
        commands = self.commands()
        names = {" ".join(p) for p in commands}
        for expected in ["init", "context set", "project edit", "environment deploy", "environment stop",
                         "environment cancel", "environment status", "environment stage reorder",
                         "service create", "service depend", "deployment logs", "completion"]:
            self.assertIn(expected, names)
        self.assertFalse(any(n.startswith("__") or " __" in n for n in names), names)  # hidden commands
        for path, text in commands.items():
            name = "depctl " + " ".join(path)
            with self.subTest(command=name):
                self.assertTrue(text.startswith(text.splitlines()[0]) and text.splitlines()[0].strip(),
                                "a one-line description comes first")
                parts = sections(text)
                for section in ("Options", "Positionals", "Global options (before or after the command)"):
                    for term, desc in entries(parts.get(section, [])):
                        self.assertTrue(desc, f"{name}: {term} has no description")
                self.assert_examples(name, text, commands)
                if path:
                    globals_ = " ".join(t for t, _ in entries(
                        parts.get("Global options (before or after the command)", [])))
                    for flag in GLOBAL_FLAGS:
                        self.assertIn(flag, globals_, f"{name} --help does not list the global {flag}")

    def assert_examples(self, name, text, commands):
        self.assertIn("\nExamples:\n", text, f"{name} --help shows no examples")
        lines = text.split("\nExamples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
        # Join continuation lines (a trailing backslash).
        examples = []
        for line in lines:
            if examples and examples[-1].endswith("\\"):
                examples[-1] = examples[-1][:-1] + " " + line.strip()
            else:
                examples.append(line.strip())
        runs = [e for e in examples if "depctl " in e]
        self.assertTrue(1 <= len(runs) <= 4, f"{name}: {len(runs)} examples")
        for example in runs:
            self.assert_example_flags_exist(name, example, commands)

    def assert_example_flags_exist(self, name, example, commands):
        """Every flag an example passes exists on the command it runs (or is global)."""
        aliases = {"env": "environment", "svc": "service"}
        shell = example.split(" | ")[0].split("  #")[0]
        words = shell[shell.index("depctl ") + 7:].split()
        path = ()
        for word in words:
            word = aliases.get(word, word) if len(path) == 0 else word
            if path + (word,) in commands:
                path += (word,)
        help_text = commands[path]
        self.assertTrue(path, f"{name}: example {example!r} runs no command")
        for flag in re.findall(r"(?<![\w'\"=/.-])(--?[a-zA-Z][\w-]*)", shell):
            self.assertRegex(help_text, rf"(?<![\w-]){re.escape(flag)}(?![\w-])",
                             f"{name}: example {example!r} uses {flag}, which `depctl {' '.join(path)} --help` lacks")

    def test_root_help_lists_exit_codes(self):
        text = self.ok("--help").stdout
        self.assertIn("Exit codes: 0 ok", text)

    def test_value_labels_say_what_a_flag_takes(self):
        text = self.ok("environment", "stage", "move", "--help").stdout
        self.assertRegex(text, r"-n,--name SERVICE REQUIRED")
        self.assertRegex(text, r"-s,--stage STAGE REQUIRED")
        self.assertRegex(self.ok("environment", "deploy", "--help").stdout, r"--services SERVICES")
        self.assertRegex(self.ok("service", "show", "--help").stdout, r"name SERVICE REQUIRED")


if __name__ == "__main__":
    unittest.main()
