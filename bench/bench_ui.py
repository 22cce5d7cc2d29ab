"""The web console's figures for bench/bench.py: first paint of a 1,000-service board in
headless Chromium, and a move's round trip through `POST /api/action`."""
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def start_ui(depctl, project, env):
    proc = subprocess.Popen([depctl, "ui", "--no-open"], cwd=project, env=dict(env, DISPLAY=""),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = ""
    deadline = time.monotonic() + 10
    while "token=" not in line and time.monotonic() < deadline:
        line = proc.stdout.readline()
    m = re.search(r"(http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]+))", line)
    if not m:
        proc.kill()
        raise RuntimeError("depctl ui printed no URL")
    return proc, m.group(1), int(m.group(2)), m.group(3)


def move_round_trips(port, token, runs):
    """Wall time of one move on a kept-alive loopback connection: request to full answer,
    so it includes the server's whole work (open, lock, read, change, validate, write)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": f"127.0.0.1:{port}", "Origin": f"http://127.0.0.1:{port}",
               "Cookie": f"depctl_ui_{port}={token}", "Content-Type": "application/json"}
    times, server = [], []
    for run in range(runs):
        body = json.dumps({"action": "move", "environment": "big", "service": "mover",
                           "stage": "stage 3" if run % 2 == 0 else "stage 4"})
        start = time.perf_counter()
        conn.request("POST", "/api/action", body=body, headers=headers)
        res = conn.getresponse()
        res.read()
        times.append(time.perf_counter() - start)
        server.append(float(re.search(r"dur=([0-9.]+)", res.getheader("Server-Timing")).group(1)) / 1000)
        if res.status != 200:
            raise RuntimeError(f"move answered {res.status}")
    conn.close()
    return times, server


def bench_ui(args, work, results, big_environment, write_state):
    state = big_environment(1000, 1, 4, random.Random(7), deployed=True)
    state["environments"][0]["services"].append(
        {"id": "svc_mover", "name": "mover", "type": "JOB", "stage_id": "stg_s3", "deploy": "true"})
    project = os.path.join(work, "ui")
    write_state(project, state)
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"))
    proc, url, port, token = start_ui(args.depctl, project, env)
    try:
        runs = max(21, args.runs * 4 + 1)
        moves, server = move_round_trips(port, token, runs)
        paint = json.loads(subprocess.run(["node", os.path.join(ROOT, "bench", "ui_paint.mjs"), url, str(args.runs)],
                                          check=True, capture_output=True, text=True).stdout)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    fcp, board = statistics.median(paint["fcp"]), statistics.median(paint["board"])
    results.append({"target": f"UI: first contentful paint, board of 1,000 services (median of {args.runs})",
                    "limit": "<= 500 ms", "measured": f"{fcp:.0f} ms", "ratio": fcp / 500,
                    "detail": f"headless Chromium; FCP runs {', '.join(f'{v:.0f}' for v in paint['fcp'])} ms; "
                              f"all {paint['cards']} cards painted at {board:.0f} ms (median; runs "
                              f"{', '.join(f'{v:.0f}' for v in paint['board'])})",
                    "command": "node bench/ui_paint.mjs URL 5 (against depctl ui --no-open)"})
    m = statistics.median(server) * 1000
    results.append({"target": f"UI: a move, server side, 1,000 services (median of {runs})",
                    "limit": "<= 50 ms", "measured": f"{m:.1f} ms", "ratio": m / 50,
                    "detail": f"Server-Timing of POST /api/action (open the store, lock, read, move, validate, "
                              f"write); min {min(server) * 1000:.1f} ms, max {max(server) * 1000:.1f} ms; the whole "
                              f"round trip on a kept-alive loopback connection {statistics.median(moves) * 1000:.1f} ms",
                    "command": "POST /api/action {\"action\":\"move\",\"service\":\"mover\",...}"})
