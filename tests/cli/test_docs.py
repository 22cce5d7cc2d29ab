"""Every command example in README.md and docs/*.md runs, and shows what the docs say.

Conventions (also in docs/CONTRIBUTING.md):
- Each page is one scenario, run top to bottom in a fresh directory: HOME is a temp
  /home/me, the commands start in /home/me/shop (empty), ~/depctl is this repository, and
  the built depctl is first on PATH. `cd` and `export` carry over to the next command.
- ```console blocks are transcripts: `$ ` starts a command (a trailing backslash continues
  it); the lines up to the next command are its expected output. They must appear in the
  actual output (stdout and stderr), in order, with runs of blanks compared as one blank;
  `...` inside a line matches anything; ids (dep_..., env_...), timestamps and durations
  (1.2s) match any value of their kind. A command whose expected output has an
  `error:` line must fail, any other must succeed; `# exit N` at the end of a command
  line demands exit code N.
- ```sh blocks are scripts, each run as one (`set -e`): every command must succeed;
  output is not checked.
- `<!-- doc-test: skip REASON -->` right before a block leaves it out (the reason is
  required). `<!-- doc-test: setup` ... `-->` holds hidden commands, one per line, run
  where they stand (for the context a page assumes without showing it).
  `<!-- doc-test: reset -->` starts over in a fresh directory, so that a reference page
  can give each section its own small scenario.
- Any other block with a `$ ` line is an error: examples are transcripts or skipped.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from depctl_test import DEPCTL

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAGES = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
                               if f.endswith(".md"))

FENCE = re.compile(r"^```(\S*)\s*$")
SKIP = re.compile(r"^<!-- doc-test: skip (\S.*?) -->$")
ID = re.compile(r"\b(prj|env|stg|svc|dep)_[a-z0-9]{3,}\b")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
DURATION = re.compile(r"\b\d+(\.\d+)?s\b")


class Step:
    def __init__(self, page, line, command, expected=None, kind="console"):
        self.page, self.line, self.command, self.kind = page, line, command, kind
        self.expected = expected or []
        self.exit = None
        match = re.search(r"\s#\s*exit (\d+)\s*$", command)
        if match:
            self.exit = int(match.group(1))


def parse_page(page):
    """The page's steps, in order: ('console'|'sh'|'setup', line number, command, expected)."""
    with open(os.path.join(ROOT, page)) as f:
        lines = f.read().splitlines()
    steps, problems = [], []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "<!-- doc-test: reset -->":
            steps.append(Step(page, i + 1, "", kind="reset"))
            i += 1
            continue
        if line.strip() == "<!-- doc-test: setup":
            i += 1
            while lines[i].strip() != "-->":
                if lines[i].strip():
                    steps.append(Step(page, i + 1, lines[i].strip(), kind="setup"))
                i += 1
            i += 1
            continue
        fence = FENCE.match(line)
        if not fence:
            i += 1
            continue
        lang, start = fence.group(1), i
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        skipped = start > 0 and SKIP.match(lines[start - 1].strip())
        if start > 0 and lines[start - 1].strip().startswith("<!-- doc-test: skip") and not skipped:
            problems.append(f"{page}:{start}: a skip needs a reason")
        if skipped:
            continue
        if lang == "console":
            steps += parse_console(page, start + 2, body)
        elif lang == "sh":
            steps += parse_script(page, start + 2, body)
        elif any(b.startswith("$ ") for b in body):
            problems.append(f"{page}:{start + 1}: a ```{lang} block with `$ ` lines: make it ```console "
                            f"or mark it <!-- doc-test: skip REASON -->")
    return steps, problems


def parse_console(page, first_line, body):
    steps = []
    k = 0
    while k < len(body):
        if body[k].startswith("$ "):
            command, line = body[k][2:], first_line + k
            while command.endswith("\\") and k + 1 < len(body):
                k += 1
                command += "\n" + body[k]  # the shell continues the line
            steps.append(Step(page, line, command))
        elif steps:
            steps[-1].expected.append(body[k])
        k += 1
    return steps


def parse_script(page, first_line, body):
    """A ```sh block runs as one script that stops at the first failing command, so that
    its shell variables carry from line to line as they would for a reader."""
    if not any(line.strip() and not line.strip().startswith("#") for line in body):
        return []
    return [Step(page, first_line, "set -e\n" + "\n".join(body) + "\nset +e", kind="sh")]


