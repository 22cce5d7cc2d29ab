// Which commands need no shell: the rule GNU make uses to exec a recipe line directly, made
// strict enough that the result cannot differ from `/bin/sh -c` (docs/deploy.md, "Commands
// and the shell").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace depctl {

// The words of `command` when it is plain words a shell would pass on unchanged: only ASCII
// letters, digits and `_ - . / , : = + @ %`, separated by spaces or tabs; a first word that
// is not a shell keyword or builtin (`true` and `false` alone excepted) and holds no `=` (an
// assignment). Anything else — quotes, `$`, globs, redirections, `;`, `~`, `#`, a newline,
// non-ASCII bytes — is nullopt: the shell runs it.
std::optional<std::vector<std::string>> plain_command_words(std::string_view command);

// The program a shell would run for `name` with the given PATH value: `name` itself when it
// holds a `/`, else the first executable regular file `DIR/name` in PATH. nullopt when there
// is none, or when the search would need the working directory (an empty or relative PATH
// entry): the shell then gives its own answer.
std::optional<std::string> find_program(const std::string& name, std::string_view path);

// The value of KEY in "KEY=VALUE" strings, or nullopt.
std::optional<std::string_view> env_lookup(const std::vector<std::string>& env,
                                           std::string_view key);

// What dash does at start-up: a PWD that is not absolute or does not name the working
// directory is replaced with the real one. The direct path does the same, so a program
// sees the environment it would have seen through the shell.
void set_pwd_as_the_shell_would(std::vector<std::string>& env);

// What dash prints on stderr when the command it waited for died by a signal (wait status
// `status`): "Terminated\n", "Killed\n", ... with " (core dumped)"; nothing for SIGINT,
// SIGPIPE or a normal exit. dash then exits 128+n; the direct paths do the same.
std::string shell_signal_report(int status);

}  // namespace depctl
