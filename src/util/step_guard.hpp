// The steps' guard: one small process per deployment (the program depctl-step-guard, built
// from util/step_guard.cpp) that starts every step and is the parent of each, so that no
// step outlives a deployer killed with SIGKILL (DESIGN §9 "Honest status";
// docs/decisions.md). depctl hands it the steps over a socket (util/step_guard_protocol.hpp);
// when depctl dies, the socket's end tells the guard, which ends every running step's
// process group (SIGTERM, SIGKILL after the step's grace), waits for them, and exits.
//
// A descriptor given to the constructor (the environment's steps lock) is kept open by the
// guard process until it exits, so the next deployer can wait for every step of a dead one
// to end.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <vector>

#include "util/fd.hpp"
#include "util/process.hpp"

namespace depctl {

class StepGuard {
public:
    explicit StepGuard(int held_fd = -1) : m_held_fd(held_fd) {}
    // Tells the guard the deployment is over and waits for it to exit.
    ~StepGuard();
    StepGuard(const StepGuard&) = delete;
    StepGuard& operator=(const StepGuard&) = delete;

    // Starts the guard process now rather than with the first step, so that its start-up
    // overlaps the caller's own work (a deployment's planning and records). Without the
    // guard enabled, or when it cannot start, nothing happens: start() says why later.
    void start_early();
    // Hands one step to the guard process (started on the first call): the command with
    // exactly `env`, its output to out_fd. Returns the step's channel (read its result,
    // write 'T'/'K' to stop it), or an invalid descriptor with *error set. Thread-safe.
    UniqueFd start(const ProcessSpec& spec, const std::vector<std::string>& env, int out_fd,
                   std::string* error);

private:
    bool launch(std::string* error);  // under m_mutex

    std::mutex m_mutex;
    int m_held_fd;
    pid_t m_pid = -1;
    UniqueFd m_control;
};

// main() enables the guard; without it (unit tests, the fuzzers) ProcessSpec::guard is
// ignored and steps are children of the calling process. `program`: the guard program to
// spawn (default: step_guard_program()).
void enable_step_guard();
void enable_step_guard(const std::string& program);
bool step_guard_enabled();

// The guard program is started as `depctl-step-guard __step-guard CONTROL_FD HELD_FD|-`; a
// depctl without that program beside it (or in ../lib/depctl/) spawns itself through
// /proc/self/exe, and main() hands the call to step_guard_main.
inline constexpr const char* k_step_guard_argument = "__step-guard";
inline constexpr const char* k_step_guard_program = "depctl-step-guard";
bool is_step_guard_call(int argc, char** argv);
int step_guard_main(int argc, char** argv);
// The path to spawn as the guard: /proc/self/fd/N of depctl-step-guard beside this binary or
// in ../lib/depctl/, else /proc/self/exe.
std::string step_guard_program();

}  // namespace depctl