def pattern(expected_line):
    """A regex for one expected output line (see the module docstring)."""
    text = " ".join(expected_line.split())
    out, pos = "", 0
    tokens = re.compile(r"\.\.\.|" + ID.pattern + "|" + TIMESTAMP.pattern + "|" + DURATION.pattern)
    for m in tokens.finditer(text):
        out += re.escape(text[pos:m.start()])
        token = m.group(0)
        if token == "...":
            out += ".*"
        elif ID.fullmatch(token):
            out += ID.fullmatch(token).group(1) + r"_[a-z0-9]+"
        elif TIMESTAMP.fullmatch(token):
            out += TIMESTAMP.pattern
        else:
            out += r"\d+(\.\d+)?s"
        pos = m.end()
    return re.compile(out + re.escape(text[pos:]))


class Docs(unittest.TestCase):
    def sandbox(self):
        """A fresh temp HOME (/home/me) with an empty ~/shop to start in, ~/depctl being
        this repository, and the environment the commands run with."""
        tmp = tempfile.mkdtemp(prefix="depctl-docs-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        self.addCleanup(self.assert_nothing_left_running, tmp)
        home = os.path.join(tmp, "home", "me")
        project = os.path.join(home, "shop")
        os.makedirs(project)
        os.symlink(ROOT, os.path.join(home, "depctl"))
        bindir = os.path.dirname(os.path.abspath(DEPCTL))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("DEPCTL_") and k not in ("NO_COLOR", "CI", "XDG_CONFIG_HOME", "GITHUB_ACTIONS")}
        env.update(HOME=home, USER="me", LOGNAME="me", PATH=bindir + os.pathsep + env["PATH"],
                   PYTHONDONTWRITEBYTECODE="1")
        state_file = os.path.join(tmp, "shell-state")
        with open(state_file, "w") as f:
            f.write(f"cd {project}\n")
        return tmp, env, state_file

    def run_page(self, page):
        steps, problems = parse_page(page)
        self.assertEqual(problems, [])
        tmp, env, state_file = self.sandbox()
        for step in steps:
            if step.kind == "reset":
                tmp, env, state_file = self.sandbox()
                continue
            # One bash per command; the working directory, the exports and $? carry over.
            script = (f". {state_file}\n{step.command}\nstatus=$?\n"
                      f"{{ echo \"cd '$PWD'\"; export -p; echo \"(exit $status)\"; }} > {state_file}\n"
                      f"exit $status\n")
            result = subprocess.run(["bash", "-c", script], env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
            output = result.stdout.replace(tmp, "")
            where = (f"{step.page}:{step.line}: $ {step.command}\n--- output ---\n{output}\n"
                     "(an example that cannot run in a test gets <!-- doc-test: skip REASON --> before "
                     "its block; see docs/CONTRIBUTING.md, section Docs)\n")
            wants_failure = any(e.startswith("error:") for e in step.expected)
            if step.exit is not None:
                self.assertEqual(result.returncode, step.exit, where)
            elif wants_failure:
                self.assertNotEqual(result.returncode, 0, where)
            else:
                self.assertEqual(result.returncode, 0, where)
            self.assert_output(step, output, where)
        return steps

    def assert_nothing_left_running(self, tmp):
        """A page stops what it starts; anything left is killed (by pid) and reported."""
        left = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if tmp in cmdline:
                left.append(cmdline)
                try:
                    os.kill(int(pid), 9)
                except OSError:
                    pass
        self.assertEqual(left, [], "processes left running by the page")

    def assert_output(self, step, output, where):
        actual = [" ".join(line.split()) for line in output.splitlines()]
        at = 0
        for expected in step.expected:
            if not expected.strip():
                continue
            regex = pattern(expected)
            while at < len(actual) and not regex.fullmatch(actual[at]):
                at += 1
            self.assertLess(at, len(actual), f"{where}--- missing, in this order ---\n{expected}")
            at += 1


def make_test(page):
    def test(self):
        self.run_page(page)
    test.__doc__ = f"the examples of {page} run as shown"
    return test


for _page in PAGES:
    setattr(Docs, "test_" + re.sub(r"\W", "_", _page[:-3]), make_test(_page))


if __name__ == "__main__":
    unittest.main()
