// execute() on small DAGs. Steps coordinate through a Board (mutex + condition variable)
// instead of sleeps, so the interleavings under test are forced, not hoped for.
#include <poll.h>
#include <stdlib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "depctl/executor.hpp"
#include "test_support.hpp"
#include "util/process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using depctl::CancelLevel;
using depctl::CancelSignal;
using depctl::ExecEvent;
using depctl::ExecEventKind;
using depctl::ExecOptions;
using depctl::ExecStep;
using depctl::StepClass;
using depctl::StepContext;
using depctl::StepOutcome;
using depctl::StepState;

namespace {

using depctl::testing::TempDir;

// Named counters that steps bump and wait on.
class Board {
public:
    void add(const std::string& key, int n = 1) {
        std::lock_guard lock(m_mutex);
        m_counts[key] += n;
        m_cv.notify_all();
    }
    int get(const std::string& key) {
        std::lock_guard lock(m_mutex);
        return m_counts[key];
    }
    // Deadline only so a broken executor fails the test instead of hanging it.
    bool wait(const std::string& key, int at_least) {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, 30s, [&] { return m_counts[key] >= at_least; });
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::map<std::string, int> m_counts;
};

ExecStep step(std::string name, StepClass cls, std::vector<std::size_t> deps,
              std::function<StepOutcome(StepContext&)> run, double priority = 0) {
    return ExecStep{std::move(name), cls, std::move(deps), priority, std::move(run)};
}

StepOutcome succeed(StepContext&) {
    return StepOutcome::succeeded;
}

// Runs a real command under the step's cancel signal; `board` counts each output line
// as key + line (chunks may hold several lines, or part of one).
std::function<StepOutcome(StepContext&)> shell_step(std::string command, Board* board = nullptr,
                                                    std::string key = {}) {
    return [=](StepContext& ctx) {
        depctl::ProcessSpec spec;
        spec.command = command;
        spec.grace = 60s;
        std::string pending;
        auto sink = [&](std::string_view chunk) {
            pending.append(chunk);
            for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
                if (board) board->add(key + pending.substr(0, nl));
                pending.erase(0, nl + 1);
            }
        };
        auto r = depctl::run_process(spec, sink, &ctx.cancel);
        if (r.end == depctl::ProcessEnd::canceled) return StepOutcome::canceled;
        return r.exit_code == 0 ? StepOutcome::succeeded : StepOutcome::failed;
    };
}

struct StepRecorder {
    std::vector<ExecEvent> events;
    std::atomic<int> inside{0};
    bool overlapped = false;
    std::function<void(const ExecEvent&)> callback() {
        return [this](const ExecEvent& e) {
            if (inside.fetch_add(1) != 0) overlapped = true;
            events.push_back(e);
            inside.fetch_sub(1);
        };
    }
    std::vector<std::size_t> started() const {
        std::vector<std::size_t> out;
        for (const auto& e : events)
            if (e.kind == ExecEventKind::started) out.push_back(e.step);
        return out;
    }
};

}  // namespace

TEST_CASE("execute starts a step only after its deps finished", "[executor]") {
    // Layers of 6 with edges into the previous layers; real processes for real timing.
    std::vector<ExecStep> steps;
    for (std::size_t i = 0; i < 30; ++i) {
        std::vector<std::size_t> deps;
        if (i >= 6) deps = {i - 6, (i * 7) % (i - i % 6)};
        steps.push_back(step("s" + std::to_string(i), i % 2 ? StepClass::deploy : StepClass::build,
                             deps, shell_step("true"), static_cast<double>(i % 5)));
    }
    CancelSignal cancel;
    StepRecorder rec;
    auto result = depctl::execute(steps, ExecOptions{4}, cancel, rec.callback());

    CHECK_FALSE(result.failed);
    CHECK_FALSE(result.canceled);
    CHECK_FALSE(rec.overlapped);
    REQUIRE(rec.events.size() == 60);
    std::vector<int> started_at(30, -1), finished_at(30, -1);
    for (std::size_t k = 0; k < rec.events.size(); ++k) {
        const auto& e = rec.events[k];
        auto& slot = e.kind == ExecEventKind::started ? started_at[e.step] : finished_at[e.step];
        CHECK(slot == -1);
        slot = static_cast<int>(k);
        CHECK(e.state ==
              (e.kind == ExecEventKind::started ? StepState::running : StepState::succeeded));
    }
    for (std::size_t i = 0; i < steps.size(); ++i) {
        CHECK(result.states[i] == StepState::succeeded);
        CHECK(started_at[i] < finished_at[i]);
        for (std::size_t d : steps[i].deps) CHECK(finished_at[d] < started_at[i]);
    }
}

