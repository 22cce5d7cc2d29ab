#!/usr/bin/env python3
"""Orchestration overhead: depctl versus ninja on the same DAG of `true` commands.

Builds an environment of N services (4 stages, one depends_on edge per service into the
same or an earlier stage, build + deploy commands `true`: 2N steps), deploys it with
depctl, and runs the same graph with ninja at the same -j (stage barriers as phony
edges). Prints a table of medians and the ratio depctl / ninja.

Usage: bench/orchestration.py [--services 1000] [--jobs 4] [--runs 5] [--depctl PATH]
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def make_state(n, rng):
    """A state.json (schema 1) with n services over 4 stages, and the same graph as ninja."""
    stages = [{"id": f"stg_s{k}", "name": f"stage {k + 1}", "description": ""} for k in range(4)]
    services = []
    for i in range(n):
        stage = i * 4 // n
        deps = []
        if i > 0 and rng.random() < 0.9:
            deps.append(f"svc_{rng.randrange(0, i):06d}")  # earlier index: same or earlier stage
        services.append({"id": f"svc_{i:06d}", "name": f"service-{i}", "type": "APPLICATION",
                         "stage_id": f"stg_s{stage}", "build": "true", "deploy": "true",
                         "depends_on": deps})
    state = {"schema_version": 1, "project": {"id": "prj_bench", "name": "bench"},
             "environments": [{"id": "env_bench", "name": "bench", "type": "development",
                               "stages": stages, "default_stages": {}, "services": services}]}
    return state


def make_ninja(state):
    env = state["environments"][0]
    stage_of = {s["id"]: s["stage_id"] for s in env["services"]}
    order = [s["id"] for s in env["stages"]]
    lines = ["rule run", "  command = true", ""]
    by_stage = {sid: [] for sid in order}
    for s in env["services"]:
        by_stage[s["stage_id"]].append(s["id"])
    for k, sid in enumerate(order):
        for svc in by_stage[sid]:
            deps = [f"d_{svc}", ]
            implicit = [f"b_{svc}"] + [f"d_{d}" for d in next(x for x in env["services"] if x["id"] == svc)["depends_on"]]
            if k > 0:
                implicit.append(f"bar_{order[k - 1]}")
            lines.append(f"build b_{svc}: run")
            lines.append(f"build d_{svc}: run | {' '.join(implicit)}")
        previous = f" bar_{order[k - 1]}" if k > 0 else ""
        lines.append(f"build bar_{sid}: phony {' '.join('d_' + s for s in by_stage[sid])}{previous}")
    lines.append(f"default bar_{order[-1]}")
    return "\n".join(lines) + "\n"


def timed(cmd, cwd, env=None):
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--depctl", default=os.path.join(ROOT, "build", "depctl"))
    args = parser.parse_args()
    ninja = shutil.which("ninja") or shutil.which("ninja-build")
    state = make_state(args.services, random.Random(42))
    work = tempfile.mkdtemp(prefix="depctl-bench-")
    try:
        depctl_times, ninja_times = [], []
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"))
        for run in range(args.runs):
            project = os.path.join(work, f"p{run}")
            os.makedirs(os.path.join(project, ".depctl"))
            with open(os.path.join(project, ".depctl", "state.json"), "w") as f:
                json.dump(state, f)
            depctl_times.append(timed([args.depctl, "environment", "deploy", "-e", "bench", "--version", "b",
                                       "-j", str(args.jobs), "-q"], project, env))
            graph = os.path.join(work, f"n{run}")
            os.makedirs(graph)
            with open(os.path.join(graph, "build.ninja"), "w") as f:
                f.write(make_ninja(state))
            ninja_times.append(timed([ninja, "-j", str(args.jobs)], graph))
        d, n = statistics.median(depctl_times), statistics.median(ninja_times)
        steps = 2 * args.services
        print(f"| tool   | services | steps | -j | median wall (s) | runs |")
        print(f"|--------|----------|-------|----|-----------------|------|")
        print(f"| depctl | {args.services} | {steps} | {args.jobs} | {d:.3f} | {args.runs} |")
        print(f"| ninja  | {args.services} | {steps} | {args.jobs} | {n:.3f} | {args.runs} |")
        print(f"\nratio depctl / ninja = {d / n:.2f}  (target <= 1.0)")
        print(f"depctl runs: {', '.join(f'{t:.3f}' for t in depctl_times)}")
        print(f"ninja runs:  {', '.join(f'{t:.3f}' for t in ninja_times)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
