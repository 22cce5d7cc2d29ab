#!/usr/bin/env python3
"""depctl performance suite: every target of docs/performance.md, measured in one run.

Prints a table (target, limit, measured, measured / limit) and rewrites the generated
part of docs/performance.md (between the bench markers; the rest of the file is prose).
Every figure is a median of several runs; comparisons (ninja, jq, the strict stage model)
are measured in the same run, interleaved with depctl's runs. Nothing here asserts timing
in a test: this is a report.

Usage: bench/bench.py [--depctl build/depctl] [--only orchestration,schedule,cli,scale,file,ui,pictures,health,etcd]
                      [--runs N] [--quick] [--no-doc]
"""
import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DOC = os.path.join(ROOT, "docs", "performance.md")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


# ---------------------------------------------------------------------------- running

def run_timed(argv, cwd, env=None, stdout=None, check=True, cpu=None, faults=None):
    """Spawns argv, waits; returns (wall seconds, peak RSS in KiB) of that one child, and
    appends its CPU seconds (user + system) to the list `cpu` and its page faults to the
    list `faults` when given.

    posix_spawn + wait4 keeps the harness cost small and equal for every tool measured;
    ru_maxrss of wait4 is the figure `/usr/bin/time -v` reports as "Maximum resident set size".
    """
    out = os.open(os.devnull, os.O_WRONLY) if stdout is None else stdout
    try:
        start = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, env if env is not None else os.environ,
                              file_actions=[(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, out, 2)],
                              ) if cwd is None else _spawn_in(argv, cwd, env, out)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
    finally:
        if stdout is None:
            os.close(out)
    code = os.waitstatus_to_exitcode(status)
    if check and code != 0:
        raise RuntimeError(f"{' '.join(argv)} (in {cwd}) exited with {code}")
    if cpu is not None:
        cpu.append(usage.ru_utime + usage.ru_stime)
    if faults is not None:
        faults.append(usage.ru_minflt + usage.ru_majflt)
    return wall, usage.ru_maxrss


def _spawn_in(argv, cwd, env, out):
    # posix_spawn has no chdir action in Python's API; changing our own cwd around the
    # call is fine in this single-threaded harness.
    here = os.getcwd()
    os.chdir(cwd)
    try:
        return os.posix_spawnp(argv[0], argv, env if env is not None else os.environ,
                               file_actions=[(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, out, 2)])
    finally:
        os.chdir(here)


def median(values):
    return statistics.median(values)


def write_state(project, state):
    os.makedirs(os.path.join(project, ".depctl"), exist_ok=True)
    path = os.path.join(project, ".depctl", "state.json")
    with open(path, "w") as f:
        json.dump(state, f, indent=2)
    return path


def state_doc(environment):
    return {"schema_version": 1, "project": {"id": "prj_bench", "name": "bench"}, "environments": [environment]}


def stages(count):
    return [{"id": f"stg_s{k}", "name": f"stage {k + 1}", "description": ""} for k in range(count)]


# ---------------------------------------------------------------------------- orchestration

def orchestration_state(n, rng):
    """n services over 4 stages, build and deploy `true`, one depends_on edge into the same
    or an earlier stage for 90% of them: 2n steps."""
    services = []
    for i in range(n):
        deps = [f"svc_{rng.randrange(0, i):06d}"] if i > 0 and rng.random() < 0.9 else []
        services.append({"id": f"svc_{i:06d}", "name": f"service-{i}", "type": "APPLICATION",
                         "stage_id": f"stg_s{i * 4 // n}", "build": "true", "deploy": "true", "depends_on": deps})
    return state_doc({"id": "env_bench", "name": "bench", "type": "development", "stages": stages(4),
                      "default_stages": {}, "services": services})


