// Starting one command: for run_process (process_posix.cpp) and for the steps' guard
// (util/step_guard.cpp), which starts every step of a deployment. The child's attributes,
// environment and argv, directly or through /bin/sh.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "util/process.hpp"

namespace depctl {

struct SpawnCommand {
    std::string command;
    std::filesystem::path workdir;  // empty = inherit
    bool via_shell = false;
};

// "KEY=VALUE" strings: this process's environ with spec.env and spec.unset applied, and PWD
// naming spec.workdir when there is one.
std::vector<std::string> spawn_environment(const ProcessSpec& spec);

// Spawns a command writing to out_fd with exactly `env`, in a process group of its own:
// directly when it is plain words whose program is found (util/command_words.hpp), else
// /bin/sh -c command, and also when the direct exec fails (a script without #!, a
// permission): the shell's handling and messages are the reference. Returns the pid, or -1
// with *error set; *direct says whether the shell was left out.
pid_t spawn_prepared(const SpawnCommand& what, std::vector<std::string>& env, int out_fd,
                     std::string* error, bool* direct);

// spawn_prepared with spawn_environment(spec).
pid_t spawn_command(const ProcessSpec& spec, int out_fd, std::string* error, bool* direct);

}  // namespace depctl
