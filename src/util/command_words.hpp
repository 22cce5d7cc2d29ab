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

}  // namespace depctl
