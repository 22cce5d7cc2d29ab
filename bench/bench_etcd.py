"""etcd figures for bench/bench.py (#19): `service create` on a 3-member etcd cluster on
loopback, at 200 and 2,000 services, and 8 concurrent writers x 25 mutations (no lost
update, throughput beside the file store's).

The bench starts its own cluster (Debian's etcd-server, /usr/bin/etcd) on free loopback
ports, with data dirs in the bench's work dir, and stops it at the end. An environment of n
services is written as a state file and moved to etcd with `depctl state migrate`. Each
measured create is followed by an unmeasured `service delete` of the same service, so the
environment keeps its size. The requests etcd served are counted from its /metrics
(grpc_server_handled_total, summed over the members): requests per create is the steady
figure on a noisy machine, as is depctl's CPU time.
"""
import base64
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
MEMBERS = 3
WRITERS, MUTATIONS = 8, 25


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, body=None, timeout=2):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    with opener.open(request, timeout=timeout) as response:
        return response.read()


class Cluster:
    """MEMBERS etcd members on loopback ports under `directory` (data dirs and logs)."""

    def __init__(self, directory):
        self.directory = directory
        self.procs, self.client_ports = [], []

    def start(self, timeout=60):
        for _ in range(3):  # a port taken in between: again, on fresh ports
            self.client_ports = [free_port() for _ in range(MEMBERS)]
            peers = [free_port() for _ in range(MEMBERS)]
            initial = ",".join(f"m{i}=http://127.0.0.1:{p}" for i, p in enumerate(peers))
            env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD")}  # no stray flags
            for i in range(MEMBERS):
                client = f"http://127.0.0.1:{self.client_ports[i]}"
                log = open(os.path.join(self.directory, f"m{i}.log"), "ab")
                self.procs.append(subprocess.Popen(
                    [ETCD, "--name", f"m{i}", "--data-dir", os.path.join(self.directory, f"m{i}.data"),
                     "--listen-client-urls", client, "--advertise-client-urls", client,
                     "--listen-peer-urls", f"http://127.0.0.1:{peers[i]}",
                     "--initial-advertise-peer-urls", f"http://127.0.0.1:{peers[i]}",
                     "--initial-cluster", initial, "--initial-cluster-state", "new"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env))
                log.close()
            if all(self._ready(i, timeout) for i in range(MEMBERS)):
                return self
            self.stop()
        raise RuntimeError(f"the etcd cluster did not start (logs in {self.directory})")

    def _ready(self, i, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[i].poll() is not None:
                return False
            try:
                _get(f"http://127.0.0.1:{self.client_ports[i]}/v3/kv/range", b'{"key":"Lw=="}', timeout=1)
                return True
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        return False

    def url(self, prefix):
        return "etcd://" + ",".join(f"127.0.0.1:{p}" for p in self.client_ports) + prefix

    def requests_served(self):
        """gRPC requests every member has handled so far (the JSON gateway's calls included)."""
        total = 0
        for port in self.client_ports:
            text = _get(f"http://127.0.0.1:{port}/metrics").decode()
            total += sum(int(float(m)) for m in re.findall(r"^grpc_server_handled_total\{[^}]*\} (\S+)$", text, re.M))
        return total

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []


def service_count(args, project, env, state):
    out = subprocess.run([args.depctl, "--state", state, "service", "list", "-e", "big", "-o", "json"], cwd=project,
                         env=env, check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    return len(doc["services"] if isinstance(doc, dict) else doc)


def prepare(args, work, name, n, big_environment, write_state, cluster):
    """A project dir holding a state file of n services; with a cluster, moved to etcd.
    Returns (project dir, env, --state value)."""
    project = os.path.join(work, f"etcd-{name}")
    path = write_state(project, big_environment(n, 1, 4, random.Random(n), deployed=True))
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "cfg"), XDG_STATE_HOME=os.path.join(work, "xdg-state"))
    env.pop("DEPCTL_STATE", None)
    if cluster is None:
        return project, env, path
    state = cluster.url(f"/bench/{name}")
    subprocess.run([args.depctl, "--state", path, "state", "migrate", "--to", state], cwd=project, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return project, env, state


def time_creates(args, project, env, state, runs, run_timed, cluster=None):
    """`service create` (measured) then `service delete` (not), `runs` times; returns wall
    times, CPU times and etcd requests per create."""
    times, cpu, requests = [], [], []
    for run in range(runs):
        before = cluster.requests_served() if cluster else 0
        times.append(run_timed([args.depctl, "--state", state, "service", "create", f"new-{run}", "--type", "job",
                                "--deploy", "true", "-e", "big", "-q"], project, env, cpu=cpu)[0])
        if cluster:
            requests.append(cluster.requests_served() - before)
        run_timed([args.depctl, "--state", state, "service", "delete", f"new-{run}", "-e", "big", "-q"],
                  project, env)
    return times, cpu, requests


def etcd_round_trips(cluster, prefix, runs, median):
    """The part of a create that is etcd's alone: on one kept-alive connection to the first
    member, a range of the environment's value, then a txn that puts the same bytes back if
    its mod_revision is unchanged (a create's two requests, without depctl). Returns the
    median milliseconds. Putting the same value back leaves the environment as it was."""

    def call(connection, path, body):
        connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        return json.loads(connection.getresponse().read())

    raw = prefix.encode()
    connection = http.client.HTTPConnection("127.0.0.1", cluster.client_ports[0], timeout=10)
    try:
        listing = call(connection, "/v3/kv/range", {"key": base64.b64encode(raw).decode(),
                                                    "range_end": base64.b64encode(raw[:-1] + bytes([raw[-1] + 1])).decode()})
        # The environment's value: the largest under the prefix.
        key = max(listing.get("kvs", []), key=lambda kv: len(kv.get("value", "")))["key"]
        times = []
        for _ in range(runs):
            begin = time.perf_counter()
            kv = call(connection, "/v3/kv/range", {"key": key})["kvs"][0]
            answer = call(connection, "/v3/kv/txn", {
                "compare": [{"key": key, "target": "MOD", "result": "EQUAL", "mod_revision": kv["mod_revision"]}],
                "success": [{"request_put": {"key": key, "value": kv["value"]}}]})
            times.append(time.perf_counter() - begin)
            if not answer.get("succeeded"):
                raise RuntimeError(f"etcd round trips: the txn on {prefix} did not succeed: {answer}")
        return median(times) * 1000
    finally:
        connection.close()


def concurrent_writers(args, project, env, state):
    """WRITERS threads, each running MUTATIONS `service create` one after the other; returns
    (seconds, failures)."""
    failures = []

    def writer(w):
        for m in range(MUTATIONS):
            done = subprocess.run([args.depctl, "--state", state, "service", "create", f"w{w}-{m}", "--type", "job",
                                   "--deploy", "true", "-e", "big", "-q", "--lock-timeout", "120"],
                                  cwd=project, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                failures.append(f"w{w}-{m}: exit {done.returncode}: {done.stderr.strip()[:200]}")

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, failures


def bench_etcd(args, work, results, run_timed, median, big_environment, write_state):
    if not os.path.exists(ETCD):
        raise RuntimeError("etcd not found: install Debian's etcd-server (scripts/install-deps.sh)")
    directory = os.path.join(work, "etcd-cluster")
    os.makedirs(directory)
    cluster = Cluster(directory).start()
    try:
        _bench_etcd(args, work, results, run_timed, median, big_environment, write_state, cluster)
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _bench_etcd(args, work, results, run_timed, median, big_environment, write_state, cluster):
    command = "depctl service create new-K --type job --deploy true -e big -q (then service delete new-K, not timed)"
    for n, limit, runs in ((200, 12.0, 21 if not args.quick else 5), (2000, 30.0, 11 if not args.quick else 3)):
        project, env, state = prepare(args, work, f"n{n}", n, big_environment, write_state, cluster)
        times, cpu, requests = time_creates(args, project, env, state, runs, run_timed, cluster)
        floor = etcd_round_trips(cluster, f"/bench/n{n}/env/", runs, median)
        exec_floor = median([run_timed(["/usr/bin/true"], project, env)[0] for _ in range(runs)]) * 1000
        f_project, f_env, f_state = prepare(args, work, f"file-n{n}", n, big_environment, write_state, None)
        f_times, f_cpu, _ = time_creates(args, f_project, f_env, f_state, runs, run_timed)
        m = median(times) * 1000
        results.append({"target": f"etcd: `service create`, {n:,} services, 3 members (median of {runs})",
                        "limit": f"<= {limit:.0f} ms", "measured": f"{m:.1f} ms", "ratio": m / limit,
                        "detail": f"CPU time (user + system) {median(cpu) * 1000:.1f} ms; "
                                  f"etcd requests per create {median(requests):.0f}; "
                                  f"floor: etcd's range + txn of the same value alone {floor:.1f} ms "
                                  f"(kept-alive connection, no depctl) + an exec of /usr/bin/true "
                                  f"{exec_floor:.1f} ms = {floor + exec_floor:.1f} ms; "
                                  f"runs {', '.join(f'{t * 1000:.0f}' for t in times)} ms; "
                                  f"file store: {median(f_times) * 1000:.1f} ms, CPU {median(f_cpu) * 1000:.1f} ms",
                        "command": command})
    figures = {}
    for store in ("etcd", "file"):
        project, env, state = prepare(args, work, f"writers-{store}", 200, big_environment, write_state,
                                      cluster if store == "etcd" else None)
        seconds, failures = concurrent_writers(args, project, env, state)
        stored = service_count(args, project, env, state) - 200
        figures[store] = (seconds, failures, stored)
    seconds, failures, stored = figures["etcd"]
    expected = WRITERS * MUTATIONS
    lost = expected - len(failures) - stored
    f_seconds, f_failures, f_stored = figures["file"]
    results.append({"target": f"etcd: {WRITERS} writers x {MUTATIONS} `service create`, 200 services: lost updates",
                    "limit": "0", "measured": f"{lost}", "ratio": float(lost > 0),
                    "detail": f"{stored} of {expected} services stored, {len(failures)} commands failed"
                              + (f" ({failures[0]})" if failures else "")
                              + f"; file store: {f_stored} of {expected} stored, {len(f_failures)} failed",
                    "command": f"{WRITERS} threads, each {MUTATIONS} x depctl service create wW-M ... --lock-timeout 120; "
                               "then depctl service list -o json"})
    results.append({"target": f"etcd: {WRITERS} writers x {MUTATIONS} mutations: throughput (file store beside it)",
                    "limit": "report", "measured": f"{expected / seconds:.0f}/s", "ratio": 0.0,
                    "detail": f"etcd {expected / seconds:.1f} mutations/s ({expected} in {seconds:.1f} s); "
                              f"file store {expected / f_seconds:.1f} mutations/s ({expected} in {f_seconds:.1f} s), "
                              f"same commands on a state file",
                    "command": "as above"})
