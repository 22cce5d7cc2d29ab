// Starting one command for run_process (process_posix.cpp): the child's attributes,
// environment and argv, directly, through /bin/sh, or under the step guard.
#pragma once

#include <sys/types.h>

#include <string>

#include "util/process.hpp"

namespace depctl {

// Spawns a command writing to out_fd: directly when it is plain words whose program is found
// (util/command_words.hpp), else /bin/sh -c command, and also when the direct exec fails
// (a script without #!, a permission): the shell's handling and messages are the reference.
// Returns the pid, or -1 with *error set; *direct says whether the shell was left out.
pid_t spawn_command(const ProcessSpec& spec, int out_fd, std::string* error, bool* direct);

}  // namespace depctl
