"""A real etcd for the black-box tests (standard library only).

EtcdServer starts /usr/bin/etcd (Debian package etcd-server) on free loopback ports with a
temp data dir, and can stop, kill and restart it on the same ports. EtcdCluster starts three
such members as one cluster (the fault tests: a hung member, a killed leader). EtcdClient
reads and writes keys through the v3 JSON gateway, to inspect what depctl stored."""
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zlib

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ZLIB_MARKER = b"depctl-zlib:"  # src/core/store/etcd_store.cpp


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _b64(text):
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def _unb64(text):
    return base64.b64decode(text or "").decode("utf-8", errors="replace")


def _prefix_end(prefix):
    raw = bytearray(prefix.encode())
    raw[-1] += 1
    return bytes(raw)


class EtcdClient:
    """A few calls of etcd's v3 JSON gateway, without proxies."""

    def __init__(self, endpoint, tls=None):
        self.endpoint = endpoint
        self.scheme = "https" if tls else "http"
        handlers = [urllib.request.ProxyHandler({})]
        if tls:
            context = ssl.create_default_context(cafile=tls["ca"])
            if "client_cert" in tls:
                context.load_cert_chain(tls["client_cert"], tls["client_key"])
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self._opener = urllib.request.build_opener(*handlers)

    def call(self, path, body, timeout=10):
        request = urllib.request.Request(f"{self.scheme}://{self.endpoint}{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with self._opener.open(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")

    def range_prefix(self, prefix):
        """Every key under `prefix`, in key order: dicts of key, value (decompressed),
        stored_bytes and revisions."""
        out, start, end = [], prefix.encode(), _prefix_end(prefix)
        while True:
            reply = self.call("/v3/kv/range", {"key": _b64(start), "range_end": _b64(end), "limit": "500"})
            kvs = reply.get("kvs", [])
            for kv in kvs:
                raw = base64.b64decode(kv.get("value") or "")
                if raw.startswith(ZLIB_MARKER):  # an environment depctl stored compressed
                    value = zlib.decompress(raw[len(ZLIB_MARKER):]).decode()
                else:
                    value = raw.decode("utf-8", errors="replace")
                out.append({"key": _unb64(kv["key"]), "value": value, "stored_bytes": len(raw),
                            "create_revision": int(kv.get("create_revision", 0)),
                            "mod_revision": int(kv.get("mod_revision", 0)), "lease": int(kv.get("lease", 0))})
            if not reply.get("more") or not kvs:
                return out
            start = base64.b64decode(kvs[-1]["key"]) + b"\0"

    def raw_prefix(self, prefix):
        """Every key under `prefix` as (key, stored bytes): what copy_into() writes back."""
        out, start, end = [], prefix.encode(), _prefix_end(prefix)
        while True:
            reply = self.call("/v3/kv/range", {"key": _b64(start), "range_end": _b64(end), "limit": "500"})
            kvs = reply.get("kvs", [])
            out += [(_unb64(kv["key"]), base64.b64decode(kv.get("value") or "")) for kv in kvs]
            if not reply.get("more") or not kvs:
                return out
            start = base64.b64decode(kvs[-1]["key"]) + b"\0"

    def put_raw(self, key, raw):
        self.call("/v3/kv/put", {"key": _b64(key), "value": base64.b64encode(raw).decode()})

    def get(self, key):
        kvs = self.range_prefix(key)
        return next((kv for kv in kvs if kv["key"] == key), None)

    def put(self, key, value):
        self.call("/v3/kv/put", {"key": _b64(key), "value": _b64(value)})

    def delete_prefix(self, prefix):
        self.call("/v3/kv/deleterange", {"key": _b64(prefix), "range_end": _b64(_prefix_end(prefix))})

    def dump(self, prefix):
        """A canonical dump of every key under `prefix` with its value and mod_revision:
        equal dumps mean nothing was written. None when there is no key at all."""
        kvs = self.range_prefix(prefix)
        if not kvs:
            return None
        return json.dumps([[kv["key"], kv["mod_revision"], kv["value"]] for kv in kvs], indent=1).encode()

    def state(self, prefix):
        """The state document depctl stored under `prefix`, shaped like state.json."""
        project = self.get(prefix + "/project")
        if project is None:
            return None
        doc = json.loads(project["value"])
        envs = {kv["key"]: json.loads(kv["value"]) for kv in self.range_prefix(prefix + "/env/")}
        doc["environments"] = [envs[f"{prefix}/env/{i}"] for i in doc.pop("environment_ids")]
        return doc


