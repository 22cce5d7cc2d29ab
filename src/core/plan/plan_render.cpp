// Dry-run rendering of a plan: the same facts as text for people and JSON for scripts.
#include <string_view>
#include <unordered_map>

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

// Planned services by id, built once per rendering: looking each dependency up by a scan
// of the plan made the dry run quadratic (seconds at 10,000 services).
class PlannedIndex {
public:
    explicit PlannedIndex(const Plan& plan) {
        m_by_id.reserve(plan.services.size());
        for (const auto& ps : plan.services) m_by_id.emplace(ps.service.id, &ps);
    }
    // Names of the dependencies that are part of the plan, in depends_on order.
    std::vector<std::string> dependency_names(const PlannedService& ps) const {
        std::vector<std::string> names;
        for (const auto& dep_id : ps.service.depends_on) {
            const auto it = m_by_id.find(dep_id);
            if (it != m_by_id.end()) names.push_back(it->second->service.name);
        }
        return names;
    }

private:
    std::unordered_map<std::string_view, const PlannedService*> m_by_id;
};

}  // namespace

nlohmann::json plan_to_json(const Plan& plan) {
    const PlannedIndex index_of(plan);
    nlohmann::json stages = nlohmann::json::array();
    for (const PlannedStage& stage : plan.stages) {
        nlohmann::json services = nlohmann::json::array();
        for (std::size_t index : stage.services) {
            const PlannedService& ps = plan.services[index];
            services.push_back({{"name", ps.service.name},
                                {"type", to_string(ps.service.type)},
                                {"steps", step_names(plan, ps)},
                                {"depends_on", index_of.dependency_names(ps)},
                                {"skipped_but_named", ps.skipped_but_named}});
        }
        stages.push_back({{"position", stage.position},
                          {"name", stage.name},
                          {"skipped", services.empty()},
                          {"services", services},
                          {"left_out", stage.left_out},
                          {"max_parallel", stage.max_parallel ? nlohmann::json(*stage.max_parallel)
                                                              : nlohmann::json()}});
    }
    std::size_t step_count = 0;
    for (const auto& step : plan.steps) step_count += step.kind != StepKind::barrier;
    return {{"environment", plan.environment_name}, {"stages", stages}, {"step_count", step_count}};
}

std::string render_plan_text(const Plan& plan) {
    const PlannedIndex index_of(plan);
    std::string out;
    for (const PlannedStage& stage : plan.stages) {
        out += "# deployment stage " + std::to_string(stage.position) + ": \"" + stage.name + "\"";
        if (stage.max_parallel && !stage.services.empty())
            out += " (at most " + std::to_string(*stage.max_parallel) + " at a time)";
        out += stage.services.empty() ? " (skipped: nothing to deploy)\n" : "\n";
        for (std::size_t index : stage.services) {
            const PlannedService& ps = plan.services[index];
            std::string steps;
            for (const auto& name : step_names(plan, ps))
                steps += (steps.empty() ? "" : " -> ") + name;
            out += "  " + ps.service.name + ": " + (steps.empty() ? "nothing to run" : steps);
            const auto deps = index_of.dependency_names(ps);
            if (!deps.empty()) {
                std::string list;
                for (const auto& d : deps) list += (list.empty() ? "" : ", ") + d;
                out += "  (after " + list + ")";
            }
            if (ps.skipped_but_named) out += "  (skipped, but named in --services)";
            out += "\n";
        }
        for (const auto& left : stage.left_out) out += "  " + left + "\n";
        out += "\n";
    }
    return out;
}

}  // namespace depctl
