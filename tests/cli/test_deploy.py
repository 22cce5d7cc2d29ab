"""The deploy engine, proven from timestamps the child commands write themselves."""
import json
import os
import signal
import subprocess
import time
import unittest

from depctl_test import DEPCTL, DepctlTestCase


def stamped(timeline, label, seconds=0.0):
    """A shell command that records its start and end in `timeline` around a sleep."""
    return (f'echo "{label} start $(date +%s.%N)" >> {timeline}; sleep {seconds}; '
            f'echo "{label} end $(date +%s.%N)" >> {timeline}')


class Deploy(DepctlTestCase):
    def setUp(self):
        super().setUp()
        self.init_environment("dev")
        self.timeline = os.path.join(self.dir, "timeline")

    def add(self, name, kind, build=None, deploy=None, *extra):
        args = ["service", "create", name, "--type", kind]
        if build is not None:
            args += ["--build", stamped(self.timeline, f"{name}/build", build)]
        if deploy is not None:
            args += ["--deploy", stamped(self.timeline, f"{name}/deploy", deploy)]
        self.ok(*args, *extra)

    def events(self):
        """{'Svc/step': (start, end)} from the timeline the commands wrote."""
        spans = {}
        with open(self.timeline) as f:
            for line in f:
                label, what, at = line.split()
                start, end = spans.get(label, (None, None))
                spans[label] = (float(at), end) if what == "start" else (start, float(at))
        return spans

    def test_stages_barriers_overlap_build_ahead_and_depends_on(self):
        # Stage 1: two databases; stage 2 (JOB) empty; stage 3: a skipped container;
        # stage 4: three applications, Web depends on Api inside the stage.
        self.add("Redis", "database", 0.1, 0.6)
        self.add("DB", "database", 0.1, 0.6)
        self.add("Queue", "container", 0.1, 0.1)
        self.ok("environment", "stage", "skip", "-n", "Queue")
        self.add("Api", "application", 0.2, 0.5)
        self.add("Worker", "application", 0.2, 0.5)
        self.add("Web", "application", 0.2, 0.3)
        self.ok("service", "depend", "Web", "--on", "Api")
        result = self.ok("environment", "deploy", "--version", "v1", "--parallelism", "4")
        spans = self.events()

        stage1 = ["Redis/deploy", "DB/deploy"]
        stage4 = ["Api/deploy", "Worker/deploy", "Web/deploy"]
        # Barrier: stage 4's deploys start only after every stage-1 deploy ended.
        last_stage1_end = max(spans[s][1] for s in stage1)
        for s in stage4:
            self.assertGreaterEqual(spans[s][0], last_stage1_end, s)
        # Services of one stage overlap in time.
        self.assertLess(spans["Redis/deploy"][0], spans["DB/deploy"][1])
        self.assertLess(spans["DB/deploy"][0], spans["Redis/deploy"][1])
        self.assertLess(spans["Api/deploy"][0], spans["Worker/deploy"][1])
        # Build-ahead: later stages' builds start before stage 1 finished deploying.
        for s in ["Api/build", "Worker/build", "Web/build"]:
            self.assertLess(spans[s][0], last_stage1_end, s)
        # depends_on inside one stage.
        self.assertGreaterEqual(spans["Web/deploy"][0], spans["Api/deploy"][1])
        # The skipped service never ran; the empty stage did not hold anything up.
        self.assertNotIn("Queue/build", spans)
        self.assertNotIn("Queue/deploy", spans)
        self.assertIn("DEPLOYED", result.stdout)
        status = self.json("environment", "status")
        versions = {s["name"]: s["version"] for s in status["services"]}
        self.assertEqual(versions, {"Redis": "v1", "DB": "v1", "Queue": None, "Api": "v1", "Worker": "v1", "Web": "v1"})
        self.assertFalse(status["mixed_versions"])

    def test_dry_run_runs_and_writes_nothing(self):
        self.add("DB", "database", 0, 0)
        self.add("Api", "application", 0, 0)
        self.ok("environment", "stage", "skip", "-n", "Api")
        before = self.state_bytes()
        listing_before = sorted(os.listdir(os.path.join(self.project, ".depctl")))
        plan = self.json("environment", "deploy", "--dry-run", "--version", "v9")
        self.assertFalse(os.path.exists(self.timeline))
        self.assertEqual(self.state_bytes(), before)
        self.assertEqual(sorted(os.listdir(os.path.join(self.project, ".depctl"))), listing_before)
        self.assertTrue(plan["dry_run"])
        self.assertEqual(plan["version"], "v9")
        self.assertEqual([s["name"] for s in plan["stages"][0]["services"]], ["DB"])
        self.assertEqual(plan["stages"][0]["services"][0]["steps"], ["build", "deploy"])
        self.assertTrue(plan["stages"][1]["skipped"])
        self.assertEqual(plan["stages"][3]["left_out"], ["Api (skipped)"])
        text = self.ok("environment", "deploy", "--dry-run", "--version", "v9").stdout
        self.assertIn("Api (skipped)", text)
        self.assertIn("Nothing was run", text)

    def test_dry_run_estimates_the_time_from_past_durations(self):
        """DESIGN §5: the dry run gives an estimate from past durations. Expected values are
        computed here from the durations the last deployment recorded, not assumed."""
        self.ok("service", "create", "DB", "--type", "database", "--deploy", "sleep 0.3")
        self.ok("service", "create", "Api", "--type", "application", "--build", "sleep 0.2",
                "--deploy", "sleep 0.1")
        plan = self.json("environment", "deploy", "--dry-run", "--version", "v1")
        self.assertIsNone(plan["estimate"])  # no history yet: no made-up figure
        self.assertIn("No time estimate yet",
                      self.ok("environment", "deploy", "--dry-run", "--version", "v1").stdout)
        self.ok("environment", "deploy", "--version", "v1")
        took = {}
        for stage in self.json("deployment", "show", self.json("deployment", "list")[0]["id"])["stages"]:
            for svc in stage["services"]:
                for step in svc["steps"]:
                    took[(svc["name"], step["step"])] = step["duration_ms"] / 1000
        db, build, deploy = took[("DB", "deploy")], took[("Api", "build")], took[("Api", "deploy")]

        serial = self.json("environment", "deploy", "--dry-run", "--version", "v2", "-j", "1")["estimate"]
        self.assertEqual((serial["parallelism"], serial["steps"], serial["measured_steps"]), (1, 3, 3))
        self.assertAlmostEqual(serial["seconds"], db + build + deploy, delta=0.002)
        # In parallel, Api builds while DB deploys; Api's deploy waits for both (stage barrier).
        wide = self.json("environment", "deploy", "--dry-run", "--version", "v2", "-j", "4")["estimate"]
        self.assertAlmostEqual(wide["seconds"], max(db, build) + deploy, delta=0.002)
        # Same version: the build is reused, so it counts for nothing.
        reused = self.json("environment", "deploy", "--dry-run", "--version", "v1", "-j", "4")["estimate"]
        self.assertEqual(reused["steps"], 2)
        self.assertAlmostEqual(reused["seconds"], db + deploy, delta=0.002)
        # A step never seen counts as the median of its kind, and the text says so.
        self.ok("service", "create", "Jobs", "--type", "job", "--deploy", "true")
        text = self.ok("environment", "deploy", "--dry-run", "--version", "v2", "-j", "1").stdout
        self.assertIn("Estimated time:", text)
        self.assertIn("at -j1 (3 of 4 steps from past durations; the others at the median)", text)

    def test_services_subset(self):
        self.add("DB", "database", 0, 0)
        self.add("Api", "application", 0, 0)
        self.ok("environment", "deploy", "--version", "v1", "--services", "api")
        self.assertEqual(set(self.events()), {"Api/build", "Api/deploy"})
        self.fails(3, "environment", "deploy", "--version", "v1", "--services", "Apx", message="not found")

    def test_each_deployed_service_records_the_definition_it_ran(self):
        # DESIGN §9: the record holds what a rollback restores; a later edit changes the state,
        # never the record.
        self.ok("service", "create", "Api", "--type", "application", "--deploy", "echo one",
                "--build", "true", "--env", "PORT=8080", "--secret", "TOKEN=env:API_TOKEN",
                "--health-cmd", "true", "--deploy-timeout", "90")
        self.ok("environment", "deploy", "--version", "v1", env={"API_TOKEN": "s3cr3t-value"})
        self.ok("service", "edit", "Api", "--deploy", "echo two", "--env", "PORT=9090")
        def recorded(record):
            return next(svc for stage in record["stages"] for svc in stage["services"])
        service = recorded(self.last_record())
        self.assertEqual(service["definition"], {
            "build": "true", "deploy": "echo one", "env": {"PORT": "8080"},
            "secrets": [{"key": "TOKEN", "source": "env:API_TOKEN"}],
            "health": {"cmd": "true"}, "deploy_timeout_s": 90})
        self.ok("environment", "stop", env={"API_TOKEN": "s3cr3t-value"})
        self.assertNotIn("definition", recorded(self.last_record()))

    def test_a_skipped_service_named_in_services_is_deployed_and_the_plan_says_so(self):
        self.add("Seed", "job", None, 0)
        self.add("Api", "application", None, 0)
        self.ok("environment", "stage", "skip", "-n", "Seed")
        plan = self.ok("environment", "deploy", "--version", "v1", "--services", "seed", "--dry-run").stdout
        self.assertIn("  Seed: deploy  (skipped, but named in --services)\n", plan)
        self.assertIn("  Api (not selected)\n", plan)
        preview = self.json("environment", "deploy", "--version", "v1", "--services", "seed", "--dry-run")
        planned = [s for stage in preview["stages"] for s in stage["services"]]
        self.assertEqual([(s["name"], s["skipped_but_named"]) for s in planned], [("Seed", True)])
        self.ok("environment", "deploy", "--version", "v1", "--services", "seed")
        self.assertEqual(set(self.events()), {"Seed/deploy"})
        # Still skipped for deploys that do not name it.
        self.ok("environment", "deploy", "--version", "v2")
        self.assertEqual(set(self.events()), {"Seed/deploy", "Api/deploy"})
        self.assertIn("(skipped)", self.ok("environment", "deploy", "--version", "v3", "--dry-run").stdout)

    def test_status_counts_only_running_services_once_some_are_stopped(self):
        for name in ("a", "b", "c"):
            self.ok("service", "create", name, "--type", "application", "--deploy", "true", "--stop", "true")
        self.ok("environment", "deploy", "--version", "v1")
        self.ok("service", "edit", "a", "--deploy", "true # v2")
        self.ok("environment", "deploy", "--version", "v2", "--services", "a")
        self.ok("environment", "stop", "--services", "b")
        status = self.json("environment", "status")
        self.assertEqual(status["summary"], "mixed versions: the environment runs 2 versions (v1, v2); 1 stopped")
        self.ok("environment", "stop", "--services", "a")
        status = self.json("environment", "status")
        self.assertEqual(status["summary"], "all deployed services run version v1; 2 stopped")
        self.assertEqual(status["versions"], ["v1"])
        self.ok("environment", "stop")
        status = self.json("environment", "status")
        self.assertEqual(status["summary"], "stopped: no service runs; 3 stopped")
        self.assertEqual((status["versions"], status["mixed_versions"]), ([], False))
        self.assertEqual([s["version"] for s in status["services"]], ["v2", "v1", "v1"])  # kept

    def test_a_service_whose_deploy_step_ran_in_a_failed_deployment_shows_failed_at_that_version(self):
        """DESIGN §9 "Honest status": once its deploy step ran, what runs may be the attempted
        version; a failure before that step (build, release) leaves the old version running."""
        flag = os.path.join(self.dir, "v2")
        broken = f"test ! -e {flag}"  # succeeds for v1, fails once the flag exists
        self.ok("service", "create", "db", "--type", "database", "--deploy", "true")
        self.ok("service", "create", "web", "--type", "application", "--deploy", "true", "--build", broken)
        self.ok("service", "create", "jobs", "--type", "job", "--deploy", "true", "--release", broken)
        self.ok("service", "create", "api", "--type", "application", "--deploy", broken)
        self.ok("service", "create", "cron", "--type", "job", "--deploy", "true",
                "--health-cmd", broken, "--health-attempts", "1")
        self.ok("environment", "deploy", "--version", "v1")
        open(flag, "w").close()
        for name in ("web", "jobs", "api", "cron"):
            result = self.run_depctl("environment", "deploy", "--version", "v2", "--services", name)
            self.assertEqual(result.returncode, 1, f"{name}: {result.stdout}{result.stderr}")
        status = self.json("environment", "status")
        now = {s["name"]: (s["version"], s["status"]) for s in status["services"]}
        self.assertEqual(now, {
            "db": ("v1", "DEPLOYED"),
            "web": ("v1", "BUILD_ERROR"),        # the build failed: v1 still runs
            "jobs": ("v1", "DEPLOYMENT_ERROR"),  # the release failed before the deploy step
            "api": ("v2", "FAILED"),             # its deploy step ran and failed
            "cron": ("v2", "FAILED"),            # deployed, then unhealthy
        })
        # The records keep saying how each deployment ended, as before.
        self.assertEqual(self.last_record()["status"], "DEPLOYMENT_ERROR")
        # Services that FAILED at a version do not count as running it.
        self.assertEqual(status["summary"], "all deployed services run version v1; "
                                            "4 failed or cancelled in their last deployment")
        self.assertRegex(self.ok("environment", "status").stdout, r"api\s+\|[^|]+\|\s+v2\s+\|\s+FAILED")
        # A deploy step that ran while another service failed: fail-fast lets it end but
        # starts nothing after it (its health step), so it shows CANCELED at v2.
        self.ok("service", "create", "slow", "--type", "application", "--deploy", "sleep 1",
                "--health-cmd", "true")
        self.ok("environment", "deploy", "--version", "v1", "--services", "slow")
        result = self.run_depctl("environment", "deploy", "--version", "v2", "--services", "api,slow")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        slow = self.step(self.last_record(), "slow", "deploy")
        self.assertEqual(slow["status"], "SUCCEEDED")
        now = {s["name"]: (s["version"], s["status"]) for s in self.json("environment", "status")["services"]}
        self.assertEqual(now["slow"], ("v2", "CANCELED"))
        # A successful deploy afterwards makes it DEPLOYED again.
        os.remove(flag)
        self.ok("environment", "deploy", "--version", "v3", "--services", "api")
        self.assertIn({"name": "api", "version": "v3", "status": "DEPLOYED"},
                      [{k: s[k] for k in ("name", "version", "status")}
                       for s in self.json("environment", "status")["services"]])

    def test_stop_runs_a_chain_inside_one_stage_in_reverse_deploy_order(self):
        # proxy -> backend -> db, all in one stage; `cache` has no stop command and sits
        # between worker and db, so worker's stop still comes before db's.
        for name in ("db", "backend", "proxy", "cache", "worker"):
            args = ["service", "create", name, "--type", "application",
                    "--deploy", stamped(self.timeline, f"{name}/deploy", 0.2)]
            if name != "cache":
                args += ["--stop", stamped(self.timeline, f"{name}/stop", 0.5)]
            self.ok(*args)
        self.ok("service", "depend", "backend", "--on", "db")
        self.ok("service", "depend", "proxy", "--on", "backend")
        self.ok("service", "depend", "cache", "--on", "db")
        self.ok("service", "depend", "worker", "--on", "cache")
        self.ok("environment", "deploy", "--version", "v1", "--parallelism", "4")
        deployed = self.events()
        order = sorted(("db", "backend", "proxy"), key=lambda n: deployed[f"{n}/deploy"][0])
        self.assertEqual(order, ["db", "backend", "proxy"])
        self.ok("environment", "stop", "--parallelism", "4")
        spans = self.events()
        self.assertLessEqual(spans["proxy/stop"][1], spans["backend/stop"][0])
        self.assertLessEqual(spans["backend/stop"][1], spans["db/stop"][0])
        self.assertLessEqual(spans["worker/stop"][1], spans["db/stop"][0])
        # Independent services still stop in parallel: worker beside proxy.
        self.assertLess(spans["worker/stop"][0], spans["proxy/stop"][1])

    def test_failure_in_stage_one_stops_the_pipeline(self):
        self.ok("service", "create", "DB", "--type", "database",
                "--deploy", "echo 'migrating...'; sleep 0.3; echo 'boom' >&2; exit 7")
        self.add("Cache", "database", None, 1.0)
        self.add("Api", "application", 0, 0)
        result = self.run_depctl("environment", "deploy", "--version", "v1")
        self.assertEqual(result.returncode, 1, result.stderr)
        spans = self.events()
        self.assertNotIn("Api/deploy", spans)  # later stages never ran
        self.assertIsNotNone(spans["Cache/deploy"][1])  # a running deploy is allowed to finish
        record = self.json("deployment", "list")[0]
        self.assertEqual(record["status"], "DEPLOYMENT_ERROR")
        full = self.json("deployment", "show", record["id"])
        self.assertEqual(full["failed_step"]["service"], "DB")
        self.assertEqual(full["failed_step"]["step"], "deploy")
        self.assertEqual(full["failed_step"]["exit_code"], 7)
        with open(full["failed_step"]["log"]) as f:
            self.assertEqual(f.read(), "migrating...\nboom\n")
        api = [s for st in full["stages"] for s in st["services"] if s["name"] == "Api"][0]
        self.assertEqual({s["step"]: s["status"] for s in api["steps"]}, {"build": "SUCCEEDED", "deploy": "NOT_STARTED"})
        logs = self.ok("deployment", "logs", record["id"], "--service", "db", "--step", "deploy").stdout
        self.assertIn("boom", logs)
        status = self.json("environment", "status")
        by_name = {s["name"]: s for s in status["services"]}
        self.assertEqual((by_name["DB"]["version"], by_name["DB"]["status"]), ("v1", "FAILED"))  # its deploy ran
        self.assertEqual(by_name["Cache"]["version"], "v1")
        self.assertIsNone(by_name["Api"]["version"])

    def test_step_timeout_kills_grandchildren(self):
        pidfile = os.path.join(self.dir, "grandchild.pid")
        self.ok("service", "create", "Slow", "--type", "application", "--deploy-timeout", "1",
                "--deploy", f"sh -c 'sleep 120 & echo $! > {pidfile}; wait'")
        started = time.monotonic()
        result = self.run_depctl("environment", "deploy", "--version", "v1", "--grace", "1")
        self.assertEqual(result.returncode, 1)
        self.assertLess(time.monotonic() - started, 30)
        with open(pidfile) as f:
            grandchild = int(f.read())
        self.assertFalse(process_alive(grandchild), "the step's grandchild survived its timeout")
        record = self.json("deployment", "show", self.json("deployment", "list")[0]["id"])
        self.assertEqual(record["failed_step"]["status"], "TIMED_OUT")

    def test_second_concurrent_deploy_exits_4_naming_the_first(self):
        self.ok("service", "create", "Slow", "--type", "application", "--deploy", "sleep 3")
        first = subprocess.Popen([DEPCTL, "environment", "deploy", "--version", "v1"], cwd=self.project,
                                 env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(first.communicate)
        wait_for(lambda: os.path.exists(os.path.join(self.project, ".depctl", "locks")) and
                 any(os.path.getsize(os.path.join(self.project, ".depctl", "locks", f)) > 0
                     for f in os.listdir(os.path.join(self.project, ".depctl", "locks"))))
        second = self.run_depctl("environment", "deploy", "--version", "v2")
        self.assertEqual(second.returncode, 4, second.stderr)
        self.assertIn("already being deployed by", second.stderr)
        self.assertIn(f"pid {first.pid}", second.stderr)
        self.assertEqual(first.wait(timeout=60), 0)

    def test_sigint_cancels_ten_sleeping_services_and_leaves_no_process(self):
        marker = f"depctl-cancel-{os.getpid()}-{time.monotonic_ns()}"
        for i in range(10):
            command = f"sleep 60 # {marker}" if i % 2 else f"sh -c 'sleep 60 # {marker}' # {marker}"
            self.ok("service", "create", f"svc{i}", "--type", "application", "--deploy", command)
        proc = subprocess.Popen([DEPCTL, "environment", "deploy", "--version", "v1", "--parallelism", "10",
                                 "--grace", "2"], cwd=self.project, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: len(processes_with(marker)) >= 10)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130, err)
        self.assertLess(time.monotonic() - started, 2 + 5)
        wait_for(lambda: not processes_with(marker), timeout=5)
        self.assertEqual(processes_with(marker), [])
        record = self.json("deployment", "list")[0]
        self.assertEqual(record["status"], "CANCELED")

    def test_progress_formats(self):
        self.add("DB", "database", 0, 0)
        lines = self.ok("environment", "deploy", "--version", "v1", "-o", "json").stdout.splitlines()
        events = [json.loads(line) for line in lines]
        self.assertEqual(events[0]["event"], "deployment_started")
        self.assertEqual(events[-1]["event"], "deployment_finished")
        self.assertEqual(events[-1]["record"]["status"], "DEPLOYED")
        self.assertIn({"service": "DB", "step": "build", "status": "SUCCEEDED"},
                      [{k: e.get(k) for k in ("service", "step", "status")} for e in events
                       if e["event"] == "step_finished"])
        followed = self.ok("environment", "deploy", "--version", "v2", "--follow").stdout
        self.assertIn("DB build started", followed)

    def test_a_closed_stdout_does_not_kill_the_deployer(self):
        self.add("DB", "database", 0, 0.3)
        self.add("Api", "application", 0, 0.3)
        # `| head -c 1`: the reader goes away after one byte, mid-deploy.
        result = subprocess.run(f"'{DEPCTL}' environment deploy --version v1 | head -c 1", shell=True,
                                cwd=self.project, env=self.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0)
        record = self.json("deployment", "list")[0]
        self.assertEqual(record["status"], "DEPLOYED")
        self.assertEqual(set(self.events()), {"DB/build", "DB/deploy", "Api/build", "Api/deploy"})

    def test_version_resolution(self):
        self.add("DB", "database", 0, 0)
        self.fails(3, "environment", "deploy", message="cannot tell which version to deploy")
        self.ok("environment", "deploy", env={"DEPCTL_VERSION": "from-env"})
        self.assertEqual(self.json("environment", "status")["services"][0]["version"], "from-env")
        subprocess.run(["git", "init", "-q"], cwd=self.project, check=True)
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty",
                        "-m", "x"], cwd=self.project, check=True)
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=self.project, capture_output=True,
                              text=True).stdout.strip()
        self.ok("environment", "deploy")
        self.assertEqual(self.json("environment", "status")["services"][0]["version"], head)


def process_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def processes_with(marker):
    """Pids whose command line holds `marker`, read from /proc (not depctl's word)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() in f.read() and process_alive(int(entry)):
                    found.append(int(entry))
        except OSError:
            pass
    return found


def wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


if __name__ == "__main__":
    unittest.main()
