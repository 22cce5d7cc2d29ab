#include "depctl/plan.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"

namespace depctl {
namespace {

constexpr StepKind k_service_steps[] = {StepKind::build, StepKind::release, StepKind::deploy, StepKind::health};

bool has_command(const Service& s, StepKind kind) {
    switch (kind) {
        case StepKind::build: return !s.build.empty();
        case StepKind::release: return !s.release.empty();
        case StepKind::deploy: return !s.deploy.empty();
        case StepKind::health: return !s.health.empty();
        case StepKind::barrier: return false;
    }
    return false;
}

}  // namespace

std::string_view to_string(StepKind kind) {
    switch (kind) {
        case StepKind::build: return "build";
        case StepKind::release: return "release";
        case StepKind::deploy: return "deploy";
        case StepKind::health: return "health";
        case StepKind::barrier: return "barrier";
    }
    return "build";
}

std::optional<StepKind> parse_step_kind(std::string_view text) {
    for (StepKind kind : k_service_steps) {
        if (iequals(text, to_string(kind))) return kind;
    }
    return std::nullopt;
}

std::size_t PlannedService::first_rollout_step() const {
    for (StepKind kind : {StepKind::release, StepKind::deploy, StepKind::health}) {
        if (steps[static_cast<int>(kind)] != k_no_step) return steps[static_cast<int>(kind)];
    }
    return k_no_step;
}

std::size_t PlannedService::last_step() const {
    for (int i = 3; i >= 0; --i) {
        if (steps[i] != k_no_step) return steps[i];
    }
    return k_no_step;
}

Plan make_plan(const Environment& env, const PlanOptions& options) {
    Plan plan;
    plan.environment_id = env.id;
    plan.environment_name = env.name;

    std::unordered_set<std::string> selected;
    for (const auto& name : options.services) selected.insert(find_service(env, name).id);

    std::unordered_map<std::string, std::size_t> stage_of;
    for (std::size_t i = 0; i < env.stages.size(); ++i) {
        plan.stages.push_back({env.stages[i].id, env.stages[i].name, i + 1, {}, {}});
        stage_of.emplace(env.stages[i].id, i);
    }
    std::unordered_map<std::string, std::size_t> planned_of;  // service id -> index
    for (const auto& s : env.services) {
        PlannedStage& stage = plan.stages[stage_of.at(s.stage_id)];
        if (s.skipped) {
            stage.left_out.push_back(s.name + " (skipped)");
        } else if (!selected.empty() && !selected.count(s.id)) {
            stage.left_out.push_back(s.name + " (not selected)");
        } else {
            planned_of.emplace(s.id, plan.services.size());
            stage.services.push_back(plan.services.size());
            plan.services.push_back({s, stage_of.at(s.stage_id), {k_no_step, k_no_step, k_no_step, k_no_step}});
        }
    }

    // Steps of every service, chained build -> release -> deploy -> health.
    for (std::size_t i = 0; i < plan.services.size(); ++i) {
        PlannedService& ps = plan.services[i];
        std::size_t previous = k_no_step;
        for (StepKind kind : k_service_steps) {
            if (!has_command(ps.service, kind)) continue;
            PlanStep step{kind, i, {}, 0, false};
            if (previous != k_no_step) step.deps.push_back(previous);
            ps.steps[static_cast<int>(kind)] = plan.steps.size();
            previous = plan.steps.size();
            plan.steps.push_back(std::move(step));
        }
    }

    // Barriers: a rollout starts only when every service of every earlier non-empty stage
    // has finished. One barrier node per stage keeps the edge count linear.
    std::size_t barrier = k_no_step;
    for (const PlannedStage& stage : plan.stages) {
        std::vector<std::size_t> finals;
        for (std::size_t index : stage.services) {
            PlannedService& ps = plan.services[index];
            const std::size_t first = ps.first_rollout_step();
            if (barrier != k_no_step) {
                // Without a rollout step, a build is the service's only step: it may run
                // ahead but still counts as the service's work for the next barrier.
                if (first != k_no_step) plan.steps[first].deps.push_back(barrier);
            }
            if (ps.last_step() != k_no_step) finals.push_back(ps.last_step());
        }
        if (finals.empty()) continue;  // an empty stage is skipped: no barrier of its own
        if (barrier != k_no_step) finals.push_back(barrier);
        barrier = plan.steps.size();
        plan.steps.push_back({StepKind::barrier, k_no_step, std::move(finals), 0, false});
    }

    // depends_on: the rollout waits until each dependency has finished all its steps.
    // Dependencies outside the plan (skipped or not selected) are taken as already deployed.
    for (PlannedService& ps : plan.services) {
        const std::size_t first = ps.first_rollout_step();
        if (first == k_no_step) continue;
        for (const auto& dep_id : ps.service.depends_on) {
            const auto it = planned_of.find(dep_id);
            if (it == planned_of.end()) continue;
            const std::size_t last = plan.services[it->second].last_step();
            if (last != k_no_step) plan.steps[first].deps.push_back(last);
        }
    }
    assign_priorities(plan);
    return plan;
}

void assign_priorities(Plan& plan, const std::vector<double>& estimates) {
    // Steps are created so that every dep has a lower index except depends_on edges,
    // which can point forward; a topological order (Kahn) is computed explicitly.
    const std::size_t n = plan.steps.size();
    std::vector<std::vector<std::size_t>> dependents(n);
    std::vector<std::size_t> pending(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t dep : plan.steps[i].deps) dependents[dep].push_back(i);
        pending[i] = plan.steps[i].deps.size();
    }
    std::vector<std::size_t> order;
    order.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (pending[i] == 0) order.push_back(i);
    }
    for (std::size_t head = 0; head < order.size(); ++head) {
        for (std::size_t next : dependents[order[head]]) {
            if (--pending[next] == 0) order.push_back(next);
        }
    }
    if (order.size() != n) throw Error(ErrorKind::Refused, "the deployment plan has a dependency cycle");
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        PlanStep& step = plan.steps[*it];
        double longest = 0;
        for (std::size_t next : dependents[*it]) longest = std::max(longest, plan.steps[next].priority);
        const double own = step.kind == StepKind::barrier ? 0 : (*it < estimates.size() ? estimates[*it] : 1.0);
        step.priority = own + longest;
    }
}

}  // namespace depctl
