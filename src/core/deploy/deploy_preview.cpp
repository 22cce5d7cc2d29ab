// The dry run (preview_deployment) and its text and JSON, apart from the deploy narrative.
#include <nlohmann/json.hpp>

#include "core/deploy/deploy_plan.hpp"
#include "core/deploy/failure_rollback.hpp"
#include "depctl/build_cache.hpp"
#include "depctl/deploy.hpp"
#include "depctl/env_rollback.hpp"
#include "depctl/error.hpp"
#include "depctl/history.hpp"
#include "depctl/promotion.hpp"
#include "depctl/step_estimates.hpp"

namespace depctl {
namespace {

std::string counted(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + ' ' + (n == 1 ? one : many);
}

// An environment rollback's lines: per service, version now -> version restored and the
// definition fields that change (names only: never values), or why it is left as it is.
std::string restores_text(const nlohmann::json& restores) {
    std::string out =
        "Each service goes back to the version and definition it had then "
        "(the enforced deployment order is not checked; the restored "
        "definitions become the current ones):\n";
    for (const auto& s : restores["services"]) {
        const std::string now = s.value("version_now", std::string());
        out += "  " + s.value("service", std::string()) + ": ";
        if (s.contains("left_out")) {
            out += "left out (" + s.value("left_out", std::string()) + ")\n";
            continue;
        }
        out += (now.empty() ? "(none)" : now) + " -> " + s.value("version", std::string());
        std::string changed;
        for (const auto& field : s["changed"])
            changed += (changed.empty() ? "" : ", ") + field.get<std::string>();
        out += changed.empty() ? ", definition unchanged\n" : ", definition: " + changed + "\n";
    }
    return out + "\n";
}

std::string names_text(const nlohmann::json& names) {
    std::string out;
    for (const auto& name : names) out += (out.empty() ? "" : ", ") + name.get<std::string>();
    return out;
}

// --on-failure rollback: what would go back should every planned service run and then fail.
std::string on_failure_text(const nlohmann::json& back) {
    std::string out =
        "On failure (--on-failure rollback), the services whose release or deploy "
        "step ran go back, dependents first:\n";
    for (const auto& s : back["redeploy"]) {
        out += "  " + s.value("service", std::string()) + ": back to " +
               s.value("version", std::string()) + " with the definition of " +
               s.value("from_deployment", std::string()) + "\n";
    }
    if (!back["stop"].empty())
        out += "  stopped (never deployed before): " + names_text(back["stop"]) + "\n";
    if (!back["left_as_is"].empty())
        out += "  left as they are (never deployed before, no stop command): " +
               names_text(back["left_as_is"]) + "\n";
    if (!back["version_only"].empty())
        out +=
            "  version only (no recorded definition): " + names_text(back["version_only"]) + "\n";
    return out + "\n";
}

// The rollback that --on-failure rollback would run if every planned service's step ran.
nlohmann::json would_roll_back(StateStore& store, const Environment& env, const Plan& plan) {
    std::set<std::string> ran;
    for (const PlannedService& ps : plan.services) {
        if (ps.steps[static_cast<int>(StepKind::release)] != k_no_step ||
            ps.steps[static_cast<int>(StepKind::deploy)] != k_no_step)
            ran.insert(ps.service.id);
    }
    return plan_failure_rollback(env, ran, load_history(store, env.id)).to_json();
}

}  // namespace

std::string DeployPreview::to_text(bool dry_run) const {
    std::string out = dry_run ? "Dry run" : "Plan";
    if (restores.is_object()) {
        // A version per service: the heading names the deployment restored.
        out += ": rollback of environment \"" + plan.environment_name + "\" to deployment " +
               restores.value("to", std::string()) + "\n\n" + restores_text(restores);
    } else {
        out += ": deploy of environment \"" + plan.environment_name + "\", version " +
               (version.empty() ? "(unresolved: " + version_problem + ")" : version) + "\n\n";
        if (rollback) out += "Rollback: the enforced deployment order is not checked.\n\n";
    }
    if (promotion.value("applies", false)) {
        if (promotion.value("allowed", false)) {
            out += "Enforced deployment order: satisfied.\n\n";
        } else {
            out += "Enforced deployment order: NOT satisfied, the deploy would be refused:\n";
            for (const auto& b : promotion["blocking"]) out += "  " + b.get<std::string>() + "\n";
            out += "\n";
        }
    }
    out += render_plan_text(plan);
    if (on_failure_rollback.is_object()) out += on_failure_text(on_failure_rollback);
    std::size_t steps = 0;
    for (const auto& step : plan.steps) steps += step.kind != StepKind::barrier;
    out += counted(plan.services.size(), "service", "services") + ", " +
           counted(steps, "step", "steps") + ".";
    if (estimate) {
        out += " Estimated time: " + estimate_seconds_text(estimate->seconds) + " at -j" +
               std::to_string(estimate->parallelism);
        out += estimate->measured == estimate->steps
                   ? " (from past durations)."
                   : " (" + std::to_string(estimate->measured) + " of " +
                         counted(estimate->steps, "step", "steps") +
                         " from past durations; the others at the median).";
    } else if (steps > 0) {
        out += " No time estimate yet: no past deployment ran these steps.";
    }
    if (dry_run) out += " Nothing was run and nothing was written.";
    out += "\n";
    if (estimate && !estimate->critical_path.empty()) out += estimate->critical_path_text() + "\n";
    return out;
}

nlohmann::json DeployPreview::to_json() const {
    nlohmann::json out = plan_to_json(plan);
    out["estimate"] = estimate ? estimate->to_json() : nlohmann::json(nullptr);
    out["dry_run"] = true;
    out["version"] = version.empty() ? nlohmann::json(nullptr) : nlohmann::json(version);
    out["rollback"] = rollback;
    out["enforced_order"] = promotion;
    if (!version_problem.empty()) out["version_problem"] = version_problem;
    if (restores.is_object()) out["restores"] = restores;
    if (on_failure_rollback.is_object()) out["on_failure_rollback"] = on_failure_rollback;
    return out;
}

DeployPreview preview_deployment(StateStore& store, const State& state,
                                 const DeployRequest& request) {
    const Environment* env = state.find_environment_by_id(request.environment_id);
    if (!env) throw Error(ErrorKind::Refused, "environment not found");
    if (request.environment_rollback) {
        RollbackPlan rb =
            plan_environment_rollback(store, state, *env, request.rollback_to, request.force_build);
        DeployPreview preview{std::move(rb.plan),
                              rb.rollback.target_version,
                              {},
                              nlohmann::json::object(),
                              true,
                              {},
                              rb.rollback.to_json()};
        preview.estimate =
            estimate_of(preview.plan, rank_by_past_durations(preview.plan, store, env->id),
                        request.parallelism);
        return preview;
    }
    DeployPreview preview{{}, {}, {}, nlohmann::json::object(), request.rollback, {}};
    try {
        preview.version = request.rollback ? rollback_version(store, *env, request.version)
                                           : resolve_version(request.version, store.project_dir());
        if (!request.rollback)
            preview.promotion = check_enforced_order(store, state, *env, preview.version).to_json();
    } catch (const Error& e) {
        preview.version_problem = e.what();
    }
    PlanOptions options(request.services);
    if (!request.rollback)  // one earlier version for every service: no own versions
        options = deploy_plan_options(store, *env, std::move(options), request.only_changed,
                                      preview.version);
    preview.plan = make_plan(*env, options);
    if (!preview.version.empty() && !request.force_build)
        mark_reused_builds(preview.plan, store, state, preview.version);
    preview.estimate = estimate_of(
        preview.plan, rank_by_past_durations(preview.plan, store, env->id), request.parallelism);
    if (request.on_failure == OnFailure::rollback)
        preview.on_failure_rollback = would_roll_back(store, *env, preview.plan);
    return preview;
}

}  // namespace depctl