def make_certificates(directory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, with openssl."""
    paths = {name: os.path.join(directory, name) for name in
             ("ca", "ca_key", "server_cert", "server_key", "client_cert", "client_key")}
    ext = os.path.join(directory, "san.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=depctl-test-ca",
            "-keyout", paths["ca_key"], "-out", paths["ca"])
    for who, subject, extra in [("server", "/CN=127.0.0.1", ["-extfile", ext]), ("client", "/CN=depctl", [])]:
        csr = os.path.join(directory, who + ".csr")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", paths[who + "_key"], "-out", csr)
        openssl("x509", "-req", "-in", csr, "-CA", paths["ca"], "-CAkey", paths["ca_key"], "-CAcreateserial",
                "-days", "2", "-out", paths[who + "_cert"], *extra)
    return paths


class EtcdServer:
    """One etcd member on 127.0.0.1 with its own temp data dir; with `tls`, clients talk
    https to it (and with `client_cert_auth` must show a certificate of its CA)."""

    def __init__(self, tls=False, client_cert_auth=False, name="depctl-test"):
        if not os.path.exists(ETCD):
            raise RuntimeError("etcd not found: install Debian's etcd-server (scripts/install-deps.sh)")
        self.dir = tempfile.mkdtemp(prefix="depctl-etcd-")
        self.data_dir = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "etcd.log")
        self.client_port = None
        self.peer_port = None
        self.proc = None
        self.name = name
        self.initial_cluster = None  # set by EtcdCluster: "name=peer-url,..." of every member
        self.client_cert_auth = client_cert_auth
        self.tls = make_certificates(self.dir) if tls or client_cert_auth else None

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.client_port}"

    def client(self):
        return EtcdClient(self.endpoint, self.tls)

    def url(self, prefix):
        return f"{'etcds' if self.tls else 'etcd'}://{self.endpoint}{prefix}"

    def start(self, timeout=30):
        """Starts etcd (on the same ports when restarting) and waits until it serves."""
        fresh = self.client_port is None
        for _ in range(5 if fresh else 1):
            if fresh:
                self.client_port, self.peer_port = free_port(), free_port()
            if self._launch(timeout):
                return self
            self._stop_process()
        with open(self.log_path, errors="replace") as f:
            raise RuntimeError(f"etcd did not start on {self.endpoint}:\n{f.read()[-3000:]}")

    @property
    def peer_url(self):
        return f"http://127.0.0.1:{self.peer_port}"

    def _launch(self, timeout):
        self._spawn()
        return self._wait_ready(timeout)

    def _spawn(self):
        client_url = f"{'https' if self.tls else 'http'}://127.0.0.1:{self.client_port}"
        # etcd reads ETCD_* variables as flags: none may leak in from the caller.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD")}
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [ETCD, "--name", self.name, "--data-dir", self.data_dir,
             "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
             "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
             "--initial-cluster", self.initial_cluster or f"{self.name}={self.peer_url}",
             "--initial-cluster-state", "new",
             "--logger", "zap", "--log-outputs", "stderr", *self._tls_flags()],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        log.close()

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False  # e.g. a port was taken in between
            try:
                self.client().call("/v3/kv/range", {"key": _b64("/")}, timeout=1)
                return True
            except (OSError, urllib.error.URLError, ValueError):
                time.sleep(0.1)
        return False

    def _tls_flags(self):
        if not self.tls:
            return []
        flags = ["--cert-file", self.tls["server_cert"], "--key-file", self.tls["server_key"]]
        if self.client_cert_auth:
            flags += ["--client-cert-auth", "--trusted-ca-file", self.tls["ca"]]
        return flags

    def _stop_process(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a member a test froze
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self):
        self._stop_process()

    def kill(self):
        self._stop_process(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self._stop_process()
        shutil.rmtree(self.dir, ignore_errors=True)


class EtcdCluster:
    """Three etcd members on loopback ports forming one cluster, each in its own data dir.
    `url(prefix)` lists every member's client endpoint, in member order."""

    def __init__(self, size=3):
        self.members = [EtcdServer(name=f"m{i}") for i in range(size)]

    def start(self, timeout=60):
        for attempt in range(3):
            for m in self.members:
                m.client_port, m.peer_port = free_port(), free_port()
            initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
            for m in self.members:
                m.initial_cluster = initial
                m._spawn()
            # A member serves only once the cluster has a leader: all must come up together.
            if all(m._wait_ready(timeout) for m in self.members):
                return self
            for m in self.members:  # e.g. a port taken in between: again, on fresh ports
                m._stop_process(signal.SIGKILL)
                shutil.rmtree(m.data_dir, ignore_errors=True)
        logs = ""
        for m in self.members:
            with open(m.log_path, errors="replace") as f:
                logs += f"--- {m.name}\n{f.read()[-2000:]}\n"
        raise RuntimeError(f"the etcd cluster did not start:\n{logs}")

    @property
    def endpoints(self):
        return [m.endpoint for m in self.members]

    def url(self, prefix):
        return f"etcd://{','.join(self.endpoints)}{prefix}"

    def client(self, member=None):
        """A client of one member: the first running one, unless named."""
        return (member or next(m for m in self.members if m.proc and m.proc.poll() is None)).client()

    def leader(self):
        """The member that is the cluster's leader, as its members see it now."""
        for m in self.members:
            if not (m.proc and m.proc.poll() is None):
                continue
            try:
                status = m.client().call("/v3/maintenance/status", {}, timeout=2)
            except (OSError, urllib.error.URLError, ValueError):
                continue
            leader_id = status.get("leader")
            for other in self.members:
                if not (other.proc and other.proc.poll() is None):
                    continue
                try:
                    own = other.client().call("/v3/maintenance/status", {}, timeout=2)
                except (OSError, urllib.error.URLError, ValueError):
                    continue
                if leader_id and own.get("header", {}).get("member_id") == leader_id:
                    return other
        return None

    def cleanup(self):
        for m in self.members:
            m.cleanup()
