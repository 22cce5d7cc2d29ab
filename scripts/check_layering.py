#!/usr/bin/env python3
"""The architecture of DESIGN §1, checked over the #include lines (ctest `lint: layering`).

1. src/core, src/util and include/ use no CLI11, no terminal code (isatty, <iostream>,
   termios, ioctl, the CLI's table/progress helpers) and no HTTP-server header (httplib).
2. src/util knows nothing of depctl: no include of depctl/, core/, cli/ or ui/ headers.
3. No include cycle between modules. A module is a header and the .cpp of the same name
   (include/depctl/plan.hpp + src/core/plan/plan.cpp): `a.cpp` including `b.hpp` while
   `b.cpp` (or b.hpp) includes `a.hpp` is a cycle even though each file compiles.

Usage: check_layering.py [ROOT]   (exit 1 and one line per finding when something is wrong)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]', re.M)
LOWER_LAYERS = ("src/core", "src/util", "include")
FORBIDDEN_HEADERS = [
    (re.compile(r"^CLI/"), "CLI11 (the command line belongs to src/cli)"),
    (re.compile(r"httplib"), "an HTTP-server header (serving belongs to src/ui)"),
    (re.compile(r"^iostream$"), "<iostream> (terminal output belongs to src/cli)"),
    (re.compile(r"^termios\.h$|^sys/ioctl\.h$"), "terminal control (belongs to src/cli)"),
    (re.compile(r"^(cli|ui)/"), "a front-end header"),
    (re.compile(r"^(table|progress|progress_live|common|commands|signals|help)\.hpp$"),
     "a CLI helper (src/cli)"),
]
FORBIDDEN_CALLS = [(re.compile(r"\bisatty\s*\("), "isatty() (terminal detection belongs to src/cli)")]
UTIL_FORBIDDEN = re.compile(r"^(depctl|core|cli|ui)/")


def sources(root):
    for top in ("src", "include"):
        for folder, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if name.endswith((".cpp", ".hpp")):
                    path = os.path.join(folder, name)
                    yield os.path.relpath(path, root).replace(os.sep, "/")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def module_of(path):
    """include/depctl/x.hpp and src/core/*/x.cpp are module x; others keep their layer."""
    stem = os.path.splitext(os.path.basename(path))[0]
    if path.startswith("include/depctl/") or path.startswith("src/core/"):
        return stem
    return os.path.dirname(path).replace("src/", "", 1) + "/" + stem


def resolve(root, path, quoted, name, known):
    """The project file an include names, or None for a system or library header."""
    candidates = ([os.path.normpath(os.path.join(os.path.dirname(path), name))] if quoted else [])
    candidates += ["include/" + name, "src/" + name, "src/cli/" + name]
    for c in candidates:
        c = c.replace(os.sep, "/")
        if c in known:
            return c
    return None


def check(root):
    files = list(sources(root))
    known = set(files)
    problems = []
    edges = {}  # module -> {module: "file:line" that made the edge}
    for path in files:
        with open(os.path.join(root, path), encoding="utf-8") as f:
            text = strip_comments(f.read())
        lower = path.startswith(LOWER_LAYERS)
        for m in INCLUDE.finditer(text):
            quoted, name = m.group(1) == '"', m.group(2)
            line = text.count("\n", 0, m.start()) + 1
            where = f"{path}:{line}"
            if lower:
                for pattern, why in FORBIDDEN_HEADERS:
                    if pattern.search(name):
                        problems.append(f"{where}: includes {name}: {why}")
            if path.startswith("src/util/") and UTIL_FORBIDDEN.match(name):
                problems.append(f"{where}: includes {name}: src/util knows nothing of depctl")
            target = resolve(root, path, quoted, name, known)
            if target:
                a, b = module_of(path), module_of(target)
                if a != b:
                    edges.setdefault(a, {}).setdefault(b, where)
        if lower:
            for pattern, why in FORBIDDEN_CALLS:
                for m in pattern.finditer(text):
                    problems.append(f"{path}:{text.count(chr(10), 0, m.start()) + 1}: {why}")
    for cycle in cycles(edges):
        links = [f"{a} -> {b} ({edges[a][b]})" for a, b in zip(cycle, cycle[1:] + cycle[:1])]
        problems.append("include cycle: " + "; ".join(links))
    return problems


def cycles(edges):
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(shortest_cycle(edges, set(component), min(component)))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def shortest_cycle(edges, component, start):
    """The shortest path from start back to itself inside the component (breadth first)."""
    previous, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges.get(v, {})):
                if w not in component:
                    continue
                if w == start:
                    path = [v]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return list(reversed(path))
                if w not in previous:
                    previous[w] = v
                    nxt.append(w)
        frontier = nxt
    return [start]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems = check(os.path.abspath(root))
    for p in problems:
        print("layering: " + p)
    if problems:
        print(f"layering: {len(problems)} problem(s); DESIGN §1 and docs/CONTRIBUTING.md say "
              "where things belong", file=sys.stderr)
        return 1
    print("layering: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
