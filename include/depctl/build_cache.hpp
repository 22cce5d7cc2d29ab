// Build reuse (DESIGN §5): a successful build is known by (service name, version, build
// command, workdir); a later deploy of the same version in any environment reuses it.
// The record of successful builds is the deployment history itself, so reuse works the
// same on every store backend.
#pragma once

#include <string>

#include "depctl/model.hpp"
#include "depctl/plan.hpp"
#include "depctl/store.hpp"

namespace depctl {

// A stable hash (FNV-1a, hex) of what makes two builds the same.
std::string build_key(const Service& service, const std::string& version);

// Marks the plan's build steps whose key appears as a successful build in the history of
// any environment of the project.
void mark_reused_builds(Plan& plan, StateStore& store, const State& state,
                        const std::string& version);

}  // namespace depctl
