// Running one shell command in its own process group, with timeout and cancellation.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/cancel.hpp"
#include "util/error.hpp"

namespace depctl {

class StepGuard;

struct ProcessSpec {
    // Run as /bin/sh -c COMMAND, or exec'd directly when that cannot differ (plain words,
    // util/command_words.hpp).
    std::string command;
    std::filesystem::path workdir;                         // empty = inherit
    std::vector<std::pair<std::string, std::string>> env;  // added to / overriding environ
    std::chrono::milliseconds timeout{0};                  // 0 = none
    std::chrono::milliseconds grace{10000};  // SIGTERM -> SIGKILL delay on timeout/cancel
    std::vector<std::string> unset;          // removed from the inherited environ (not from env)
    bool via_shell = false;  // always /bin/sh -c, even for plain words (tests compare the two)
    // Run under this guard process (util/step_guard.hpp) when the guard is enabled: the
    // command's group is ended if depctl dies. Null: a child of depctl itself.
    StepGuard* guard = nullptr;
};

enum class ProcessEnd { exited, signaled, timed_out, canceled, spawn_failed };

struct ProcessResult {
    ProcessEnd end;
    // Exit status; 128+n for signal n; for timed_out/canceled the code it died with;
    // 127 for spawn_failed; 130 when canceled before it was started.
    int exit_code;
    // Human text for spawn_failed/timed_out/canceled, e.g. "timed out after 5s".
    std::string error;
    std::chrono::milliseconds duration;
};

// Called with each chunk of output as it arrives (stdout and stderr merged through one
// pipe, at most 64 KiB per call). May be empty. If it throws, the process group is
// killed and reaped before the exception propagates.
using OutputSink = std::function<void(std::string_view chunk)>;

// Runs spec.command and waits for it. Thread-safe: no global state. A normal exit leaves
// background processes of the group alone (a deploy may start a server); a timed-out or
// canceled command takes its whole process group down with it. cancel may be null.
// Throws util::Error only when the parent itself runs out of resources (pipe, pidfd).
ProcessResult run_process(const ProcessSpec& spec, const OutputSink& sink,
                          const CancelSignal* cancel);

}  // namespace depctl