TEST_CASE("execute never runs more than parallelism steps at once", "[executor]") {
    Board board;
    std::atomic<int> running{0};
    std::atomic<int> most{0};
    auto body = [&](StepContext&) {
        const int now = ++running;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        if (now == 3) board.add("full");
        board.wait("full", 1);  // hold the slot until the pool was seen full once
        --running;
        return StepOutcome::succeeded;
    };
    std::vector<ExecStep> steps;
    for (int i = 0; i < 24; ++i) steps.push_back(step("s", StepClass::build, {}, body));
    CancelSignal cancel;
    auto result = depctl::execute(steps, ExecOptions{3}, cancel, {});
    CHECK_FALSE(result.failed);
    CHECK(most.load() == 3);
}

TEST_CASE("execute prefers deploy over build, then priority, then index", "[executor]") {
    std::vector<ExecStep> steps = {
        step("b0", StepClass::build, {}, succeed, 1),
        step("b1", StepClass::build, {}, succeed, 5),
        step("d2", StepClass::deploy, {}, succeed, 0),
        step("b3", StepClass::build, {}, succeed, 5),
        step("d4", StepClass::deploy, {}, succeed, 0),
        step("d5", StepClass::deploy, {}, succeed, 9),
        step("b6", StepClass::build, {2}, succeed, 100),
        step("d7", StepClass::deploy, {0}, succeed, 0),
    };
    CancelSignal cancel;
    StepRecorder rec;
    depctl::execute(steps, ExecOptions{1}, cancel, rec.callback());
    // d7 becomes ready when b0 finishes and beats the builds still waiting.
    CHECK(rec.started() == std::vector<std::size_t>{5, 2, 4, 6, 1, 3, 0, 7});
}

TEST_CASE("execute fails fast: builds are canceled, deploys finish, the rest never start",
          "[executor]") {
    Board board;
    std::atomic<CancelLevel> deploy_saw{CancelLevel::immediate};
    std::vector<ExecStep> steps = {
        step(
            "slow-build", StepClass::build, {},
            [&](StepContext& ctx) {
                auto outcome = shell_step("echo up; sleep 60", &board, "slow:")(ctx);
                board.add("slow-done");
                return outcome;
            },
            2),
        step("deploy", StepClass::deploy, {},
             [&](StepContext& ctx) {
                 board.add("deploy-started");
                 board.wait("slow-done", 1);  // still running when the build is canceled
                 deploy_saw = ctx.cancel.level();
                 return StepOutcome::succeeded;
             }),
        step(
            "failing-build", StepClass::build, {},
            [&](StepContext&) {
                board.wait("slow:up", 1);
                board.wait("deploy-started", 1);
                return StepOutcome::failed;
            },
            1),
        step("ready-build", StepClass::build, {}, succeed, 0),
        step("next-deploy", StepClass::deploy, {1}, succeed),
    };
    CancelSignal cancel;
    auto result = depctl::execute(steps, ExecOptions{3}, cancel, {});
    CHECK(result.failed);
    CHECK_FALSE(result.canceled);
    CHECK(deploy_saw.load() == CancelLevel::none);
    CHECK(result.states == std::vector<StepState>{StepState::canceled, StepState::succeeded,
                                                  StepState::failed, StepState::not_started,
                                                  StepState::not_started});
}

