"""Pictures (#17): the graph SVG of a 1,000-service pipeline and the timeline SVG of a
1,000-service deployment, each at most 200 ms (docs/pictures.md, docs/performance.md)."""
import os
import random
import statistics


def bench_pictures(args, work, results, big_environment, write_state, run_timed):
    n = 1000
    state = big_environment(n, 2, 10, random.Random(17), deployed=False)
    for service in state["environments"][0]["services"]:
        service["build"], service["deploy"] = "true", "true"  # a real deployment, quickly
    project = os.path.join(work, "pictures")
    write_state(project, state)
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"))
    run_timed([args.depctl, "environment", "deploy", "-e", "big", "--version", "1", "-q"], project, env)
    runs = max(11, args.runs * 2 + 1)
    out = os.path.join(project, "picture.svg")
    cases = (
        ("graph", [args.depctl, "environment", "graph", "-e", "big", "--format", "svg"],
         "depctl environment graph -e big --format svg", "1,000 services, 10 stages, 2,000 dependencies"),
        ("timeline", [args.depctl, "deployment", "timeline", "latest", "-e", "big", "-q", "-o", out],
         "depctl deployment timeline latest -e big -o picture.svg", "a recorded deployment of 1,000 services, 2,000 steps"),
    )
    for name, argv, command, what in cases:
        times, cpu = [], []
        for _ in range(runs):
            times.append(run_timed(argv, project, env, cpu=cpu)[0])
        m = statistics.median(times) * 1000
        size = os.path.getsize(out) if name == "timeline" else None
        detail = f"{what}; CPU time {statistics.median(cpu) * 1000:.1f} ms"
        if size:
            detail += f"; SVG {size / 1e6:.2f} MB"
        results.append({"target": f"Pictures: {name} SVG, 1,000 services (median of {runs})", "limit": "<= 200 ms",
                        "measured": f"{m:.1f} ms", "ratio": m / 200.0, "detail": detail, "command": command})
