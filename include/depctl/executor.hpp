// A generic DAG runner on a bounded worker pool: dependencies, fail-fast, cancellation.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "util/cancel.hpp"

namespace depctl {

enum class StepClass { build, deploy };  // deploy = release/deploy/health work, preferred
enum class StepOutcome { succeeded, failed, canceled, skipped };  // returned by a step
enum class StepState { not_started, running, succeeded, failed, canceled, skipped };

// The step must honour cancel (pass it to run_process). It is the step's own signal:
// fail-fast cancels running builds through it, external cancellation is forwarded to it.
struct StepContext {
    const CancelSignal& cancel;
};

struct ExecStep {
    std::string name;  // for events, e.g. "Backend/build"
    StepClass cls;
    std::vector<std::size_t> deps;  // steps that must have succeeded (or been skipped) first
    double priority = 0;            // higher first among ready steps of one class (critical path)
    std::function<StepOutcome(StepContext&)> run;
    // A cap group (index into ExecOptions::group_caps), or -1. A step that takes a slot
    // starts only while fewer than the cap are held; the slot is given back when a step
    // that frees it finishes (a service's first and last rollout steps: DESIGN §9, caps).
    int cap_group = -1;
    bool takes_slot = false;
    bool frees_slot = false;
};

enum class ExecEventKind { started, finished };

struct ExecEvent {
    ExecEventKind kind;
    std::size_t step;
    StepState state;
    std::chrono::steady_clock::time_point at;
};

struct ExecOptions {
    int parallelism = 4;
    std::vector<int> group_caps{};  // slots per cap group, each at least 1
};

struct ExecResult {
    std::vector<StepState> states;
    bool failed;    // a step failed or threw (or returned canceled on its own)
    bool canceled;  // the external cancel signal was raised while the DAG ran
};

// Runs the DAG and returns once every started step finished and all threads are joined.
// - A step is ready when all its deps succeeded or were skipped; at most
//   options.parallelism run at once; among ready steps deploy beats build, then higher
//   priority, then lower index. A ready step whose cap group is full waits aside, without
//   holding up the steps behind it, until a slot of its group is freed.
// - Fail-fast: after a failure no step starts, running build steps get a graceful cancel,
//   running deploy steps finish; never-started steps stay not_started.
// - cancel (Ctrl-C): no step starts; every running step's signal follows its level.
// - A step that throws counts as failed.
// on_event (may be empty) is called for every start and finish, never concurrently and
// in causal order (a step's start follows the finish of its deps), from the calling
// thread and never under the executor's lock. No step waits for an event's delivery: a
// slow callback delays no step's start or finish, and a step may run (even finish) before
// its start is delivered. If it throws, the run stops like on a failure and the
// exception is rethrown after the threads are joined.
// Throws std::invalid_argument for an out-of-range dep, a cycle, a step without a run
// function, parallelism < 1, a cap below 1 or a cap group out of range.
ExecResult execute(const std::vector<ExecStep>& steps, const ExecOptions& options,
                   CancelSignal& cancel, const std::function<void(const ExecEvent&)>& on_event);

// execute()'s checks of its input (core/deploy/executor_graph.cpp): throws
// std::invalid_argument as above; fills each step's dependents and its count of deps.
void validate_steps(const std::vector<ExecStep>& steps, const ExecOptions& options,
                    std::vector<std::vector<std::size_t>>& dependents,
                    std::vector<std::size_t>& waiting);

}  // namespace depctl