TEST_CASE("execute forwards external cancel levels to every running step", "[executor]") {
    Board board;
    // Ignores SIGTERM but reports it, so only the immediate level can end it.
    const std::string stubborn = "trap 'echo term' TERM; echo up; while :; do sleep 1; done";
    std::vector<ExecStep> steps = {
        step("build", StepClass::build, {}, shell_step(stubborn, &board, "out:")),
        step("deploy", StepClass::deploy, {}, shell_step(stubborn, &board, "out:")),
        step("after", StepClass::deploy, {0}, succeed),
    };
    CancelSignal cancel;
    std::thread user([&] {
        if (board.wait("out:up", 2)) cancel.request(CancelLevel::graceful);
        if (board.wait("out:term", 2)) cancel.request(CancelLevel::immediate);
    });
    const auto t0 = std::chrono::steady_clock::now();
    auto result = depctl::execute(steps, ExecOptions{4}, cancel, {});
    user.join();
    CHECK(board.get("out:term") == 2);
    CHECK(std::chrono::steady_clock::now() - t0 < 50s);  // grace is 60s
    CHECK(result.canceled);
    CHECK_FALSE(result.failed);
    CHECK(result.states ==
          std::vector<StepState>{StepState::canceled, StepState::canceled, StepState::not_started});
}

TEST_CASE("execute starts nothing when already canceled", "[executor]") {
    std::atomic<int> ran{0};
    std::vector<ExecStep> steps = {step("a", StepClass::build, {}, [&](StepContext&) {
        ++ran;
        return StepOutcome::succeeded;
    })};
    CancelSignal cancel;
    cancel.request(CancelLevel::graceful);
    auto result = depctl::execute(steps, ExecOptions{2}, cancel, {});
    CHECK(ran == 0);
    CHECK(result.canceled);
    CHECK(result.states == std::vector<StepState>{StepState::not_started});
}

TEST_CASE("execute rejects bad graphs", "[executor]") {
    CancelSignal cancel;
    auto run = [&](std::vector<ExecStep> steps) {
        return depctl::execute(steps, ExecOptions{2}, cancel, {});
    };
    CHECK_THROWS_AS(run({step("a", StepClass::build, {1}, succeed)}), std::invalid_argument);
    CHECK_THROWS_AS(run({step("a", StepClass::build, {0}, succeed)}), std::invalid_argument);
    CHECK_THROWS_WITH(run({step("root", StepClass::build, {}, succeed),
                           step("a", StepClass::build, {0, 2}, succeed),
                           step("b", StepClass::build, {1}, succeed),
                           step("tail", StepClass::build, {2}, succeed)}),
                      Catch::Contains("cycle") && Catch::Contains("\"a\"") &&
                          Catch::Contains("\"b\"") && !Catch::Contains("tail"));
    CHECK_THROWS_AS(
        depctl::execute({step("a", StepClass::build, {}, succeed)}, ExecOptions{0}, cancel, {}),
        std::invalid_argument);
    CHECK_THROWS_AS(run({step("a", StepClass::build, {}, {})}), std::invalid_argument);
}

TEST_CASE("execute treats a throwing step as failed", "[executor]") {
    std::vector<ExecStep> steps = {
        step("throws", StepClass::build, {},
             [](StepContext&) -> StepOutcome { throw std::runtime_error("boom"); }),
        step("after", StepClass::deploy, {0}, succeed),
    };
    CancelSignal cancel;
    auto result = depctl::execute(steps, ExecOptions{2}, cancel, {});
    CHECK(result.failed);
    CHECK(result.states == std::vector<StepState>{StepState::failed, StepState::not_started});
}

TEST_CASE("execute lets skipped steps satisfy their dependents", "[executor]") {
    std::vector<ExecStep> steps = {
        step("skip", StepClass::build, {}, [](StepContext&) { return StepOutcome::skipped; }),
        step("after", StepClass::deploy, {0}, succeed),
    };
    CancelSignal cancel;
    auto result = depctl::execute(steps, ExecOptions{2}, cancel, {});
    CHECK_FALSE(result.failed);
    CHECK(result.states == std::vector<StepState>{StepState::skipped, StepState::succeeded});
}

