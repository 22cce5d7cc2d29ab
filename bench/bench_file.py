"""The pipeline file's figures for bench/bench.py (#15): `apply` of a 1,000-service
depctl.yaml on a fresh state, `diff` with no change, and `export`, each a median of runs."""
import os
import random
import shutil


def big_file(n, n_stages=4, seed=15):
    """A depctl.yaml of n services over n_stages stages, each depending on one earlier
    service (as bench.py's big_environment), with a build, a deploy, env and a health check."""
    rng = random.Random(seed)
    lines = ["# yaml-language-server: $schema=https://depctl.dev/schema/depctl.schema.json",
             "project: big", "stages:"]
    lines += [f"  - name: stage {s + 1}" for s in range(n_stages)]
    lines.append("services:")
    for i in range(n):
        lines += [f"  service-{i}:", "    type: application", f"    stage: stage {i * n_stages // n + 1}",
                  f"    build: make -C services/{i} image", f"    deploy: ./deploy.sh service-{i}",
                  f"    health: {{ http: \"http://127.0.0.1:{8000 + i % 1000}/health\", attempts: 60 }}",
                  f"    env: {{ PORT: \"{8000 + i % 1000}\", LOG_LEVEL: info }}"]
        if i:
            lines.append(f"    depends_on: [service-{rng.randrange(i)}]")
    lines += ["environments:", "  big: { type: production }"]
    return "\n".join(lines) + "\n"


def bench_file(args, work, results, run_timed, median):
    n = 1000
    project = os.path.join(work, "file")
    os.makedirs(project, exist_ok=True)
    path = os.path.join(project, "depctl.yaml")
    with open(path, "w") as f:
        f.write(big_file(n))
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"))
    env.pop("DEPCTL_STATE", None)
    runs = max(11, args.runs * 2 + 1)
    apply, apply_cpu, diff, diff_cpu, export, export_cpu = [], [], [], [], [], []
    out = os.open(os.devnull, os.O_WRONLY)
    try:
        for _ in range(runs):
            shutil.rmtree(os.path.join(project, ".depctl"), ignore_errors=True)
            apply.append(run_timed([args.depctl, "apply", "--yes", "-q"], project, env, cpu=apply_cpu)[0])
            diff.append(run_timed([args.depctl, "diff"], project, env, cpu=diff_cpu)[0])
            export.append(run_timed([args.depctl, "export"], project, env, stdout=out, cpu=export_cpu)[0])
    finally:
        os.close(out)
    size = os.path.getsize(path)
    state = os.path.getsize(os.path.join(project, ".depctl", "state.json"))
    common = f"depctl.yaml of {n:,} services, 4 stages, {n - 1} edges, {size / 1e3:.0f} kB; state.json {state / 1e6:.2f} MB"
    for name, times, cpu, limit, command in (
            ("`apply` on a fresh state", apply, apply_cpu, 150.0, "rm -rf .depctl && depctl apply --yes -q"),
            ("`diff`, no change", diff, diff_cpu, 50.0, "depctl diff"),
            ("`export`", export, export_cpu, 50.0, "depctl export > /dev/null")):
        m = median(times) * 1000
        results.append({"target": f"file: {name}, 1,000 services (median of {runs})",
                        "limit": f"<= {limit:.0f} ms", "measured": f"{m:.1f} ms", "ratio": m / limit,
                        "detail": f"CPU time (user + system) {median(cpu) * 1000:.1f} ms; {common}",
                        "command": command})