def ninja_file(state):
    """The same DAG for ninja: build -> deploy per service, deploy after its dependencies'
    deploys and after the previous stage's barrier (a phony edge over the stage)."""
    env = state["environments"][0]
    order = [s["id"] for s in env["stages"]]
    by_stage = {sid: [] for sid in order}
    for s in env["services"]:
        by_stage[s["stage_id"]].append(s)
    lines = ["rule run", "  command = true", ""]
    for k, sid in enumerate(order):
        for s in by_stage[sid]:
            implicit = [f"b_{s['id']}"] + [f"d_{d}" for d in s["depends_on"]]
            if k > 0:
                implicit.append(f"bar_{order[k - 1]}")
            lines.append(f"build b_{s['id']}: run")
            lines.append(f"build d_{s['id']}: run | {' '.join(implicit)}")
        previous = f" bar_{order[k - 1]}" if k > 0 else ""
        lines.append(f"build bar_{sid}: phony {' '.join('d_' + s['id'] for s in by_stage[sid])}{previous}")
    lines.append(f"default bar_{order[-1]}")
    return "\n".join(lines) + "\n"


# The floor under both: a minimal C program that only spawns the same number of commands,
# `jobs` at a time, with no graph, no logs and no record. Neither depctl nor ninja can beat
# it; how far the target is from it says what is left to win.
SPAWN_FLOOR_C = r"""
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
extern char **environ;
int main(int argc, char **argv) {
    int n = atoi(argv[1]), jobs = atoi(argv[2]), running = 0, started = 0, status;
    while (started < n || running > 0) {
        for (; running < jobs && started < n; ++running, ++started) {
            pid_t pid;
            if (posix_spawn(&pid, argv[3], NULL, NULL, argv + 3, environ) != 0) return 1;
        }
        wait(&status);
        --running;
    }
    return 0;
}
"""


