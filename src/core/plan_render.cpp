// Dry-run rendering of a plan: the same facts as text for people and JSON for scripts.
#include "depctl/plan.hpp"

namespace depctl {

namespace {

std::vector<std::string> step_names(const Plan& plan, const PlannedService& ps) {
    std::vector<std::string> names;
    for (int kind = 0; kind < k_service_step_kinds; ++kind) {
        const std::size_t index = ps.steps[kind];
        if (index == k_no_step) continue;
        std::string name(to_string(static_cast<StepKind>(kind)));
        if (plan.steps[index].reused) name += " (reused)";
        names.push_back(std::move(name));
    }
    return names;
}

std::vector<std::string> dependency_names(const Plan& plan, const PlannedService& ps) {
    std::vector<std::string> names;
    for (const auto& dep_id : ps.service.depends_on) {
        for (const auto& other : plan.services) {
            if (other.service.id == dep_id) names.push_back(other.service.name);
        }
    }
    return names;
}

}  // namespace

nlohmann::json plan_to_json(const Plan& plan) {
    nlohmann::json stages = nlohmann::json::array();
    for (const PlannedStage& stage : plan.stages) {
        nlohmann::json services = nlohmann::json::array();
        for (std::size_t index : stage.services) {
            const PlannedService& ps = plan.services[index];
            services.push_back({{"name", ps.service.name},
                                {"type", to_string(ps.service.type)},
                                {"steps", step_names(plan, ps)},
                                {"depends_on", dependency_names(plan, ps)}});
        }
        stages.push_back({{"position", stage.position},
                          {"name", stage.name},
                          {"skipped", services.empty()},
                          {"services", services},
                          {"left_out", stage.left_out}});
    }
    std::size_t step_count = 0;
    for (const auto& step : plan.steps) step_count += step.kind != StepKind::barrier;
    return {{"environment", plan.environment_name}, {"stages", stages}, {"step_count", step_count}};
}

std::string render_plan_text(const Plan& plan) {
    std::string out;
    for (const PlannedStage& stage : plan.stages) {
        out += "# deployment stage " + std::to_string(stage.position) + ": \"" + stage.name + "\"";
        out += stage.services.empty() ? " (skipped: nothing to deploy)\n" : "\n";
        for (std::size_t index : stage.services) {
            const PlannedService& ps = plan.services[index];
            std::string steps;
            for (const auto& name : step_names(plan, ps)) steps += (steps.empty() ? "" : " -> ") + name;
            out += "  " + ps.service.name + ": " + (steps.empty() ? "nothing to run" : steps);
            const auto deps = dependency_names(plan, ps);
            if (!deps.empty()) {
                std::string list;
                for (const auto& d : deps) list += (list.empty() ? "" : ", ") + d;
                out += "  (after " + list + ")";
            }
            out += "\n";
        }
        for (const auto& left : stage.left_out) out += "  " + left + "\n";
        out += "\n";
    }
    return out;
}

}  // namespace depctl
