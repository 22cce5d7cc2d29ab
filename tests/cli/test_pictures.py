"""Pictures and explanations (DESIGN §10): the graph, the timeline, the Chrome trace and
`deployment explain`, checked from their structure and rendered by a real Chromium."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zlib

from depctl_test import DepctlTestCase

SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def classes(element):
    return element.get("class", "").split()


def render_png(test, svg_path):
    """Screenshots the SVG in headless Chromium; returns the PNG's bytes."""
    profile = tempfile.mkdtemp(prefix="depctl-chromium-")
    test.addCleanup(shutil.rmtree, profile, ignore_errors=True)
    png = svg_path + ".png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}", "--window-size=1400,900",
                    f"--screenshot={png}", "file://" + svg_path],
                   capture_output=True, timeout=120, check=False)
    test.assertTrue(os.path.exists(png), "Chromium wrote no screenshot")
    with open(png, "rb") as f:
        return f.read()


def distinct_bytes(png):
    """Distinct byte values of the decompressed image data: a blank page has a handful."""
    test_sig = png[:8] == b"\x89PNG\r\n\x1a\n"
    assert test_sig, "not a PNG"
    pos, data = 8, b""
    while pos < len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        kind = png[pos + 4:pos + 8]
        if kind == b"IDAT":
            data += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(data)))


MERMAID_LINE = [
    re.compile(r'^flowchart (LR|TB|TD|RL|BT)$'),
    re.compile(r'^  subgraph [A-Za-z_][\w]*\["[^"\n]*"\]$'),
    re.compile(r'^    [A-Za-z_][\w]*\["[^"\n]*"\]$'),
    re.compile(r'^  end$'),
    re.compile(r'^  [A-Za-z_][\w]* ~~~ [A-Za-z_][\w]*$'),
    re.compile(r'^  [A-Za-z_][\w]* -->\|[^|"\n]+\| [A-Za-z_][\w]*$'),
]


def check_mermaid(test, text):
    """The subset of Mermaid flowchart syntax depctl writes: every line one known form,
    subgraphs balanced, every edge between declared nodes."""
    lines = text.rstrip("\n").split("\n")
    test.assertEqual(lines[0], "flowchart LR")
    depth, nodes, groups = 0, set(), set()
    for line in lines:
        test.assertTrue(any(p.match(line) for p in MERMAID_LINE), f"bad Mermaid line: {line!r}")
        if line.startswith("  subgraph "):
            test.assertEqual(depth, 0)
            depth += 1
            groups.add(line.split()[1].split("[")[0])
        elif line == "  end":
            test.assertEqual(depth, 1)
            depth -= 1
        elif line.startswith("    "):
            test.assertEqual(depth, 1, "node outside a subgraph")
            nodes.add(line.split("[")[0].strip())
        elif "-->" in line:
            a, _, b = line.split()
            test.assertIn(a, nodes)
            test.assertIn(b, nodes)
        elif "~~~" in line:
            a, _, b = line.split()
            test.assertIn(a, groups)
            test.assertIn(b, groups)
    test.assertEqual(depth, 0)


