"""Health gate figures for bench/bench.py (#19): how soon a deploy notices that a service has
become ready, and how soon the next stage starts after it.

One environment, two stages: `api` (deploy `touch deployed`, an HTTP health check with the
default 0.5 s interval) and `next` (deploy `true`). For each run the bench waits for the
deploy step to have run, waits a random readiness time (uniform 20 ms .. 1 s), then opens
the port on 127.0.0.1: until then connections are refused, as for a server still starting.
  - readiness: from the listen() to the first request that gets its 200 (the health step's
    success); the old rule, one probe per interval, gives about a quarter-interval on average.
  - inter-stage: from the end of api's health step to the start of next's deploy step, both
    from the deployment record (start_ms, duration_ms: millisecond resolution).
"""
import json
import os
import random
import socket
import subprocess
import threading
import time

READY_MIN_S, READY_MAX_S = 0.02, 1.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pipeline(port):
    return f"""project: health
stages:
  - name: up
  - name: next
services:
  api:
    type: application
    stage: up
    deploy: touch deployed
    health: {{ http: "http://127.0.0.1:{port}/health", attempts: 100 }}
  next:
    type: job
    stage: next
    deploy: "true"
environments:
  bench: {{ type: development }}
"""


class LateServer(threading.Thread):
    """Opens the port `delay` seconds after `marker` appears; answers 200 to every request.
    `ready` is when listen() returned, `first` when the first request was read."""

    def __init__(self, port, marker, delay):
        super().__init__(daemon=True)
        self.port, self.marker, self.delay = port, marker, delay
        self.ready = self.first = None
        self.stop = False

    def run(self):
        deadline = time.perf_counter() + 30
        while not os.path.exists(self.marker):
            if self.stop or time.perf_counter() > deadline:
                return
            time.sleep(0.0005)
        time.sleep(self.delay)
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", self.port))
            s.listen(16)
            self.ready = time.perf_counter()
            s.settimeout(0.2)
            while not self.stop:
                try:
                    conn, _ = s.accept()
                except socket.timeout:
                    continue
                with conn:
                    conn.recv(4096)
                    if self.first is None:
                        self.first = time.perf_counter()
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


def step_of(record, service, name):
    for stage in record["stages"]:
        for svc in stage["services"]:
            if svc["name"] == service:
                return next(s for s in svc["steps"] if s["step"] == name)
    raise KeyError(service)


def bench_health(args, work, results, median):
    project = os.path.join(work, "health")
    os.makedirs(project, exist_ok=True)
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"))
    env.pop("DEPCTL_STATE", None)
    marker = os.path.join(project, "deployed")
    rng = random.Random(19)
    runs = 20 if not args.quick else 5
    noticed, between, delays = [], [], []
    for run in range(runs):
        port = free_port()
        with open(os.path.join(project, "depctl.yaml"), "w") as f:
            f.write(pipeline(port))
        subprocess.run([args.depctl, "apply", "--yes", "-q"], cwd=project, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        if os.path.exists(marker):
            os.unlink(marker)
        delay = rng.uniform(READY_MIN_S, READY_MAX_S)
        server = LateServer(port, marker, delay)
        server.start()
        try:
            subprocess.run([args.depctl, "environment", "deploy", "-e", "bench", "--version", f"v{run}", "-q"],
                           cwd=project, env=env, check=True, stdout=subprocess.DEVNULL)
        finally:
            server.stop = True
            server.join()
        record = json.loads(subprocess.run([args.depctl, "deployment", "show", "latest", "-e", "bench", "-o", "json"],
                                           cwd=project, env=env, check=True, capture_output=True,
                                           text=True).stdout)
        health, following = step_of(record, "api", "health"), step_of(record, "next", "deploy")
        noticed.append((server.first - server.ready) * 1000)
        between.append(following["start_ms"] - (health["start_ms"] + health["duration_ms"]))
        delays.append(delay)
    m = median(noticed)
    results.append({"target": f"health: readiness noticed, random ready times (median of {runs})",
                    "limit": "<= 50 ms", "measured": f"{m:.1f} ms", "ratio": m / 50.0,
                    "detail": f"ready {READY_MIN_S * 1000:.0f}-{READY_MAX_S * 1000:.0f} ms after the deploy step "
                              f"(uniform); noticed after {', '.join(f'{x:.0f}' for x in noticed)} ms; "
                              f"interval 0.5 s (one probe per interval would give ~250 ms on average)",
                    "command": "depctl environment deploy (api: HTTP health on a port opened late)"})
    b = median(between)
    results.append({"target": f"health: inter-stage latency, health success to next deploy (median of {runs})",
                    "limit": "<= 5 ms", "measured": f"{b:.1f} ms", "ratio": max(b, 0.0) / 5.0,
                    "detail": f"from the deployment record (ms resolution): {', '.join(f'{x:.0f}' for x in between)} ms",
                    "command": "depctl deployment show ID --json: next.deploy.start_ms - (api.health.start_ms + duration_ms)"})
