#!/usr/bin/env python3
"""Regenerates the seed corpora of tests/fuzz/corpus/ from the black-box tests.

cli:   every depctl command line written as literal words in tests/cli/test_*.py
       (calls of ok/fails/json/run_depctl/spawn), one word per line, without the words
       the target filters out (deploy/stop/cancel, anything with a '/').
state: the state.json files the real binary writes while replaying a few of those
       sessions, plus the bad states of test_bad_input.py that are small.

Usage: python3 tests/fuzz/make_seeds.py [path/to/depctl]   (default build/depctl)"""
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CALLS = {"ok", "fails", "json", "run_depctl", "spawn", "run_words", "command_case"}
SKIP = {"deploy", "stop", "cancel"}


def literal_words(call):
    words = []
    for node in call.args:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            words.append(node.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, int) and call.func.attr == "fails" \
                and not words:
            continue  # the expected exit code of fails()
        elif isinstance(node, ast.Starred):
            return None
        else:
            return None
    return words


def cli_seeds():
    seeds = set()
    for name in sorted(os.listdir(os.path.join(ROOT, "tests", "cli"))):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        with open(os.path.join(ROOT, "tests", "cli", name)) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CALLS:
                words = literal_words(node)
                if not words or len(words) > 64:
                    continue
                if any(w.lower() in SKIP or "/" in w or "\n" in w for w in words):
                    continue
                if node.func.attr == "json":
                    words = words + ["-o", "json"]
                seeds.add("\n".join(words))
    return sorted(seeds)


def write_corpus(target, items):
    out = os.path.join(HERE, "corpus", target)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for item in items:
        data = item.encode() if isinstance(item, str) else item
        with open(os.path.join(out, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
            f.write(data)
    print(f"{target}: {len(items)} seeds in {os.path.relpath(out, ROOT)}")


def state_seeds(depctl):
    sessions = [
        [["init", "--project", "empty"]],
        [["init", "--project", "shop"], ["environment", "create", "production", "--type", "production"],
         ["environment", "create", "staging"], ["context", "set", "-e", "production"],
         ["service", "create", "DB", "--type", "database", "--deploy", "echo db", "--stop", "echo stop"],
         ["service", "create", "Api", "--type", "application", "--build", "make", "--release", "migrate",
          "--deploy", "run", "--health-cmd", "true", "--health-attempts", "3", "--health-interval", "0.5",
          "--env", "PORT=8080", "--build-timeout", "60", "--deploy-timeout", "30", "--retries", "2"],
         ["service", "create", "Web", "--type", "application", "--health-http", "http://127.0.0.1:8080/health",
          "--health-expect", "200-399", "--secret", "TOKEN=env:TOKEN"],
         ["service", "create", "Chart", "--type", "helm"],
         ["service", "depend", "Web", "--on", "Api"], ["service", "depend", "Api", "--on", "DB"],
         ["environment", "stage", "create", "-n", "QA", "-d", "quality gate", "--before", "APPLICATION DEFAULT"],
         ["environment", "stage", "skip", "-n", "Chart"],
         ["environment", "edit", "staging", "--require-approval", "on", "--pre-deploy", "echo pre",
          "--post-deploy", "echo post"],
         ["project", "edit", "--enforced-order", "staging,production"]],
    ]
    states = []
    for session in sessions:
        with tempfile.TemporaryDirectory() as tmp:
            env = {k: v for k, v in os.environ.items() if not k.startswith("DEPCTL_")}
            env.update(HOME=tmp, XDG_CONFIG_HOME=os.path.join(tmp, ".config"))
            for words in session:
                subprocess.run([depctl, *words], cwd=tmp, env=env, check=True, capture_output=True)
            with open(os.path.join(tmp, ".depctl", "state.json"), "rb") as f:
                states.append(f.read())
    rich = json.loads(states[-1])
    rich["environments"][0]["services"][0]["current"] = {
        "version": "1.2.3", "status": "DEPLOYED", "updated_at": "2024-05-01T10:00:00Z", "deployment_id": "dep_abc"}
    states.append(json.dumps(rich).encode())
    states.append(json.dumps(rich, separators=(",", ":")).encode())
    return states


def main():
    depctl = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "depctl")
    write_corpus("cli", cli_seeds())
    write_corpus("state", state_seeds(depctl))


if __name__ == "__main__":
    main()
