// What a deploy plans before it runs, shared by the dry run and the deploy itself: the plan's
// options (per-service versions, --only-changed) and its ranking by past step durations.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "depctl/plan.hpp"
#include "depctl/step_estimates.hpp"
#include "depctl/store.hpp"

namespace depctl {

// Step durations from the last deployments, and the plan ranked by them: among ready steps
// the one with the longest path to the end goes first (deploy work still before builds).
struct PastDurations {
    std::vector<double> seconds;  // per plan step
    std::size_t measured = 0;     // steps that have a past duration
};

PastDurations rank_by_past_durations(Plan& plan, StateStore& store,
                                     const std::string& environment_id);

// What the deployment should take; none without any past duration to go on.
std::optional<DeploymentEstimate> estimate_of(const Plan& plan, const PastDurations& past,
                                              int parallelism);

// `options` (the subset asked for) completed for an ordinary deploy of `version`: each
// git-tree service's own version, and with `only_changed` which services are left out and
// why. Not for --rollback, which redeploys one earlier version everywhere.
PlanOptions deploy_plan_options(StateStore& store, const Environment& env, PlanOptions options,
                                bool only_changed, const std::string& version);

}  // namespace depctl
