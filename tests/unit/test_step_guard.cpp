// Commands run under the steps' guard (util/step_guard.hpp, the real depctl-step-guard
// program) end, exit and print exactly as they do as children of the test itself.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "process_test_support.hpp"
#include "test_support.hpp"
#include "util/cancel.hpp"
#include "util/process.hpp"
#include "util/step_guard.hpp"
#include "util/step_guard_protocol.hpp"

namespace fs = std::filesystem;
using depctl::ProcessEnd;
using depctl::ProcessResult;
using depctl::ProcessSpec;
using depctl::StepGuard;

namespace {

using depctl::testing::sorted_lines;
using depctl::testing::write_script;

ProcessResult run(const ProcessSpec& spec, std::string& output,
                  const depctl::CancelSignal* cancel = nullptr) {
    return depctl::testing::run_collecting(spec, output, cancel);
}

bool process_gone(pid_t pid) {
    return ::kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

TEST_CASE("guard protocol: a request survives its encoding", "[guard]") {
    namespace proto = depctl::guard_protocol;
    proto::Request request{
        2500, true, "/tmp/a b", "echo 'x' && true", {"A=1", "B=two words", "C="}};
    const std::string wire = proto::encode(request);
    REQUIRE(proto::get_u32(wire) == wire.size() - 4);
    const auto back = proto::decode(std::string_view(wire).substr(4));
    REQUIRE(back.has_value());
    CHECK(back->grace_ms == 2500);
    CHECK(back->via_shell);
    CHECK(back->workdir == "/tmp/a b");
    CHECK(back->command == "echo 'x' && true");
    CHECK(back->env == request.env);
    CHECK_FALSE(proto::decode(std::string("12\0auto\0", 8)).has_value());  // too few fields
    CHECK_FALSE(proto::decode(std::string("x\0auto\0\0true\0", 13)).has_value());
    CHECK_FALSE(proto::decode("10\0auto\0\0no end").has_value());
}

TEST_CASE("guarded runs: the same ends, codes and output as unguarded ones", "[guard]") {
    depctl::enable_step_guard(DEPCTL_STEP_GUARD_PATH);
    depctl::testing::TempDir dir;
    write_script(dir.path() / "exit3", "#!/bin/sh\necho out; echo err >&2; exit 3\n");
    write_script(dir.path() / "selfkill", "#!/bin/sh\nkill -TERM $$\n");
    write_script(dir.path() / "selfsegv", "#!/bin/sh\nkill -SEGV $$\n");
    write_script(dir.path() / "noshebang", "echo run by the shell; exit 4\n");
    StepGuard guard;
    ProcessSpec spec;
    spec.workdir = dir.path();
    spec.env = {{"DEPCTL_TEST_VAR", "value with spaces"}};
    spec.unset = {"HOME"};
    for (const char* command :
         {"true", "false", "./exit3", "./selfkill", "./selfsegv", "./noshebang",
          "no-such-program-depctl-test", "./missing", "/bin/pwd", "env", "echo $PWD $HOME",
          "cd / && pwd", "exit 7", "head -c 300000 /dev/zero | wc -c", "sleep 5 & echo bg",
          "echo $DEPCTL_TEST_VAR; kill -INT $$", "cat"}) {
        INFO(command);
        spec.command = command;
        spec.guard = nullptr;
        std::string plain_out, guarded_out;
        const ProcessResult plain = run(spec, plain_out);
        spec.guard = &guard;
        const ProcessResult guarded = run(spec, guarded_out);
        CHECK(guarded.end == plain.end);
        CHECK(guarded.exit_code == plain.exit_code);
        CHECK(guarded.error == plain.error);
        CHECK(sorted_lines(guarded_out) == sorted_lines(plain_out));
    }
}

TEST_CASE("guarded runs: a timeout and a cancel take the step's whole group down", "[guard]") {
    depctl::enable_step_guard(DEPCTL_STEP_GUARD_PATH);
    depctl::testing::TempDir dir;
    const fs::path pidfile = dir.path() / "bg.pid";
    StepGuard guard;
    ProcessSpec spec;
    spec.guard = &guard;
    // The leader dies of SIGTERM at once; the background process ignores it, so only the
    // group's SIGKILL, sent before the leader is reaped, ends it.
    spec.command = "(trap '' TERM; exec sleep 60) & echo $! > " + pidfile.string() + "; sleep 60";
    spec.timeout = std::chrono::milliseconds(300);
    spec.grace = std::chrono::milliseconds(5000);
    std::string out;
    const ProcessResult timed_out = run(spec, out);
    CHECK(timed_out.end == ProcessEnd::timed_out);
    CHECK(timed_out.error == "timed out after 300ms");
    pid_t background = 0;
    std::ifstream(pidfile) >> background;
    REQUIRE(background > 0);
    // Reparented to the guard (the subreaper), killed with the group, reaped by the guard.
    for (int i = 0; i < 200 && !process_gone(background); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(process_gone(background));

    depctl::CancelSignal cancel;
    spec.timeout = std::chrono::milliseconds(0);
    spec.command = "sleep 60";
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        cancel.request(depctl::CancelLevel::graceful);
    });
    const ProcessResult canceled = run(spec, out, &cancel);
    canceller.join();
    CHECK(canceled.end == ProcessEnd::canceled);
    CHECK(canceled.exit_code == 128 + SIGTERM);
}

TEST_CASE("guarded runs: many steps at once through one guard, which ends with it", "[guard]") {
    depctl::enable_step_guard(DEPCTL_STEP_GUARD_PATH);
    std::atomic<int> wrong{0};
    {
        StepGuard guard;
        std::vector<std::thread> workers;
        for (int t = 0; t < 6; ++t) {
            workers.emplace_back([&guard, &wrong, t] {
                for (int i = 0; i < 15; ++i) {
                    ProcessSpec spec;
                    spec.guard = &guard;
                    const int code = (t * 15 + i) % 5;
                    spec.command = "echo " + std::to_string(t) + "-" + std::to_string(i) +
                                   "; exit " + std::to_string(code);
                    std::string out;
                    const ProcessResult r = run(spec, out);
                    if (r.exit_code != code ||
                        out != std::to_string(t) + "-" + std::to_string(i) + "\n")
                        ++wrong;
                }
            });
        }
        for (auto& w : workers) w.join();
    }
    CHECK(wrong == 0);
    // The guard was this process's only child, and the guard's end waited for it.
    int status = 0;
    CHECK(::waitpid(-1, &status, WNOHANG) == -1);
    CHECK(errno == ECHILD);
}
