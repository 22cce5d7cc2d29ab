// run_process against real /bin/sh children. Bounds on time are generous and appear only
// where the bound is the point (a timeout must not wait for the full sleep).
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"
#include "util/cancel.hpp"
#include "util/process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using depctl::CancelLevel;
using depctl::CancelSignal;
using depctl::ProcessEnd;
using depctl::ProcessResult;
using depctl::ProcessSpec;
using depctl::run_process;

namespace {

using depctl::testing::TempDir;

ProcessResult run(const ProcessSpec& spec, std::string* output = nullptr,
                  const CancelSignal* cancel = nullptr) {
    return run_process(
        spec,
        [&](std::string_view chunk) {
            if (output) output->append(chunk);
        },
        cancel);
}

ProcessSpec shell(std::string command) {
    ProcessSpec spec;
    spec.command = std::move(command);
    return spec;
}

// Waits for a pid file written by the child; returns its pid.
pid_t read_pid(const fs::path& file) {
    for (int i = 0; i < 200; ++i) {
        std::ifstream in(file);
        pid_t pid = 0;
        if (in >> pid && pid > 0) return pid;
        std::this_thread::sleep_for(25ms);
    }
    FAIL("no pid in " << file);
    return -1;
}

// A killed grandchild is reparented and reaped by init whenever init gets to it (some
// container inits take seconds), so a zombie counts as dead too.
bool is_dead(pid_t pid) {
    if (::kill(pid, 0) < 0 && errno == ESRCH) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const auto paren = line.rfind(')');
    return paren != std::string::npos && line.compare(paren, 3, ") Z") == 0;
}

bool gone_within(pid_t pid, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (is_dead(pid)) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

std::size_t open_fd_count() {
    std::size_t n = 0;
    for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
        (void)entry;
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("run_process reports exit codes", "[process]") {
    auto ok = run(shell("true"));
    CHECK(ok.end == ProcessEnd::exited);
    CHECK(ok.exit_code == 0);
    CHECK(ok.error.empty());

    auto three = run(shell("exit 3"));
    CHECK(three.end == ProcessEnd::exited);
    CHECK(three.exit_code == 3);
}

TEST_CASE("run_process reports 128+n for a child killed by signal n", "[process]") {
    auto r = run(shell("kill -9 $$"));
    CHECK(r.end == ProcessEnd::signaled);
    CHECK(r.exit_code == 128 + SIGKILL);
}

TEST_CASE("run_process runs in the workdir", "[process]") {
    TempDir dir;
    ProcessSpec spec = shell("pwd");
    spec.workdir = dir.path();
    std::string out;
    auto r = run(spec, &out);
    REQUIRE(r.end == ProcessEnd::exited);
    REQUIRE(!out.empty());
    out.pop_back();  // newline
    CHECK(fs::equivalent(out, dir.path()));
}

TEST_CASE("run_process refuses a missing workdir without spawning", "[process]") {
    TempDir dir;
    ProcessSpec spec = shell("touch ran");
    spec.workdir = dir.path() / "missing";
    auto r = run(spec);
    CHECK(r.end == ProcessEnd::spawn_failed);
    CHECK(r.exit_code == 127);
    CHECK(r.error.find("does not exist") != std::string::npos);
    CHECK(r.error.find((dir.path() / "missing").string()) != std::string::npos);
    CHECK_FALSE(fs::exists(dir.path() / "ran"));

    std::ofstream(dir.path() / "file") << "x";
    spec.workdir = dir.path() / "file";
    CHECK(run(spec).end == ProcessEnd::spawn_failed);
}

TEST_CASE("run_process passes and overrides environment variables", "[process]") {
    ProcessSpec spec = shell("printf '%s|%s|%s' \"$DEPCTL_TEST_A\" \"$HOME\" \"$PATH\"");
    spec.env = {{"DEPCTL_TEST_A", "a value"}, {"HOME", "/nonexistent-home"}};
    std::string out;
    auto r = run(spec, &out);
    REQUIRE(r.exit_code == 0);
    const char* path = std::getenv("PATH");
    CHECK(out == std::string("a value|/nonexistent-home|") + (path ? path : ""));
}

TEST_CASE("run_process gives the child /dev/null as stdin", "[process]") {
    ProcessSpec spec = shell("cat; echo end");
    spec.timeout = 20s;  // only so a broken stdin cannot hang the suite
    std::string out;
    auto r = run(spec, &out);
    CHECK(r.end == ProcessEnd::exited);
    CHECK(out == "end\n");
}

TEST_CASE("run_process merges stdout and stderr into the sink in bounded chunks", "[process]") {
    std::string out;
    auto r = run(shell("echo out; echo err >&2"), &out);
    CHECK(r.exit_code == 0);
    CHECK(out == "out\nerr\n");

    std::size_t total = 0;
    std::size_t largest = 0;
    auto big = run_process(
        shell("head -c 1000000 /dev/zero"),
        [&](std::string_view chunk) {
            total += chunk.size();
            largest = std::max(largest, chunk.size());
        },
        nullptr);
    CHECK(big.exit_code == 0);
    CHECK(total == 1000000);
    CHECK(largest <= 64 * 1024);
}

TEST_CASE("run_process timeout kills the whole process group", "[process]") {
    TempDir dir;
    ProcessSpec spec = shell("sh -c 'sleep 60 & echo $! > pidfile; sleep 60'");
    spec.workdir = dir.path();
    spec.timeout = 1s;
    spec.grace = 2s;
    auto r = run(spec);
    CHECK(r.end == ProcessEnd::timed_out);
    CHECK(r.exit_code == 128 + SIGTERM);
    CHECK(r.error == "timed out after 1s");
    CHECK(r.duration < 8s);
    const pid_t grandchild = read_pid(dir.path() / "pidfile");
    CHECK(gone_within(grandchild, 10s));
}

TEST_CASE("run_process kills a child that ignores SIGTERM after the grace period", "[process]") {
    ProcessSpec spec = shell("trap '' TERM; sleep 60");
    spec.timeout = 1s;
    spec.grace = 1s;
    auto r = run(spec);
    CHECK(r.end == ProcessEnd::timed_out);
    CHECK(r.exit_code == 128 + SIGKILL);
    CHECK(r.error.find("killed after 1s grace") != std::string::npos);
    CHECK(r.duration >= 2s);
    CHECK(r.duration < 10s);
}

TEST_CASE("run_process honours a graceful cancel", "[process]") {
    CancelSignal cancel;
    // Requesting from the sink proves the command is running when the cancel arrives.
    auto r = run_process(
        shell("echo started; sleep 60"),
        [&](std::string_view) { cancel.request(CancelLevel::graceful); }, &cancel);
    CHECK(r.end == ProcessEnd::canceled);
    CHECK(r.exit_code == 128 + SIGTERM);
    CHECK(r.duration < 30s);
}

TEST_CASE("run_process kills at once on an immediate cancel", "[process]") {
    CancelSignal cancel;
    ProcessSpec spec = shell("trap '' TERM; echo started; sleep 60");
    spec.grace = 60s;
    auto r = run_process(
        spec, [&](std::string_view) { cancel.request(CancelLevel::immediate); }, &cancel);
    CHECK(r.end == ProcessEnd::canceled);
    CHECK(r.exit_code == 128 + SIGKILL);
    CHECK(r.duration < 30s);
}

TEST_CASE("run_process escalates a graceful cancel to immediate", "[process]") {
    CancelSignal cancel;
    ProcessSpec spec = shell("trap '' TERM; echo started; sleep 60");
    spec.grace = 60s;
    std::thread escalate;
    auto r = run_process(
        spec,
        [&](std::string_view) {
            if (escalate.joinable()) return;
            cancel.request(CancelLevel::graceful);
            escalate = std::thread([&] {
                std::this_thread::sleep_for(300ms);
                cancel.request(CancelLevel::immediate);
            });
        },
        &cancel);
    escalate.join();
    CHECK(r.end == ProcessEnd::canceled);
    CHECK(r.exit_code == 128 + SIGKILL);
    CHECK(r.duration < 30s);
}

TEST_CASE("run_process does not start anything once canceled", "[process]") {
    TempDir dir;
    CancelSignal cancel;
    cancel.request(CancelLevel::graceful);
    ProcessSpec spec = shell("touch ran");
    spec.workdir = dir.path();
    auto r = run(spec, nullptr, &cancel);
    CHECK(r.end == ProcessEnd::canceled);
    CHECK_FALSE(fs::exists(dir.path() / "ran"));
}

TEST_CASE("run_process does not wait for a background process holding the pipe", "[process]") {
    std::string out;
    auto r = run(shell("sleep 5 & echo $!"), &out);
    CHECK(r.end == ProcessEnd::exited);
    CHECK(r.duration < 4s);
    // A normal exit must leave background work alone (a deploy may start a server).
    const pid_t background = std::stoi(out);
    CHECK_FALSE(is_dead(background));
    ::kill(background, SIGKILL);
}

TEST_CASE("run_process closes every descriptor it opens", "[process]") {
    const std::size_t before = open_fd_count();
    CancelSignal cancel;
    for (int i = 0; i < 5; ++i) run(shell("echo x"));
    ProcessSpec spec = shell("sleep 60");
    spec.timeout = 100ms;
    spec.grace = 100ms;
    run(spec);
    CHECK(run(shell("true"), nullptr, &cancel).exit_code == 0);
    CHECK(open_fd_count() == before + 2);  // the two eventfds of `cancel`
}

TEST_CASE("run_process kills the group when the sink throws", "[process]") {
    TempDir dir;
    ProcessSpec spec = shell("sleep 60 & echo $! > pidfile; echo go; sleep 60");
    spec.workdir = dir.path();
    auto throwing = [](std::string_view) { throw std::runtime_error("sink failed"); };
    CHECK_THROWS_AS(run_process(spec, throwing, nullptr), std::runtime_error);
    CHECK(gone_within(read_pid(dir.path() / "pidfile"), 10s));
}

TEST_CASE("run_process runs from many threads at once", "[process]") {
    constexpr int k_threads = 8;
    std::vector<std::string> outputs(k_threads);
    std::vector<int> codes(k_threads, -1);
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t)
        threads.emplace_back([&, t] {
            ProcessSpec spec = shell("for i in 1 2 3; do echo $N; done; exit $N");
            spec.env = {{"N", std::to_string(t)}};
            codes[t] = run_process(
                           spec, [&](std::string_view c) { outputs[t].append(c); }, nullptr)
                           .exit_code;
        });
    for (auto& th : threads) th.join();
    for (int t = 0; t < k_threads; ++t) {
        const std::string n = std::to_string(t);
        CHECK(codes[t] == t);
        CHECK(outputs[t] == n + "\n" + n + "\n" + n + "\n");
    }
}
