// From an environment and options to a deployment plan: a DAG of steps with build-ahead,
// barriers between non-empty stages, and depends_on edges (DESIGN §5). Also renders the
// plan for `--dry-run` as text and JSON.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "depctl/model.hpp"

namespace depctl {

enum class StepKind { build, release, deploy, health, stop, barrier };
inline constexpr int k_service_step_kinds = 5;  // build .. stop: the kinds a service can have
std::string_view to_string(StepKind kind);
std::optional<StepKind> parse_step_kind(std::string_view text);

inline constexpr std::size_t k_no_step = static_cast<std::size_t>(-1);

struct PlanStep {
    StepKind kind;
    std::size_t service = k_no_step;  // index into Plan::services; k_no_step for barriers
    std::vector<std::size_t> deps;    // indices into Plan::steps
    double priority = 0;              // length of the longest path from here to the end
    bool reused = false;              // a build whose result is reused
};

struct PlannedService {
    Service service;  // a snapshot: the deploy runs what was planned even if the state changes
    std::size_t stage = 0;  // index into Plan::stages
    std::size_t steps[k_service_step_kinds] = {k_no_step, k_no_step, k_no_step, k_no_step,
                                               k_no_step};  // by StepKind
    // Skipped in the state but named in --services: deployed all the same, and the plan
    // says so (naming a service is the clearest request there is).
    bool skipped_but_named = false;
    // The version this service deploys when it is not the deployment's (an environment
    // rollback gives each service its own, DESIGN §9); empty = the deployment's.
    std::string version;
    // With --only-changed: what makes it deploy ("version 1.0 -> 1.1", "definition changed:
    // env"); empty otherwise.
    std::string change;
    const std::string& version_or(const std::string& deployment_version) const {
        return version.empty() ? deployment_version : version;
    }
    std::size_t first_rollout_step() const;  // release, else deploy, else health, else stop
    std::size_t last_step() const;
    // The step a dependent waits for on an edge with this condition; k_no_step for none.
    std::size_t awaited_step(EdgeCondition condition) const;
};

struct PlannedStage {
    std::string id;
    std::string name;
    std::size_t position = 0;            // 1-based position in the environment
    std::vector<std::size_t> services;   // indices into Plan::services
    std::vector<std::string> left_out;   // skipped or not selected, with the reason
    std::optional<int> max_parallel;     // the stage's cap on services rolling out at once
    std::vector<std::string> unchanged;  // left out by --only-changed, by name
};

struct Plan {
    std::string environment_id;
    std::string environment_name;
    std::vector<PlannedStage> stages;
    std::vector<PlannedService> services;
    std::vector<PlanStep> steps;
};

struct PlanOptions {
    PlanOptions() = default;
    // Implicit: most plans are a subset of services and nothing more.
    PlanOptions(std::vector<std::string> subset) : services(std::move(subset)) {}  // NOLINT

    std::vector<std::string> services;  // subset by name; empty = all
    // Service id -> its own version (version_from: git-tree), else the deployment's.
    std::map<std::string, std::string> versions;
    // --only-changed: service id -> why it is left out, and why the others deploy.
    std::map<std::string, std::string> unchanged;
    std::map<std::string, std::string> changed;
};

// Throws Error{Refused} for unknown service names in the subset.
Plan make_plan(const Environment& env, const PlanOptions& options);

// `environment stop`: one stop step per service that has a stop command, stages in
// reverse order, each stage after the previous has stopped; inside a stage in parallel
// except that a service stops after the services that depend on it (deploy order reversed).
Plan make_stop_plan(const Environment& env, const PlanOptions& options);

// Critical-path priorities from per-step duration estimates (seconds; default 1 each).
void assign_priorities(Plan& plan, const std::vector<double>& estimates = {});

// Each step's own length in those paths: its estimate (1 s without one), 0 for a barrier.
std::vector<double> step_weights(const Plan& plan, const std::vector<double>& estimates);
// The longest estimated path from each step to the end, through the steps that depend on
// it: what assign_priorities gives as priorities (a capped stage then reorders its own).
// Refused on a dependency cycle.
std::vector<double> longest_paths_to_end(const Plan& plan, const std::vector<double>& estimates);

nlohmann::json plan_to_json(const Plan& plan);
std::string render_plan_text(const Plan& plan);

}  // namespace depctl