class Pictures(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("dev")
        self.env["DEPCTL_VERSION"] = "v1"
        # A known critical path at -j2: db's deploy holds a worker and the stage barrier;
        # web's build waits for a free worker (saturated pool); api's deploy waits for the
        # DATABASE stage; web's deploy waits for its dependency api.
        self.ok("service", "create", "db", "--type", "database", "--deploy", "sleep 1.2")
        self.ok("service", "create", "api", "--type", "application", "--build", "sleep 0.3",
                "--deploy", "sleep 0.3")
        self.ok("service", "create", "web", "--type", "application", "--build", "sleep 0.3",
                "--deploy", "sleep 0.3")
        self.ok("service", "depend", "web", "--on", "api")

    def deploy(self):
        self.ok("environment", "deploy", "--parallelism", "2")
        return self.last_record()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_explain_names_the_arranged_critical_path_and_waits(self):
        self.deploy()
        e = self.json("deployment", "explain", "latest")
        chain = [(s["service"], s["step"]) for s in e["critical_path"]["steps"]]
        self.assertEqual(chain, [("db", "deploy"), ("api", "deploy"), ("web", "deploy")])
        vias = [s["via"]["kind"] for s in e["critical_path"]["steps"]]
        self.assertEqual(vias, ["start", "stage", "dependency"])
        steps = {(s["service"], s["step"]): s for s in e["steps"]}
        self.assertEqual([w["kind"] for w in steps[("web", "build")]["waits"]], ["worker"])
        api_last = steps[("api", "deploy")]["waits"][-1]
        self.assertEqual((api_last["kind"], api_last["what"]), ("stage", "DATABASE DEFAULT"))
        web_last = steps[("web", "deploy")]["waits"][-1]
        self.assertEqual((web_last["kind"], web_last["what"], web_last["condition"]),
                         ("dependency", "api", "healthy"))
        self.assertEqual(e["pool"]["parallelism"], 2)
        self.assertEqual(e["pool"]["idle_ms"],
                         max(0, 2 * e["pool"]["wall_ms"] - e["pool"]["busy_ms"]))
        text = self.ok("deployment", "explain", "latest", "--service", "web").stdout
        self.assertIn("a free worker", text)
        self.assertIn("dependency api (healthy)", text)
        self.assertNotIn("\x1b[", text)
        self.fails(3, "deployment", "explain", "latest", "--service", "nope")

    def test_dry_run_predicts_the_critical_path_from_past_durations(self):
        before = self.ok("environment", "deploy", "--dry-run").stdout
        self.assertNotIn("Predicted critical path", before)  # nothing to estimate from yet
        self.deploy()
        # db's 1.2 s deploy, then the stage barrier, api's deploy, web's deploy after api.
        preview = self.json("environment", "deploy", "--dry-run", "--parallelism", "2")
        chain = [(link["service"], link["step"]) for link in preview["estimate"]["critical_path"]]
        self.assertEqual(chain, [("db", "deploy"), ("api", "deploy"), ("web", "deploy")])
        total = sum(link["seconds"] for link in preview["estimate"]["critical_path"])
        self.assertAlmostEqual(preview["estimate"]["critical_seconds"], total, places=6)
        record = self.last_record()
        self.assertGreaterEqual(total, 1.2 + 0.3 + 0.3)
        self.assertLessEqual(total, record["duration_ms"] / 1000 + 0.001)
        text = self.ok("environment", "deploy", "--dry-run", "--parallelism", "2").stdout
        self.assertRegex(text, r"\nPredicted critical path \(\d+\.\ds\): db deploy \d+\.\ds → "
                               r"api deploy \d+\.\ds → web deploy \d+\.\ds\n")

    def test_timeline_svg_is_wellformed_renders_and_has_a_bar_per_step(self):
        record = self.deploy()
        path = os.path.join(self.dir, "timeline.svg")
        self.ok("deployment", "timeline", "latest", "-o", path)
        root = ET.parse(path).getroot()
        bars = [r for r in root.iter(SVG + "rect") if "bar" in classes(r)]
        ran = [(svc["name"], st["step"]) for stage in record["stages"]
               for svc in stage["services"] for st in svc["steps"] if "start_ms" in st]
        self.assertEqual(len(ran), 5)
        self.assertEqual(sorted((b.get("data-service"), b.get("data-step")) for b in bars),
                         sorted(ran))
        for b in bars:
            self.assertIsNotNone(b.find(SVG + "title"), "a bar without a hover title")
        critical = [(b.get("data-service"), b.get("data-step")) for b in bars
                    if "crit" in classes(b)]
        self.assertEqual(sorted(critical), [("api", "deploy"), ("db", "deploy"), ("web", "deploy")])
        self.assertGreater(distinct_bytes(render_png(self, path)), 20, "blank rendering")

    def test_chrome_trace_has_the_required_fields_and_the_recorded_durations(self):
        record = self.deploy()
        trace = json.loads(self.ok("deployment", "timeline", record["id"], "--format",
                                   "chrome-trace").stdout)
        events = trace["traceEvents"]
        for ev in events:
            for field in ("name", "ph", "pid", "tid", "ts"):
                self.assertIn(field, ev)
        complete = [ev for ev in events if ev["ph"] == "X"]
        threads = {ev["args"]["name"]: ev["tid"] for ev in events if ev["name"] == "thread_name"}
        self.assertEqual(len({threads[s] for s in ("db", "api", "web")}), 3)
        seen = 0
        for stage in record["stages"]:
            for svc in stage["services"]:
                for st in svc["steps"]:
                    ev = next(e for e in complete
                              if e["tid"] == threads[svc["name"]] and e["name"] == st["step"])
                    self.assertLessEqual(abs(ev["dur"] - st["duration_ms"] * 1000), 1000)
                    self.assertLessEqual(abs(ev["ts"] - st["start_ms"] * 1000), 1000)
                    seen += 1
        self.assertEqual(seen, len(complete))

    def test_graph_in_every_format(self):
        self.ok("service", "create", "old", "--type", "job", "--deploy", "true")
        self.ok("environment", "stage", "skip", "-n", "old")
        text = self.ok("environment", "graph").stdout
        self.assertIn("after api (healthy)", text)
        self.assertIn("(skipped)", text)
        svg = self.write("graph.svg", self.ok("environment", "graph", "--format", "svg").stdout)
        root = ET.parse(svg).getroot()
        boxes = [r for r in root.iter(SVG + "rect") if "node" in classes(r)]
        self.assertEqual(len(boxes), 4)
        edges = [p for p in root.iter(SVG + "path") if p.get("data-from")]
        self.assertEqual([(p.get("data-from"), p.get("data-to")) for p in edges],
                         [("api", "web")])
        self.assertGreater(distinct_bytes(render_png(self, svg)), 20, "blank rendering")
        # The legend names the conditions the graph uses, and no other.
        legend = [t.text for t in root.iter(SVG + "text") if (t.text or "").startswith("waits until")]
        self.assertEqual(legend, ["waits until healthy"])
        dot = self.ok("environment", "graph", "--format", "dot").stdout
        result = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True,
                                timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        ET.fromstring(result.stdout.encode())
        check_mermaid(self, self.ok("environment", "graph", "--format", "mermaid").stdout)
        graph = self.json("environment", "graph")
        self.assertEqual(graph["edges"], [{"from": "api", "to": "web", "condition": "healthy"}])

    def test_latest_without_a_deployment_is_refused(self):
        self.fails(3, "deployment", "timeline", "latest", message="no deployment yet")
        self.fails(3, "deployment", "explain", "latest")


if __name__ == "__main__":
    unittest.main()