TEST_CASE("execute rethrows a failing event callback after joining", "[executor]") {
    std::vector<ExecStep> steps = {step("a", StepClass::build, {}, succeed),
                                   step("b", StepClass::build, {0}, succeed)};
    CancelSignal cancel;
    auto throwing = [](const ExecEvent&) { throw std::runtime_error("render failed"); };
    CHECK_THROWS_WITH(depctl::execute(steps, ExecOptions{2}, cancel, throwing), "render failed");
}

TEST_CASE("execute delivers events outside its lock: a blocked callback holds up no step",
          "[executor]") {
    // The callback for a's finish blocks until c sees its cancel, which comes only when
    // b's failure is taken in under the executor's lock. Were callbacks run under that
    // lock, b could not finish while the callback waits, and the wait would time out.
    Board board;
    std::vector<ExecStep> steps = {
        step("a", StepClass::deploy, {},
             [&](StepContext&) {
                 board.wait("b running", 1);
                 board.wait("c running", 1);
                 return StepOutcome::succeeded;
             }),
        step("b", StepClass::deploy, {},
             [&](StepContext&) {
                 board.add("b running");
                 board.wait("a's finish delivered", 1);
                 return StepOutcome::failed;
             }),
        step("c", StepClass::build, {},
             [&](StepContext& ctx) {
                 board.add("c running");
                 pollfd fd{ctx.cancel.fd(), POLLIN, 0};
                 ::poll(&fd, 1, 30000);  // a deadline only so a broken executor fails
                 if (ctx.cancel.level() != CancelLevel::none) board.add("c canceled");
                 return StepOutcome::canceled;
             }),
    };
    CancelSignal cancel;
    bool c_canceled_meanwhile = false;
    auto result = depctl::execute(steps, ExecOptions{3}, cancel, [&](const ExecEvent& e) {
        if (e.step != 0 || e.kind != ExecEventKind::finished) return;
        board.add("a's finish delivered");
        c_canceled_meanwhile = board.wait("c canceled", 1);
    });
    CHECK(c_canceled_meanwhile);
    CHECK(result.failed);
    CHECK(result.states ==
          std::vector<StepState>{StepState::succeeded, StepState::failed, StepState::canceled});
}

TEST_CASE("execute starts steps while the callback for a start blocks", "[executor]") {
    // The callback for a's start blocks until b has run. An executor whose steps waited for
    // their start event's delivery (a stdout that blocks) would hold b back until the wait
    // times out.
    Board board;
    std::vector<ExecStep> steps = {step("a", StepClass::deploy, {}, succeed),
                                   step("b", StepClass::deploy, {}, [&](StepContext&) {
                                       board.add("b ran");
                                       return StepOutcome::succeeded;
                                   })};
    CancelSignal cancel;
    bool b_ran_meanwhile = false;
    auto result = depctl::execute(steps, ExecOptions{2}, cancel, [&](const ExecEvent& e) {
        if (e.step == 0 && e.kind == ExecEventKind::started)
            b_ran_meanwhile = board.wait("b ran", 1);
    });
    CHECK(b_ran_meanwhile);
    CHECK_FALSE(result.failed);
}

TEST_CASE("execute runs many short processes in build/deploy chains", "[executor]") {
    TempDir dir;
    std::vector<ExecStep> steps;
    for (std::size_t i = 0; i < 100; ++i) {
        const std::string file = (dir.path() / std::to_string(i)).string();
        steps.push_back(step("b", StepClass::build, {}, shell_step("echo built > " + file)));
        steps.push_back(step("d", StepClass::deploy, {2 * i},
                             shell_step("grep -q built " + file + " && rm " + file)));
    }
    CancelSignal cancel;
    auto result = depctl::execute(steps, ExecOptions{4}, cancel, {});
    CHECK_FALSE(result.failed);
    for (auto s : result.states) CHECK(s == StepState::succeeded);
    CHECK(fs::is_empty(dir.path()));
}
