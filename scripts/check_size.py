#!/usr/bin/env python3
"""Code-health limits of STYLE.md, checked over src/ and include/ (ctest `lint: size`).

1. No file in src/ over 400 lines.
2. No function over 60 lines (from the line of its opening brace to its closing one),
   except the CLI registration tables (`register_*` in src/cli) and what ALLOWED names.
3. No status string literal ("DEPLOYED", "FAILED", ...) outside the status table
   (src/core/record/status.cpp): statuses are enums, spelled once.

The function finder is a brace matcher, not a C++ parser: comments, string and character
literals are blanked first; a brace opens a function body when the text before it ends
like a function head (`...) const {`, `...) : m_x(x) {`) and is no control statement.
Usage: check_size.py [ROOT] [--report]   (--report also lists the longest functions)
"""
import os
import re
import sys

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
STATUS_TABLE = "src/core/record/status.cpp"
# name: why it may be longer (keep this short; prefer splitting)
ALLOWED = {}

CONTROL = re.compile(r"\b(if|for|while|switch|catch|do|else|try)\s*(\(|$)")
CONTAINER = re.compile(r"\b(namespace|class|struct|enum|union)\b[^;()]*$|extern\s*$")
FUNC_END = re.compile(r"\)\s*(const|noexcept|override|final|mutable|&|&&|\s)*(->\s*[\w:<>,\s*&]+)?$")
INIT_LIST = re.compile(r"\)\s*(noexcept\s*)?:\s*[\w:]+\s*[({]")


def blank(text):
    """Comments and literals replaced by spaces (newlines kept, so line numbers hold)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + re.sub(r"[^\n]", " ", text[i + 2:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (j - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def head_before(code, pos):
    """The text of the statement that a brace at pos opens: back to ; { } or a directive."""
    start = max(code.rfind(";", 0, pos), code.rfind("{", 0, pos), code.rfind("}", 0, pos))
    head = code[start + 1:pos]
    head = "\n".join(line for line in head.split("\n") if not line.lstrip().startswith("#"))
    return " ".join(head.split())


def function_name(head):
    m = re.search(r"([~\w:]+)\s*\((?:[^()]|\([^()]*\))*\)[^()]*$", head)
    return m.group(1) if m else "?"


def in_function(stack):
    return any(isinstance(s, tuple) for s in stack)


def check(root, report=False):
    problems, lengths = [], []
    table_names = set()
    with open(os.path.join(root, STATUS_TABLE), encoding="utf-8") as f:
        table_names = set(re.findall(r'::\w+, "([A-Z_]+)"\}', f.read()))
    status_literal = re.compile(r'"(' + "|".join(sorted(table_names)) + r')"')
    for top in ("src", "include"):
        for folder, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if not name.endswith((".cpp", ".hpp")):
                    continue
                path = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    text = f.read()
                lines = text.count("\n")
                if top == "src" and lines > MAX_FILE_LINES:
                    problems.append(f"{path}: {lines} lines (limit {MAX_FILE_LINES}): split it")
                if path != STATUS_TABLE:
                    no_comments = blank_comments_only(text)
                    for m in status_literal.finditer(no_comments):
                        line = no_comments.count("\n", 0, m.start()) + 1
                        problems.append(f"{path}:{line}: status literal {m.group()} outside "
                                        f"{STATUS_TABLE}: use the enum and to_string()")
                for fname, first, count in functions(blank(text)):
                    lengths.append((count, f"{path}:{first}", fname))
                    if count <= MAX_FUNCTION_LINES:
                        continue
                    short = fname.split("::")[-1]
                    if path.startswith("src/cli/") and short.startswith("register_"):
                        continue  # a CLI registration table
                    if short in ALLOWED:
                        continue
                    problems.append(f"{path}:{first}: function {fname} is {count} lines "
                                    f"(limit {MAX_FUNCTION_LINES})")
    if report:
        for count, where, fname in sorted(lengths, reverse=True)[:15]:
            print(f"size: {count:4d} lines  {fname}  {where}")
    return problems


def blank_comments_only(text):
    """Comments blanked, literals kept (the status check looks for literals)."""
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group()), text, flags=re.S)
    return re.sub(r'//[^\n]*', "", text)


def functions(code):
    out, stack = [], []
    line_of = lambda p: code.count("\n", 0, p) + 1
    for m in re.finditer(r"[{}]", code):
        pos = m.start()
        if m.group() == "{":
            if in_function(stack):
                stack.append("block")
                continue
            head = head_before(code, pos)
            if CONTAINER.search(head) and not FUNC_END.search(head):
                stack.append("container")
            elif (FUNC_END.search(head) or INIT_LIST.search(head)) and not CONTROL.search(head) \
                    and not re.search(r"=\s*\S*$", head.split("(")[0]):
                stack.append((function_name(head), line_of(pos)))
            else:
                stack.append("block")
        elif stack:
            top = stack.pop()
            if isinstance(top, tuple):
                out.append((top[0], top[1], line_of(pos) - top[1] + 1))
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = args[0] if args else os.path.join(os.path.dirname(__file__), "..")
    problems = check(os.path.abspath(root), report="--report" in sys.argv)
    for p in problems:
        print("size: " + p)
    if problems:
        print(f"size: {len(problems)} problem(s) (STYLE.md: files under 400 lines, functions "
              "under ~60, statuses spelled only in the status table)", file=sys.stderr)
        return 1
    print("size: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
