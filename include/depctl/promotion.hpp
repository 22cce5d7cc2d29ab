// Promotion across environments (github/branch-deploy's enforced deployment order) and
// rollback to an earlier version.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "depctl/model.hpp"
#include "depctl/store.hpp"

namespace depctl {

struct PromotionVerdict {
    bool applies = false;  // the target is in the enforced order (and not first)
    bool allowed = true;
    std::vector<std::string> blocking;  // "staging has 1.2.0 (DEPLOYED)" per blocking environment
    std::string message() const;
    nlohmann::json to_json() const;
};

// Deploying `version` to `target` requires every environment before it in the project's
// enforced order to have, as its latest deployment, a DEPLOYED one of that version.
PromotionVerdict check_enforced_order(StateStore& store, const State& state,
                                      const Environment& target, const std::string& version);

// The version `--rollback` deploys: `wanted` if the environment had it deployed once, else
// the newest successfully deployed version older than the current one. Throws
// Error{Refused} when there is none.
std::string rollback_version(StateStore& store, const Environment& env,
                             const std::optional<std::string>& wanted);

}  // namespace depctl
