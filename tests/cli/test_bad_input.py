"""Every bad input of docs/reliability.md's table, one test per row: the exit code, the
message, and a state left byte-for-byte as it was. `python3 test_bad_input.py --table`
prints the table for the docs from the same rows, with the messages depctl really gives.

A row is (name, what is bad, how it is fed, expected exit code, text the message holds).
State rows write bytes into .depctl/state.json and run `depctl service list`; command
rows run the words given against a project with one environment and three services."""
import json
import os
import random
import subprocess
import sys
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase, file_backend_only

DEEP = 100_000


def state_rows():
    """(name, what, edit, code, message): edit(doc, good_bytes) returns the bytes to load."""

    def doc_edit(change):
        def edit(doc, good):
            change(doc)
            return json.dumps(doc, indent=2).encode()
        return edit

    def env(doc):
        return doc["environments"][0]

    def svc(doc, i=0):
        return env(doc)["services"][i]

    def nested_inside(doc):
        doc["extra"] = "@@DEEP@@"
        return json.dumps(doc).replace('"@@DEEP@@"', "[" * DEEP + "]" * DEEP).encode()

    def wide(doc):
        base = svc(doc)
        stage = base["stage_id"]
        env(doc)["services"] = [{"id": f"svc_{i:08d}", "name": f"service-{i}", "type": "APPLICATION",
                                 "stage_id": stage, "deploy": "echo deploy"} for i in range(20_000)]
        return json.dumps(doc).encode()

    def dup_key(doc, good):
        text = json.dumps(doc, indent=2)
        return text.replace('"name": "demo"', '"name": "ignored", "name": "demo"', 1).encode()

    return [
        ("malformed", "malformed JSON (a missing value)", lambda d, g: b'{"schema_version": 1, "project": }',
         6, "is unreadable: [json.exception.parse_error.101]"),
        ("truncated", "truncated: the first half of a valid state", lambda d, g: g[: len(g) // 2],
         6, "is unreadable: [json.exception.parse_error.101]"),
        ("empty", "an empty file", lambda d, g: b"", 6, "unexpected end of input"),
        ("binary", "binary garbage (4 KiB of random bytes, no NUL)",
         lambda d, g: bytes(random.Random(7).randrange(1, 256) for _ in range(4096)), 6, "is unreadable"),
        ("not_object", "valid JSON that is not an object", lambda d, g: b"[1, 2, 3]",
         6, "the document is not an object"),
        ("deep_unclosed", f"deeply nested: {DEEP:,} unclosed '['", lambda d, g: b"[" * DEEP,
         6, "is unreadable: [json.exception.parse_error.101]"),
        ("deep_closed", f"deeply nested: {DEEP:,} '[' then as many ']'", lambda d, g: b"[" * DEEP + b"]" * DEEP,
         6, "the document is not an object"),
        ("deep_in_unknown_field", f"deeply nested ({DEEP:,} levels) inside an unknown field",
         lambda d, g: nested_inside(d), 0, "Backend"),
        ("huge_string", "huge: a 64 MB deploy command", doc_edit(lambda d: svc(d).update(deploy="x" * (64 << 20))),
         6, "is longer than 64 KiB"),
        ("many_services", "huge: 20,000 services in one environment", lambda d, g: wide(d), 0, "service-19999"),
        ("newer_schema", "unknown schema version (99, newer)", doc_edit(lambda d: d.update(schema_version=99)),
         6, "newer than this depctl supports (1)"),
        ("zero_schema", "schema version 0", doc_edit(lambda d: d.update(schema_version=0)),
         6, "invalid schema_version 0"),
        ("string_schema", 'schema version "1" (a string)', doc_edit(lambda d: d.update(schema_version="1")),
         6, 'field "schema_version" is not a number'),
        ("absurd_schema", "schema version 1e30", lambda d, g: g.replace(b'"schema_version": 1', b'"schema_version": 1e30'),
         6, 'field "schema_version" is out of range'),
        ("missing_project", "no project", doc_edit(lambda d: d.pop("project")), 6, 'missing field "project"'),
        ("wrong_type", "a name that is a number", doc_edit(lambda d: svc(d).update(name=5)),
         6, 'field "name" is not a string'),
        ("unknown_type", "an unknown service type", doc_edit(lambda d: svc(d).update(type="LAMBDA")),
         6, 'unknown service type "LAMBDA"'),
        ("duplicate_id", "duplicate ids (two services with one id)",
         doc_edit(lambda d: svc(d, 1).update(id=svc(d, 0)["id"])), 6, "duplicate id"),
        ("duplicate_name", "duplicate names in another letter case",
         doc_edit(lambda d: svc(d, 1).update(name=svc(d, 0)["name"].upper())), 6, "duplicate service name"),
        ("duplicate_key", "a duplicate key in an object", dup_key, 0, "Backend"),
        ("dangling_stage", "dangling reference: a service's stage id",
         doc_edit(lambda d: svc(d).update(stage_id="stg_gone")), 6, 'refers to unknown stage id "stg_gone"'),
        ("dangling_dependency", "dangling reference: a depends_on id",
         doc_edit(lambda d: svc(d).update(depends_on=["svc_gone"])), 6, 'depends on unknown service id "svc_gone"'),
        ("dangling_order", "dangling reference: an enforced_order id",
         doc_edit(lambda d: d["project"].update(enforced_order=["env_gone"])), 6,
         'enforced order refers to unknown environment id "env_gone"'),
        ("dangling_default", "dangling reference: a default stage id",
         doc_edit(lambda d: env(d)["default_stages"].update(JOB="stg_gone")), 6, "refers to unknown stage id"),
        ("cycle", "a dependency cycle",
         doc_edit(lambda d: (svc(d, 1).update(depends_on=[svc(d, 2)["id"]]),
                             svc(d, 2).update(depends_on=[svc(d, 1)["id"]]))), 6, "dependency cycle"),
        ("control_name", "a name with a control character (BEL)", doc_edit(lambda d: svc(d).update(name="a\x07b")),
         6, 'service name "a\\x07b" contains a control character'),
        ("long_name", "a name 10 kB long", doc_edit(lambda d: svc(d).update(name="n" * 10_000)),
         6, "is 10000 characters long (at most 100)"),
        ("bad_utf8", "bytes that are not UTF-8 in a string", lambda d, g: g.replace(b'"demo"', b'"de\xffmo"', 1),
         6, "invalid string: ill-formed UTF-8 byte"),
        ("negative_timeout", "a negative timeout", doc_edit(lambda d: svc(d).update(deploy_timeout_s=-5)),
         6, 'field "deploy_timeout_s" is out of range: -5 (allowed: 1 to 604800)'),
        ("absurd_timeout", "an absurd timeout (1e300 s)",
         lambda d, g: g.replace(b'"stage_id"', b'"build_timeout_s": 1e300, "stage_id"', 1),
         6, 'field "build_timeout_s" is out of range'),
        ("fractional_retries", "a fractional retry count", doc_edit(lambda d: svc(d).update(retries=1.5)),
         6, 'field "retries" is not a whole number: 1.5'),
        ("absurd_interval", "a negative health interval",
         doc_edit(lambda d: svc(d).update(health={"cmd": "true", "interval_s": -1})),
         6, 'field "interval_s" is out of range'),
    ]


LONG = "x" * 10_000


def command_rows():
    """(name, what, words, code, message)."""
    svc = ("service", "create", "X", "--type", "job")
    return [
        ("unknown_command", "unknown command", ("environment", "stage", "lst"), 2, 'unknown command "lst"'),
        ("unknown_flag", "unknown flag", ("service", "list", "--bogus"), 2, "unknown option --bogus"),
        ("missing_argument", "missing required flag", ("service", "create", "X"), 2, "--type is required"),
        ("bad_output", "unknown output format", ("service", "list", "-o", "yaml"), 2, "--output: yaml not in"),
        ("control_name", "a name with a control character", ("service", "create", "a\x01b", "--type", "job"),
         3, 'invalid service name "a\\x01b": it contains a control character'),
        ("newline_name", "a name with a newline inside", ("environment", "create", "a\nb"),
         3, "contains a control character"),
        ("long_name", "a name 10 kB long", ("service", "create", LONG, "--type", "job"),
         3, "is 10000 characters long (at most 100)"),
        ("long_stage_name", "a stage name 10 kB long", ("environment", "stage", "create", "-n", LONG),
         3, "is 10000 characters long (at most 100)"),
        ("bad_utf8_name", "a name that is not UTF-8", ("service", "create", b"caf\xe9".decode("utf-8", "surrogateescape"),
                                                       "--type", "job"),
         3, 'invalid service name "caf\\xe9": it is not valid UTF-8'),
        ("bad_utf8_command", "a command that is not UTF-8",
         svc + ("--deploy", b"echo \xff".decode("utf-8", "surrogateescape")),
         3, '--deploy of service "X" is not valid UTF-8'),
        ("url_no_scheme", "invalid URL: no scheme", svc + ("--health-http", "localhost:8080/health"),
         3, "invalid health URL"),
        ("url_ftp", "invalid URL: not http(s)", svc + ("--health-http", "ftp://127.0.0.1/health"),
         3, "invalid health URL"),
        ("url_no_host", "invalid URL: no host", svc + ("--health-http", "http:///health"), 3, "invalid health URL"),
        ("url_spaces", "invalid URL: spaces", svc + ("--health-http", "http://a b/"), 3, "invalid health URL"),
        ("state_url", "invalid --state URL: etcd:// with nothing after it", ("--state", "etcd://", "service", "list"),
         3, 'the etcd URL "etcd://" has no key prefix'),
        ("state_url_port", "invalid --state URL: a port that is not a number",
         ("--state", "etcd://127.0.0.1:notaport/shop", "service", "list"),
         6, "etcd at 127.0.0.1:notaport is unreachable: URL using bad/illegal format"),
        ("negative_timeout", "negative timeout", svc + ("--deploy-timeout", "-5"),
         3, "--deploy-timeout -5 is out of range"),
        ("zero_timeout", "zero timeout", svc + ("--build-timeout", "0"), 3, "--build-timeout 0 is out of range"),
        ("absurd_timeout", "absurd timeout (past 7 days)", svc + ("--deploy-timeout", "604801"),
         3, "--deploy-timeout 604801 is out of range"),
        ("overflow_timeout", "timeout past int", svc + ("--deploy-timeout", "99999999999"),
         2, '--deploy-timeout "99999999999" is out of range'),
        ("fractional_timeout", "fractional timeout (whole seconds only)", svc + ("--deploy-timeout", "0.3"),
         2, '--deploy-timeout "0.3" is not a whole number'),
        ("negative_interval", "negative health interval", svc + ("--health-interval", "-1"),
         3, "--health-interval must be a positive number of seconds"),
        ("nan_interval", "NaN health timeout", svc + ("--health-timeout", "nan"),
         3, "--health-timeout must be a positive number of seconds"),
        ("absurd_interval", "absurd health timeout (1e308 s)", svc + ("--health-timeout", "1e308"),
         3, "--health-timeout must be a positive number of seconds"),
        ("negative_retries", "negative retries", svc + ("--retries", "-1"), 3, "--retries -1 is out of range"),
        ("absurd_retries", "absurd retries", svc + ("--retries", "1000000"), 3, "--retries 1000000 is out of range"),
        ("zero_attempts", "zero health attempts", svc + ("--health-attempts", "0"),
         3, "--health-attempts 0 is out of range"),
        ("negative_lock_timeout", "negative --lock-timeout", ("service", "list", "--lock-timeout", "-1"),
         2, "--lock-timeout: Value -1 not in range"),
        ("nan_lock_timeout", "NaN --lock-timeout", ("service", "list", "--lock-timeout", "nan"),
         2, "--lock-timeout: Value nan not in range 0 to 3600"),
        ("zero_parallelism", "parallelism 0", ("environment", "deploy", "--dry-run", "--version", "v1",
                                               "--parallelism", "0"), 2, "--parallelism: Value 0 not in range 1 to 1024"),
        ("negative_parallelism", "negative parallelism", ("environment", "deploy", "--dry-run", "--version", "v1",
                                                          "-j", "-3"), 2, "--parallelism: Value -3 not in range 1 to 1024"),
        ("absurd_parallelism", "absurd parallelism (1,000,000)",
         ("environment", "deploy", "--dry-run", "--version", "v1", "--parallelism", "1000000"), 2,
         "--parallelism: Value 1000000 not in range 1 to 1024"),
        ("negative_grace", "negative --grace", ("environment", "deploy", "--dry-run", "--version", "v1",
                                                "--grace", "-1"), 2, "--grace: Value -1 not in range 0 to 3600"),
        ("nan_grace", "NaN --grace", ("environment", "deploy", "--dry-run", "--version", "v1", "--grace", "nan"),
         2, "--grace: Value nan not in range 0 to 3600"),
        ("bad_version", "a version with a newline", ("environment", "deploy", "--version", "v1\nv2"),
         3, 'invalid version "v1\\x0av2"'),
        ("bad_utf8_version", "a version that is not UTF-8",
         ("environment", "deploy", "--version", b"v\xff".decode("utf-8", "surrogateescape")),
         3, 'invalid version "v\\xff"'),
        ("bad_env", "--env without '='", svc + ("--env", "NOEQUALS"), 3, "is not KEY=VALUE"),
        ("empty_project_name", "an empty project name", ("init", "--project", ""),
         3, 'invalid project name "": it is empty'),
        ("secret_value_as_source", "a secret value where its source belongs", svc + ("--secret", "TOKEN=hunter2"),
         3, 'secret "TOKEN" has an invalid source (not shown: it may be the secret itself)'),
        ("bad_env_name", "--env with an invalid name", svc + ("--env", "1BAD=x"), 3, "invalid variable name"),
        ("bad_position", "stage position 0", ("environment", "stage", "reorder", "-n", "JOB DEFAULT",
                                              "--position", "0"), 3, "out of range"),
    ]


def arg(word):
    return os.fsencode(word) if isinstance(word, str) else word


class BadInput(DepctlTestCase):
    """One test per row; the rows are attached below."""

    def setUp(self):
        super().setUp()

        def build():
            self.init_environment("production")
            for name, kind in (("DB", "database"), ("Backend", "application"), ("Worker", "application")):
                self.ok("service", "create", name, "--type", kind)
        self.from_snapshot("three services", build)

    def run_words(self, words, timeout=120):
        """Runs depctl with bytes both ways: words that are not UTF-8 reach depctl as they
        are, and output that is not UTF-8 is shown with backslash escapes."""
        result = subprocess.run([DEPCTL, *[arg(w) for w in words]], cwd=self.project, env=self.env,
                                stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        result.stdout = result.stdout.decode("utf-8", "backslashreplace")
        result.stderr = result.stderr.decode("utf-8", "backslashreplace")
        return result

    def check(self, result, code, message, before):
        self.assertEqual(result.returncode, code, f"stdout: {result.stdout[:2000]}\nstderr: {result.stderr[:2000]}")
        if code != 0:
            self.assertTrue(result.stderr.startswith("error: "), result.stderr[:2000])
            self.assertIn(message, result.stderr)
        else:  # accepted: the command did its job (`service list` lists the services)
            self.assertIn(message, result.stdout)
        self.assertEqual(self.state_bytes(), before, "bad input changed the state")

    def state_case(self, edit, code, message):
        if code != 0:  # a refused state has nothing to export (the fixture's last check)
            self.export_round_trip = False
        good = self.state_bytes()
        content = edit(json.loads(good), good)
        with open(self.state_path, "wb") as f:
            f.write(content)
        started = time.monotonic()
        result = self.run_words(["service", "list"])
        self.elapsed = time.monotonic() - started
        self.check(result, code, message, content)
        return result

    def command_case(self, words, code, message):
        before = self.state_bytes()
        result = self.run_words(words)
        self.check(result, code, message, before)
        return result


class DocumentedTable(unittest.TestCase):
    def test_docs_table_lists_every_row(self):
        """docs/reliability.md's table has one line per row here, with its exit code."""
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "reliability.md")
        with open(path, encoding="utf-8") as f:
            lines = [line for line in f if line.startswith("| ") and line.count("|") >= 7]
        cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
        documented = {(c[1], c[3]): c[4] for c in cells if len(c) >= 5}
        rows = [(what, str(code), message if code else None) for _, what, _, code, message in state_rows()] + \
               [(what, str(code), message) for _, what, _, code, message in command_rows()]
        missing = [row[:2] for row in rows if row[:2] not in documented]
        self.assertEqual(missing, [], "rows missing from docs/reliability.md (regenerate with --table)")
        # And the message shown there is the one the test expects.
        stale = [row for row in rows if row[2] and row[2].replace("|", "\\|") not in documented[row[:2]]]
        self.assertEqual(stale, [], "messages in docs/reliability.md differ (regenerate with --table)")


def attach():
    for name, what, edit, code, message in state_rows():
        def test(self, edit=edit, code=code, message=message):
            self.state_case(edit, code, message)
        test.__doc__ = f"state.json: {what}"
        setattr(BadInput, f"test_state_{name}", file_backend_only("writes state.json")(test))
    for name, what, words, code, message in command_rows():
        def test(self, words=words, code=code, message=message):
            self.command_case(words, code, message)
        test.__doc__ = f"command line: {what}"
        setattr(BadInput, f"test_command_{name}", test)


attach()


def print_table():
    """Runs every row once and prints the Markdown table of docs/reliability.md."""
    case = BadInput("test_state_malformed")

    def cell(text):
        text = text.strip().replace(case.project + "/", "").replace("|", "\\|").replace("\n", " / ")
        return text if len(text) < 200 else text[:197] + "..."

    def shown(word):
        plain = word.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        if word == LONG:
            return "'x' * 10000"
        return repr(plain).replace("\\\\x", "\\x") if (not word or plain != word or any(c in word for c in " \n\x01")) else word

    print("| # | input | how | exit | message (first line of stderr) | time |")
    print("|---|---|---|---|---|---|")
    n = 0
    for name, what, edit, code, message in state_rows():
        case.setUp()
        try:
            result = case.state_case(edit, code, message)
            n += 1
            first = result.stderr.splitlines()[0] if result.stderr else "(accepted: `service list` prints the services)"
            print(f"| {n} | {cell(what)} | state.json | {result.returncode} | `{cell(first)}` | {case.elapsed:.2f} s |")
        finally:
            case.doCleanups()
    for name, what, words, code, message in command_rows():
        case.setUp()
        try:
            result = case.command_case(words, code, message)
            n += 1
            line = " ".join(shown(w) for w in words)
            print(f"| {n} | {cell(what)} | `depctl {cell(line)}` | {result.returncode} | "
                  f"`{cell(result.stderr.splitlines()[0])}` | |")
        finally:
            case.doCleanups()


if __name__ == "__main__":
    if "--table" in sys.argv:
        print_table()
    else:
        unittest.main()
