// The current environment of a user, per project: `depctl context set`. Kept in the
// user's config directory, never in the shared state (DESIGN §2).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "depctl/model.hpp"

namespace depctl {

// $XDG_CONFIG_HOME/depctl/context.json, else ~/.config/depctl/context.json.
std::filesystem::path context_file();

// Environment id remembered for the project, if any.
std::optional<std::string> context_environment(const std::string& project_id);
void set_context_environment(const std::string& project_id, const std::string& environment_id);

// The environment a command works on: the explicit name (-e), else DEPCTL_ENVIRONMENT,
// else the context. Throws Error{Refused} when none is selected or it does not exist.
const Environment& select_environment(const State& state, const std::string& explicit_name);

}  // namespace depctl
