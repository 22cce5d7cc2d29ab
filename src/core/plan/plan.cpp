#include "depctl/plan.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "util/graph.hpp"

namespace depctl {
namespace {

bool has_command(const Service& s, StepKind kind) {
    switch (kind) {
        case StepKind::build:
            return !s.build.empty();
        case StepKind::release:
            return !s.release.empty();
        case StepKind::deploy:
            return !s.deploy.empty();
        case StepKind::health:
            return !s.health.empty();
        case StepKind::stop:
            return !s.stop.empty();
        case StepKind::barrier:
            return false;
    }
    return false;
}

}  // namespace

std::string_view to_string(StepKind kind) {
    switch (kind) {
        case StepKind::build:
            return "build";
        case StepKind::release:
            return "release";
        case StepKind::deploy:
            return "deploy";
        case StepKind::health:
            return "health";
        case StepKind::stop:
            return "stop";
        case StepKind::barrier:
            return "barrier";
    }
    return "build";
}

std::optional<StepKind> parse_step_kind(std::string_view text) {
    for (StepKind kind :
         {StepKind::build, StepKind::release, StepKind::deploy, StepKind::health, StepKind::stop}) {
        if (iequals(text, to_string(kind))) return kind;
    }
    return std::nullopt;
}

std::size_t PlannedService::first_rollout_step() const {
    for (StepKind kind : {StepKind::release, StepKind::deploy, StepKind::health, StepKind::stop}) {
        if (steps[static_cast<int>(kind)] != k_no_step) return steps[static_cast<int>(kind)];
    }
    return k_no_step;
}

std::size_t PlannedService::last_step() const {
    for (int i = k_service_step_kinds - 1; i >= 0; --i) {
        if (steps[i] != k_no_step) return steps[i];
    }
    return k_no_step;
}

std::size_t PlannedService::awaited_step(EdgeCondition condition) const {
    if (condition != EdgeCondition::started) return last_step();
    // Started: its deploy step succeeded; a service without one is started once whatever it
    // runs before its health check has run (nothing at all: no wait).
    for (StepKind kind : {StepKind::deploy, StepKind::release, StepKind::build}) {
        if (steps[static_cast<int>(kind)] != k_no_step) return steps[static_cast<int>(kind)];
    }
    return k_no_step;
}

namespace {

// The services a plan covers, by stage; skipped and unselected ones are listed as left out.
Plan select_services(const Environment& env, const PlanOptions& options, bool reverse_stages) {
    Plan plan;
    plan.environment_id = env.id;
    plan.environment_name = env.name;
    std::unordered_set<std::string> selected;
    for (const auto& name : options.services) selected.insert(find_service(env, name).id);

    // Each planned service holds a copy of its service: no second move of each on growth.
    plan.services.reserve(env.services.size());
    std::unordered_map<std::string, std::size_t> stage_of;
    for (std::size_t k = 0; k < env.stages.size(); ++k) {
        const std::size_t i = reverse_stages ? env.stages.size() - 1 - k : k;
        plan.stages.push_back(
            {env.stages[i].id, env.stages[i].name, i + 1, {}, {}, env.stages[i].max_parallel, {}});
        stage_of.emplace(env.stages[i].id, k);
    }
    for (const auto& s : env.services) {
        PlannedStage& stage = plan.stages[stage_of.at(s.stage_id)];
        const bool named = selected.count(s.id) > 0;
        if (s.skipped && !named) {
            stage.left_out.push_back(s.name + " (skipped)");
        } else if (!selected.empty() && !selected.count(s.id)) {
            stage.left_out.push_back(s.name + " (not selected)");
        } else if (const auto same = options.unchanged.find(s.id);
                   same != options.unchanged.end()) {
            stage.left_out.push_back(s.name + " (" + same->second + ")");
            stage.unchanged.push_back(s.name);
        } else {
            stage.services.push_back(plan.services.size());
            const auto own = options.versions.find(s.id);
            const auto changed = options.changed.find(s.id);
            plan.services.push_back(
                {s,
                 stage_of.at(s.stage_id),
                 {k_no_step, k_no_step, k_no_step, k_no_step, k_no_step},
                 s.skipped,
                 own == options.versions.end() ? std::string() : own->second,
                 changed == options.changed.end() ? std::string() : changed->second});
        }
    }
    return plan;
}

// Steps of every service for the given kinds, chained in order.
void add_service_steps(Plan& plan, std::initializer_list<StepKind> kinds) {
    for (std::size_t i = 0; i < plan.services.size(); ++i) {
        PlannedService& ps = plan.services[i];
        std::size_t previous = k_no_step;
        for (StepKind kind : kinds) {
            if (!has_command(ps.service, kind)) continue;
            PlanStep step{kind, i, {}, 0, false};
            if (previous != k_no_step) step.deps.push_back(previous);
            ps.steps[static_cast<int>(kind)] = plan.steps.size();
            previous = plan.steps.size();
            plan.steps.push_back(std::move(step));
        }
    }
}

// Barriers: a stage's rollout starts only when every service of every earlier non-empty
// stage has finished. One barrier node per stage keeps the edge count linear.
void add_stage_barriers(Plan& plan) {
    std::size_t barrier = k_no_step;
    for (const PlannedStage& stage : plan.stages) {
        std::vector<std::size_t> finals;
        for (std::size_t index : stage.services) {
            PlannedService& ps = plan.services[index];
            const std::size_t first = ps.first_rollout_step();
            // Without a rollout step, a build is the service's only step: it may run ahead
            // but still counts as the service's work for the next barrier.
            if (barrier != k_no_step && first != k_no_step)
                plan.steps[first].deps.push_back(barrier);
            if (ps.last_step() != k_no_step) finals.push_back(ps.last_step());
        }
        if (finals.empty()) continue;  // an empty stage is skipped: no barrier of its own
        if (barrier != k_no_step) finals.push_back(barrier);
        barrier = plan.steps.size();
        plan.steps.push_back({StepKind::barrier, k_no_step, std::move(finals), 0, false});
    }
}

}  // namespace

Plan make_plan(const Environment& env, const PlanOptions& options) {
    Plan plan = select_services(env, options, false);
    add_service_steps(plan,
                      {StepKind::build, StepKind::release, StepKind::deploy, StepKind::health});
    add_stage_barriers(plan);
    // depends_on: the rollout waits for each dependency's step its condition names (the
    // health step for healthy, the deploy step for started, the last step for completed).
    // Dependencies outside the plan (skipped or not selected) are taken as already deployed.
    std::unordered_map<std::string, std::size_t> planned_of;
    for (std::size_t i = 0; i < plan.services.size(); ++i)
        planned_of.emplace(plan.services[i].service.id, i);
    for (PlannedService& ps : plan.services) {
        const std::size_t first = ps.first_rollout_step();
        if (first == k_no_step) continue;
        for (const Dependency& dep : ps.service.depends_on) {
            const auto it = planned_of.find(dep.id);
            if (it == planned_of.end()) continue;
            const std::size_t awaited = plan.services[it->second].awaited_step(dep.condition);
            if (awaited != k_no_step) plan.steps[first].deps.push_back(awaited);
        }
    }
    assign_priorities(plan);
    return plan;
}

namespace {

// Stop runs the deploy graph backwards: a service stops only after every planned service
// that depends on it has stopped (a proxy before its backend), also inside one stage.
// A dependent without a stop command passes the wait on to its own dependents.
void add_reverse_dependencies(Plan& plan) {
    std::unordered_map<std::string, std::size_t> planned_of;
    for (std::size_t i = 0; i < plan.services.size(); ++i)
        planned_of.emplace(plan.services[i].service.id, i);
    const auto stop_of = [&plan](std::size_t service) {
        return plan.services[service].steps[static_cast<int>(StepKind::stop)];
    };
    for (std::size_t s = 0; s < plan.services.size(); ++s) {
        const std::size_t dependent_stop = stop_of(s);
        if (dependent_stop == k_no_step) continue;
        std::vector<std::size_t> pending{s};
        std::unordered_set<std::size_t> seen{s};
        while (!pending.empty()) {
            const std::size_t at = pending.back();
            pending.pop_back();
            for (const Dependency& dep : plan.services[at].service.depends_on) {
                const auto it = planned_of.find(dep.id);
                if (it == planned_of.end() || !seen.insert(it->second).second) continue;
                if (stop_of(it->second) != k_no_step) {
                    plan.steps[stop_of(it->second)].deps.push_back(dependent_stop);
                } else {
                    pending.push_back(it->second);  // no stop of its own: look through it
                }
            }
        }
    }
}

}  // namespace

Plan make_stop_plan(const Environment& env, const PlanOptions& options) {
    Plan plan = select_services(env, options, true);
    add_service_steps(plan, {StepKind::stop});
    add_stage_barriers(plan);
    add_reverse_dependencies(plan);
    assign_priorities(plan);
    return plan;
}

std::vector<double> step_weights(const Plan& plan, const std::vector<double>& estimates) {
    std::vector<double> own(plan.steps.size(), 0);
    for (std::size_t i = 0; i < plan.steps.size(); ++i)
        if (plan.steps[i].kind != StepKind::barrier)
            own[i] = i < estimates.size() ? estimates[i] : 1.0;
    return own;
}

std::vector<double> longest_paths_to_end(const Plan& plan, const std::vector<double>& estimates) {
    // Through the steps that depend on each one (depends_on edges can point forward, so
    // no index order).
    util::Adjacency dependents(plan.steps.size());
    for (std::size_t i = 0; i < plan.steps.size(); ++i)
        for (std::size_t dep : plan.steps[i].deps) dependents[dep].push_back(i);
    auto longest = util::longest_paths(dependents, step_weights(plan, estimates));
    if (!longest) throw Error(ErrorKind::Refused, "the deployment plan has a dependency cycle");
    return std::move(*longest);
}

void assign_priorities(Plan& plan, const std::vector<double>& estimates) {
    const std::vector<double> longest = longest_paths_to_end(plan, estimates);
    for (std::size_t i = 0; i < plan.steps.size(); ++i) plan.steps[i].priority = longest[i];
}

}  // namespace depctl