def spawn_floor(work, steps, jobs):
    """Seconds to spawn `steps` commands `jobs` at a time, exec'd directly (/usr/bin/true)
    and through the shell (/bin/sh -c true); None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    source, binary = os.path.join(work, "spawn_floor.c"), os.path.join(work, "spawn_floor")
    with open(source, "w") as f:
        f.write(SPAWN_FLOOR_C)
    subprocess.run([cc, "-O2", "-o", binary, source], check=True)
    true = shutil.which("true") or "/bin/true"
    direct, shell = [], []
    for _ in range(3):
        direct.append(run_timed([binary, str(steps), str(jobs), true], work)[0])
        shell.append(run_timed([binary, str(steps), str(jobs), "/bin/sh", "-c", "true"], work)[0])
    return median(direct), median(shell)


def bench_orchestration(args, work, results):
    n, jobs = 1000, 4
    ninja = shutil.which("ninja") or shutil.which("ninja-build")
    state = orchestration_state(n, random.Random(42))
    graph = ninja_file(state)
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"))
    depctl_times, ninja_times = [], []
    for run in range(args.runs):
        # Fresh project and fresh ninja directory each time: both start from nothing.
        project = os.path.join(work, f"orch-p{run}")
        write_state(project, state)
        depctl_times.append(run_timed([args.depctl, "environment", "deploy", "-e", "bench", "--version", "b",
                                       "-j", str(jobs)], project, env)[0])
        directory = os.path.join(work, f"orch-n{run}")
        os.makedirs(directory)
        with open(os.path.join(directory, "build.ninja"), "w") as f:
            f.write(graph)
        ninja_times.append(run_timed([ninja, "-j", str(jobs)], directory)[0])
    d, k = median(depctl_times), median(ninja_times)
    floor = spawn_floor(work, 2 * n, jobs)
    floor_text = "" if floor is None else (
        f"; the floor, a C loop that only spawns {2 * n} commands {jobs} at a time: exec'd "
        f"directly {floor[0]:.3f} s ({floor[0] / k:.2f} of ninja), through /bin/sh {floor[1]:.3f} s "
        f"({floor[1] / k:.2f})")
    results.append({"target": f"orchestration: {n} services ({2 * n} steps of `true`), depctl / ninja at -j{jobs}",
                    "limit": "<= 0.70", "measured": f"{d / k:.2f}", "ratio": d / k / 0.70,
                    "detail": f"depctl {d:.3f} s, ninja {k:.3f} s (medians of {args.runs} interleaved pairs; "
                              f"depctl runs {', '.join(f'{t:.3f}' for t in depctl_times)}; "
                              f"ninja runs {', '.join(f'{t:.3f}' for t in ninja_times)}){floor_text}",
                    "command": f"depctl environment deploy -e bench --version b -j {jobs}  vs  ninja -j {jobs}"})


# ---------------------------------------------------------------------------- schedule

# The reference environment: 4 stages of 10 services. Stage 1 holds data stores (few
# builds, long migrations), later stages application tiers with longer builds and shorter
# rollouts; in every stage the first services form a depends_on chain, others depend on a
# service of their own stage or (30%) of an earlier one. Durations are seconds of `sleep`.
SCHEDULE_STAGES = [  # (services, build range, share with a build, deploy range, chain length)
    (10, (0.1, 0.3), 0.3, (0.2, 0.5), 4),
    (10, (0.3, 0.7), 0.8, (0.1, 0.3), 3),
    (10, (0.4, 0.8), 1.0, (0.1, 0.25), 3),
    (10, (0.5, 0.9), 1.0, (0.05, 0.15), 3),
]
SCHEDULE_JOBS = 8
STEP_KINDS = ("build", "release", "deploy", "health")


def schedule_services(seed=1):
    rng = random.Random(seed)
    services, index = [], 0
    for k, (count, build, build_share, deploy, chain) in enumerate(SCHEDULE_STAGES):
        first = index
        for j in range(count):
            s = {"index": index, "stage": k, "deploy": round(rng.uniform(*deploy), 2), "deps": []}
            if rng.random() < build_share:
                s["build"] = round(rng.uniform(*build), 2)
            if j % 3 == 1:
                s["release"] = round(rng.uniform(0.05, 0.15), 2)
            if j % 4 == 2:
                s["health"] = round(rng.uniform(0.05, 0.1), 2)
            if 0 < j < chain:
                s["deps"].append(index - 1)
            elif j >= chain and rng.random() < 0.5:
                s["deps"].append(rng.randrange(first, index))
            if k > 0 and rng.random() < 0.3:
                s["deps"].append(rng.randrange(0, first))
            services.append(s)
            index += 1
    return services


# The same environment with DESIGN §9's round-two knobs: a cap on stage 1 (the data stores
# roll out two at a time) and mixed edge conditions (a quarter `started`, a quarter
# `completed`, the rest `healthy`); targets of `completed` edges are JOBs.
SCHEDULE_MIXED_CAPS = {0: 2}


def schedule_mixed_services(seed=1):
    services = schedule_services(seed)
    rng = random.Random(seed + 1000)
    for s in services:
        s["conditions"] = [rng.choice(("healthy", "healthy", "started", "completed")) for _ in s["deps"]]
    completed = {d for s in services for d, c in zip(s["deps"], s["conditions"]) if c == "completed"}
    for s in services:
        s["job"] = s["index"] in completed
    return services


def schedule_edge(d, condition):
    """A depends_on entry as the state stores it: a plain id is healthy."""
    return f"svc_{d:04d}" if condition == "healthy" else {"condition": condition, "id": f"svc_{d:04d}"}


def schedule_state(services, caps=None):
    out = []
    for s in services:
        conditions = s.get("conditions", ["healthy"] * len(s["deps"]))
        entry = {"id": f"svc_{s['index']:04d}", "name": f"svc-{s['index']:02d}",
                 "type": "JOB" if s.get("job") else "APPLICATION", "stage_id": f"stg_s{s['stage']}",
                 "depends_on": [schedule_edge(d, c) for d, c in zip(s["deps"], conditions)]}
        for kind in ("build", "release", "deploy"):
            if kind in s:
                entry[kind] = f"sleep {s[kind]}"
        if "health" in s:
            entry["health"] = {"cmd": f"sleep {s['health']}"}
        out.append(entry)
    stage_list = stages(len(SCHEDULE_STAGES))
    for k, cap in (caps or {}).items():
        stage_list[k]["max_parallel"] = cap
    return state_doc({"id": "env_sched", "name": "sched", "type": "development",
                      "stages": stage_list, "default_stages": {}, "services": out})


def schedule_lower_bound(services, jobs, caps=None):
    """max(critical path, total work / parallelism) under DESIGN §5 and §9: a build starts
    at once; a rollout (release -> deploy -> health) starts after its own build, after every
    service of every earlier stage has finished, and after what each dependency's condition
    names (healthy, completed: all its steps; started: its deploy step). A stage capped at c
    ends no sooner than its barrier plus its rollout work / c."""
    caps = caps or {}
    finish, started, stage_end, stage_work, stage_barrier = {}, {}, {}, {}, {}
    total = 0.0
    for s in services:  # services are in stage order, dependencies point backwards
        total += sum(s.get(k, 0) for k in STEP_KINDS)
        k = s["stage"]
        barrier = max((stage_end[j] for j in stage_end if j < k), default=0.0)
        stage_barrier[k] = barrier
        conditions = s.get("conditions", ["healthy"] * len(s["deps"]))
        waits = [started[d] if c == "started" else finish[d] for d, c in zip(s["deps"], conditions)]
        start = max([s.get("build", 0), barrier] + waits)
        started[s["index"]] = start + s.get("release", 0) + s.get("deploy", 0)
        finish[s["index"]] = started[s["index"]] + s.get("health", 0)
        stage_work[k] = stage_work.get(k, 0.0) + sum(s.get(x, 0) for x in ("release", "deploy", "health"))
        stage_end[k] = max(stage_end.get(k, 0.0), finish[s["index"]])
        if k in caps:
            stage_end[k] = max(stage_end[k], stage_barrier[k] + stage_work[k] / caps[k])
    critical = max(stage_end.values())
    return max(critical, total / jobs), critical, total


def bench_schedule(args, work, results):
    services = schedule_services()
    state = schedule_state(services)
    bound, critical, total = schedule_lower_bound(services, SCHEDULE_JOBS)
    stage_names = {}
    for s in services:
        stage_names.setdefault(s["stage"], []).append(f"svc-{s['index']:02d}")
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"))
    project = os.path.join(work, "sched")
    write_state(project, state)
    deploy = [args.depctl, "environment", "deploy", "-e", "sched", "-j", str(SCHEDULE_JOBS)]
    runs = max(3, args.runs // 2 + 1)
    # The first deploy has no history: every step is estimated at 1 s. It is measured and
    # reported on its own; the later ones use the durations it recorded.
    first = run_timed(deploy + ["--version", "v0"], project, env)[0]
    pipelined, strict = [], []
    for run in range(runs):
        pipelined.append(run_timed(deploy + ["--version", f"p{run}"], project, env)[0])
        # The strict model: each stage builds and deploys its own services before the next
        # stage begins (one depctl run per stage, so no build runs ahead).
        begin = time.perf_counter()
        for k in sorted(stage_names):
            run_timed(deploy + ["--version", f"s{run}", "--services", ",".join(stage_names[k])], project, env)
        strict.append(time.perf_counter() - begin)
    p, s = median(pipelined), median(strict)
    detail = (f"lower bound {bound:.3f} s = max(critical path {critical:.3f} s, work {total:.2f} s / {SCHEDULE_JOBS}); "
              f"makespan median {p:.3f} s (runs {', '.join(f'{t:.3f}' for t in pipelined)}); "
              f"first deploy without history {first:.3f} s ({first / bound:.3f})")
    results.append({"target": f"schedule: makespan / lower bound, 40 services in 4 stages, -j{SCHEDULE_JOBS}",
                    "limit": "<= 1.05", "measured": f"{p / bound:.3f}", "ratio": p / bound / 1.05, "detail": detail,
                    "command": f"depctl environment deploy -e sched -j {SCHEDULE_JOBS} --version V"})
    results.append({"target": "schedule: speed-up over the strict stage-by-stage model",
                    "limit": ">= 1.30", "measured": f"{s / p:.2f}", "ratio": 1.30 / (s / p),
                    "detail": f"strict {s:.3f} s (runs {', '.join(f'{t:.3f}' for t in strict)}) / pipelined {p:.3f} s",
                    "command": "depctl environment deploy -e sched -j 8 --services <stage k's services>, once per stage"})
    bench_schedule_mixed(args, work, results, env, deploy, runs)


def bench_schedule_mixed(args, work, results, env, deploy, runs):
    services = schedule_mixed_services()
    bound, critical, total = schedule_lower_bound(services, SCHEDULE_JOBS, SCHEDULE_MIXED_CAPS)
    project = os.path.join(work, "sched-mixed")
    write_state(project, schedule_state(services, SCHEDULE_MIXED_CAPS))
    run_timed(deploy + ["--version", "v0"], project, env)  # history for the estimates
    makespans = [run_timed(deploy + ["--version", f"m{run}"], project, env)[0] for run in range(runs)]
    m = median(makespans)
    edges = [c for s in services for c in s["conditions"]]
    mix = ", ".join(f"{edges.count(c)} {c}" for c in ("healthy", "started", "completed"))
    detail = (f"edges {mix}; stage 1 capped at {SCHEDULE_MIXED_CAPS[0]}; lower bound {bound:.3f} s = "
              f"max(critical path with the cap {critical:.3f} s, work {total:.2f} s / {SCHEDULE_JOBS}); "
              f"makespan median {m:.3f} s (runs {', '.join(f'{t:.3f}' for t in makespans)})")
    results.append({"target": f"schedule: makespan / lower bound, stage cap and mixed edge conditions, "
                              f"-j{SCHEDULE_JOBS}",
                    "limit": "<= 1.05", "measured": f"{m / bound:.3f}", "ratio": m / bound / 1.05,
                    "detail": detail,
                    "command": f"depctl environment deploy -e sched -j {SCHEDULE_JOBS} --version V (sched-mixed)"})


# ---------------------------------------------------------------------------- CLI latency

def big_environment(n, edges_per_service, n_stages, rng, deployed):
    """n services over n_stages stages, each depending on up to edges_per_service distinct
    earlier services (same or earlier stage), so the edge count is about edges_per_service * n."""
    services = []
    # The first services have fewer earlier ones to depend on; the next few take one more
    # edge each, so the total is exactly edges_per_service * n.
    short = sum(edges_per_service - min(i, edges_per_service) for i in range(n))
    for i in range(n):
        k = min(i, edges_per_service)
        if short and i > edges_per_service:
            k, short = k + 1, short - 1
        deps = sorted(rng.sample(range(i), k)) if k else []
        s = {"id": f"svc_{i:06d}", "name": f"service-{i}", "type": "APPLICATION", "stage_id": f"stg_s{i * n_stages // n}",
             "build": f"make -C services/{i} image", "deploy": f"./deploy.sh service-{i}",
             "env": {"PORT": str(8000 + i % 1000), "LOG_LEVEL": "info"},
             "depends_on": [f"svc_{d:06d}" for d in deps]}
        if deployed:
            s["current"] = {"version": "1.4.2", "status": "DEPLOYED", "updated_at": "2024-05-01T12:00:00.000Z",
                            "deployment_id": "dep_0123456789ab"}
        services.append(s)
    return state_doc({"id": "env_big", "name": "big", "type": "production", "stages": stages(n_stages),
                      "default_stages": {}, "services": services})


def bench_cli(args, work, results):
    n = 1000
    state = big_environment(n, 1, 4, random.Random(7), deployed=True)
    # The service moved back and forth: no dependencies and nothing depends on it.
    mover = {"id": "svc_mover", "name": "mover", "type": "JOB", "stage_id": "stg_s3", "deploy": "true"}
    state["environments"][0]["services"].append(mover)
    project = os.path.join(work, "cli")
    path = write_state(project, state)
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"))
    runs = max(21, args.runs * 4 + 1)
    version, listing, move, jq = [], [], [], []
    listing_cpu, move_cpu = [], []
    listing_faults, move_faults = [], []
    jq_bin = shutil.which("jq")
    for run in range(runs):
        version.append(run_timed([args.depctl, "--version"], project, env)[0])
        listing.append(run_timed([args.depctl, "environment", "stage", "list", "-e", "big"], project, env,
                                 cpu=listing_cpu, faults=listing_faults)[0])
        target = "stage 3" if run % 2 == 0 else "stage 4"
        move.append(run_timed([args.depctl, "environment", "stage", "move", "-e", "big", "-n", "mover", "-s", target],
                              project, env, cpu=move_cpu, faults=move_faults)[0])
        if jq_bin:
            jq.append(run_timed([jq_bin, ".", path], project, env)[0])
    size = os.path.getsize(path)
    floor_exec, floor_write = move_floor(path, runs, project, env)
    jq_text = f"; `jq . state.json` {median(jq) * 1000:.1f} ms" if jq else ""
    common = f"state.json of {n + 1} services, {size / 1e6:.2f} MB; `depctl --version` {median(version) * 1000:.1f} ms{jq_text}"
    for name, times, cpu, faults, limit in (("stage list", listing, listing_cpu, listing_faults, 10.0),
                                            ("stage move", move, move_cpu, move_faults, 8.0)):
        m = median(times) * 1000
        results.append({"target": f"CLI: `environment {name}`, 1,000 services (median of {runs})",
                        "limit": f"<= {limit:.0f} ms", "measured": f"{m:.1f} ms", "ratio": m / limit,
                        "detail": f"CPU time (user + system) {median(cpu) * 1000:.1f} ms; {median(faults):.0f} page faults; {common}"
                                  + (f"; floor: an exec of /usr/bin/true {floor_exec:.1f} ms + the same bytes written "
                                     f"crash-safe from Python (write, fsync, rename, fsync of the directory) "
                                     f"{floor_write:.1f} ms = {floor_exec + floor_write:.1f} ms"
                                     if name == "stage move" else ""),
                        "command": f"depctl environment {name} -e big"
                                                     + (" -n mover -s 'stage 3'" if name == "stage move" else "")})


def move_floor(path, runs, project, env):
    """What any crash-safe `stage move` pays on this machine whatever its code: one exec (of
    /usr/bin/true) and one atomic replacement of the state's bytes. Returns both medians in
    ms; the state file is rewritten with its own bytes."""
    execs = [run_timed(["/usr/bin/true"], project, env)[0] for _ in range(runs)]
    with open(path, "rb") as f:
        data = f.read()
    directory = os.path.dirname(path)
    writes = []
    for _ in range(runs):
        begin = time.perf_counter()
        tmp = path + ".bench-floor"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        writes.append(time.perf_counter() - begin)
    return median(execs) * 1000, median(writes) * 1000


# ---------------------------------------------------------------------------- scale

def bench_scale(args, work, results):
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"))
    sizes = [1000, 2000, 5000, 10000] if not args.quick else [1000, 10000]
    runs = max(5, args.runs)
    rows = {}
    for n in sizes:
        state = big_environment(n, 2, 10, random.Random(n), deployed=False)
        edges = sum(len(s["depends_on"]) for s in state["environments"][0]["services"])
        project = os.path.join(work, f"scale-{n}")
        write_state(project, state)
        times, peaks, cpu = [], [], []
        for _ in range(runs):
            wall, rss = run_timed([args.depctl, "environment", "deploy", "-e", "big", "--dry-run", "--version", "1"],
                                  project, env, cpu=cpu)
            times.append(wall)
            peaks.append(rss)
        rows[n] = (median(times), max(peaks), edges, median(cpu))
    t10, m10, e10, c10 = rows[max(sizes)]
    growth = ", ".join(f"{n // 1000}k {rows[n][0] * 1000:.0f} ms" for n in sizes)
    per_service = [rows[n][0] / n * 1e6 for n in sizes]
    linearity = per_service[-1] / per_service[0]
    results.append({"target": f"scale: `deploy --dry-run`, {max(sizes):,} services, {e10:,} edges: time",
                    "limit": "<= 200 ms", "measured": f"{t10 * 1000:.0f} ms", "ratio": t10 * 1000 / 200,
                    "detail": f"{growth}; CPU time at {max(sizes) // 1000}k {c10 * 1000:.0f} ms; time per service {', '.join(f'{x:.1f}' for x in per_service)} us "
                              f"(10k / 1k: {linearity:.2f})",
                    "command": "depctl environment deploy -e big --dry-run --version 1"})
    results.append({"target": f"scale: `deploy --dry-run`, {max(sizes):,} services: peak memory",
                    "limit": "<= 100 MB", "measured": f"{m10 / 1024:.0f} MB", "ratio": m10 / 1024 / 100,
                    "detail": "peak RSS (wait4 ru_maxrss, as /usr/bin/time -v); "
                              + ", ".join(f"{n // 1000}k {rows[n][1] / 1024:.0f} MB" for n in sizes),
                    "command": "/usr/bin/time -v depctl environment deploy -e big --dry-run --version 1"})
    results.append({"target": "scale: growth from 1k to 10k services (time per service, 10k / 1k)",
                    "limit": "linear (~1.0)", "measured": f"{linearity:.2f}", "ratio": linearity / 1.25,
                    "detail": growth, "command": "as above, at 1k, 2k, 5k, 10k services"})


def probe_file_creation(work, count=200):
    """Microseconds to create one empty file in a fresh directory under `work`. depctl
    creates a log file per step; on ext4, a directory whose block group had thousands of
    inodes freed in the last minutes makes each creation scan them (ext4's
    recently_deleted), which can cost milliseconds per file. The files stay until the end
    of the run, so the probe itself frees nothing."""
    directory = os.path.join(work, "create-probe")
    os.makedirs(directory)
    start = time.perf_counter()
    for i in range(count):
        os.close(os.open(os.path.join(directory, f"f{i}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    return (time.perf_counter() - start) / count * 1e6


k_slow_create_us = 100
# ext4 skips inodes freed in the last 60 s (360 s while their inode table block is dirty)
# when it allocates new ones; a directory tree freed by the previous run slows down every
# file creation near it for that long.
k_recent_cleanup_s = 360
CLEANUP_MARK = ".depctl-bench-cleanup"


def last_cleanup_age(base):
    try:
        return time.time() - os.path.getmtime(os.path.join(base, CLEANUP_MARK))
    except OSError:
        return float("inf")


def choose_workdir(explicit):
    """A fresh work directory under a base whose last bench clean-up is over 6 minutes
    old. An explicit --workdir (or DEPCTL_BENCH_DIR) is used as it is; otherwise the first
    of a few usual places, else the one cleaned up longest ago (with a warning)."""
    candidates = [explicit] if explicit else ["/var/tmp", os.path.join(ROOT, "build-bench"),
                                              os.path.expanduser("~/.cache/depctl-bench")]
    usable = []
    for base in candidates:
        try:
            os.makedirs(base, exist_ok=True)
        except OSError:
            continue
        usable.append(base)
        if last_cleanup_age(base) > k_recent_cleanup_s:
            break
    base = max(usable, key=last_cleanup_age) if usable else tempfile.gettempdir()
    if last_cleanup_age(base) <= k_recent_cleanup_s:
        print(f"warning: a bench run cleaned up {base} {last_cleanup_age(base):.0f} s ago; file creation there"
              " may still be slow (ext4), which slows depctl's log files", file=sys.stderr)
    work = tempfile.mkdtemp(prefix="depctl-bench-", dir=base)
    return work, probe_file_creation(work)


def clean_up(work):
    shutil.rmtree(work, ignore_errors=True)
    base = os.path.dirname(work)
    with open(os.path.join(base, CLEANUP_MARK), "w") as f:
        f.write("the last bench/bench.py run removed its files here at this file's mtime\n")


# ---------------------------------------------------------------------------- report

def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
            mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    u = platform.uname()
    return f"{model}, {os.cpu_count()} CPUs (nproc){mem}, {u.system} {u.release} {u.machine}"


def load():
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def table(results):
    lines = ["| target | limit | measured | measured / limit |", "|---|---|---|---|"]
    for r in results:
        verdict = "met" if r["ratio"] <= 1.0 else "NOT met"
        lines.append(f"| {r['target']} | {r['limit']} | {r['measured']} | {r['ratio']:.2f} ({verdict}) |")
    return "\n".join(lines)


def doc_section(results, depctl, started_load, ended_load, elapsed, create_us):
    version = subprocess.run([depctl, "--version"], capture_output=True, text=True).stdout.strip()
    tools = []
    for tool in ("ninja", "jq"):
        path = shutil.which(tool)
        if path:
            tools.append(f"{tool} {subprocess.run([path, '--version'], capture_output=True, text=True).stdout.strip()}")
    out = [BEGIN, "",
           f"Generated by `bench/bench.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in {elapsed:.0f} s.",
           "",
           f"- Machine: {machine()}",
           f"- Load average (1, 5, 15 min) at start: {started_load}; at end: {ended_load}",
           f"- Work directory: creating an empty file took {create_us:.0f} us",
           f"- Binary: {version}; {'; '.join(tools)}",
           "", table(results), "", "Details and commands:", ""]
    for r in results:
        out.append(f"- **{r['target']}**: {r['detail']}. Command: `{r['command']}`")
    out += ["", END]
    return "\n".join(out)


def update_doc(section):
    text = open(DOC).read() if os.path.exists(DOC) else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(DOC, "w") as f:
        f.write(text)


def bench_ui_section(args, work, results):
    from bench_ui import bench_ui  # bench/bench_ui.py: needs node and tests/browser's npm ci
    bench_ui(args, work, results, big_environment, write_state)


def bench_file_section(args, work, results):
    from bench_file import bench_file  # bench/bench_file.py: the pipeline file (#15)
    bench_file(args, work, results, run_timed, median)


def bench_pictures_section(args, work, results):
    from bench_pictures import bench_pictures  # bench/bench_pictures.py
    bench_pictures(args, work, results, big_environment, write_state, run_timed)


def bench_health_section(args, work, results):
    from bench_health import bench_health  # bench/bench_health.py: the health gate (#19)
    bench_health(args, work, results, median)


def bench_etcd_section(args, work, results):
    from bench_etcd import bench_etcd  # bench/bench_etcd.py: a 3-member etcd cluster (#19)
    bench_etcd(args, work, results, run_timed, median, big_environment, write_state)


SECTIONS = {"orchestration": bench_orchestration, "schedule": bench_schedule, "cli": bench_cli, "scale": bench_scale,
            "file": bench_file_section, "ui": bench_ui_section, "pictures": bench_pictures_section,
            "health": bench_health_section, "etcd": bench_etcd_section}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depctl", default=os.path.join(ROOT, "build", "depctl"))
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated: " + ", ".join(SECTIONS))
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (some take more)")
    parser.add_argument("--quick", action="store_true", help="fewer runs and sizes, for a smoke test")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/performance.md alone")
    parser.add_argument("--workdir", default=os.environ.get("DEPCTL_BENCH_DIR"),
                        help="where the throw-away projects go (default: DEPCTL_BENCH_DIR, else the first of"
                             " /var/tmp, build-bench/, ~/.cache/depctl-bench where creating files is quick)")
    args = parser.parse_args()
    args.depctl = os.path.abspath(args.depctl)
    if args.quick:
        args.runs = 3
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}")
    if "orchestration" in chosen and not (shutil.which("ninja") or shutil.which("ninja-build")):
        parser.error("ninja is needed for the orchestration comparison (apt-get install ninja-build)")
    started, started_load = time.perf_counter(), load()
    work, args.create_us = choose_workdir(args.workdir)
    results = []
    try:
        print(f"file creation in {work}: {args.create_us:.0f} us per file", file=sys.stderr)
        if args.create_us > k_slow_create_us:
            print("warning: creating files is slow here (ext4 skips inodes deleted in the last minutes);"
                  " depctl writes one log file per step, so its figures suffer. Try another --workdir,"
                  " or wait a few minutes.", file=sys.stderr)
        for name in chosen:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            SECTIONS[name](args, work, results)
    finally:
        clean_up(work)
    print(table(results))
    print()
    for r in results:
        print(f"- {r['target']}: {r['detail']}")
    if not args.no_doc and not args.quick and chosen == list(SECTIONS):
        update_doc(doc_section(results, args.depctl, started_load, load(), time.perf_counter() - started, args.create_us))
        print(f"\nwrote {os.path.relpath(DOC)}")
    elif not args.no_doc:
        print("\n(docs/performance.md is only rewritten by a full run without --quick or --only)")


if __name__ == "__main__":
    main()
