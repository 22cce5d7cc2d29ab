// The plan of a deploy before it runs: its options and its ranking by past durations.
#include "core/deploy/deploy_plan.hpp"

#include <nlohmann/json.hpp>

#include "core/deploy/only_changed.hpp"
#include "core/deploy/service_versions.hpp"
#include "core/plan/cap_order.hpp"
#include "depctl/history.hpp"

namespace depctl {

// How many of the newest deployments the duration estimates look at.
constexpr std::size_t k_estimate_records = 3;

PastDurations rank_by_past_durations(Plan& plan, StateStore& store,
                                     const std::string& environment_id) {
    PastDurations past;
    past.seconds = estimate_step_durations(
        plan, load_history(store, environment_id, {{}, k_estimate_records}), &past.measured);
    assign_priorities(plan, past.seconds);
    order_capped_stages(plan, past.seconds);
    return past;
}

std::optional<DeploymentEstimate> estimate_of(const Plan& plan, const PastDurations& past,
                                              int parallelism) {
    if (past.measured == 0) return std::nullopt;
    DeploymentEstimate estimate = simulate_deployment(plan, past.seconds, parallelism);
    estimate.measured = past.measured;
    estimate.critical_path = predicted_critical_path(plan, past.seconds);
    for (const auto& link : estimate.critical_path) estimate.critical_seconds += link.seconds;
    return estimate;
}

PlanOptions deploy_plan_options(StateStore& store, const Environment& env, PlanOptions options,
                                bool only_changed, const std::string& version) {
    options.versions = git_tree_versions(env, store.project_dir());
    if (only_changed && !version.empty()) {
        ChangeVerdicts verdicts = compare_with_deployed(store, env, options.versions, version);
        options.unchanged = std::move(verdicts.unchanged);
        options.changed = std::move(verdicts.changed);
    }
    return options;
}

}  // namespace depctl
