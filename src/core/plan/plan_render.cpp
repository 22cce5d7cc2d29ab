// Dry-run rendering of a plan: the same facts as text for people and JSON for scripts.
#include <nlohmann/json.hpp>
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
    // The dependencies that are part of the plan, in depends_on order.
    std::vector<std::pair<const PlannedService*, EdgeCondition>> dependencies(
        const PlannedService& ps) const {
        std::vector<std::pair<const PlannedService*, EdgeCondition>> out;
        for (const Dependency& dep : ps.service.depends_on) {
            const auto it = m_by_id.find(dep.id);
            if (it != m_by_id.end()) out.emplace_back(it->second, dep.condition);
        }
        return out;
    }
    std::vector<std::string> dependency_names(const PlannedService& ps) const {
        std::vector<std::string> names;
        for (const auto& dep : dependencies(ps)) names.push_back(dep.first->service.name);
        return names;
    }
    nlohmann::json dependencies_json(const PlannedService& ps) const {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& dep : dependencies(ps))
            out.push_back(
                {{"service", dep.first->service.name}, {"condition", to_string(dep.second)}});
        return out;
    }
    // "db, migrate [completed]": what the rollout waits for; the default (healthy) goes
    // unsaid, as in the pipeline file's short form.
    std::string waits_text(const PlannedService& ps) const {
        std::string out;
        for (const auto& dep : dependencies(ps)) {
            out += (out.empty() ? "" : ", ") + dep.first->service.name;
            if (dep.second != EdgeCondition::healthy)
                out += " [" + std::string(to_string(dep.second)) + "]";
        }
        return out;
    }
    // A `completed` edge to a service that is not a JOB: its deploy step may never end
    // (DESIGN §9 allows the edge and has the dry run warn).
    std::vector<std::string> warnings(const PlannedService& ps) const {
        std::vector<std::string> out;
        for (const auto& dep : dependencies(ps)) {
            const Service& other = dep.first->service;
            if (dep.second != EdgeCondition::completed || other.type == ServiceType::job) continue;
            out.push_back(ps.service.name + " waits for " + other.name + " to complete, but " +
                          other.name + " is a" +
                          (other.type == ServiceType::application ? "n " : " ") +
                          std::string(to_string(other.type)) +
                          ", not a JOB: a deploy step that keeps running never completes");
        }
        return out;
    }

private:
    std::unordered_map<std::string_view, const PlannedService*> m_by_id;
};

}  // namespace

nlohmann::json plan_to_json(const Plan& plan) {
    const PlannedIndex index_of(plan);
    nlohmann::json stages = nlohmann::json::array();
    nlohmann::json warnings = nlohmann::json::array();
    for (const PlannedStage& stage : plan.stages) {
        nlohmann::json services = nlohmann::json::array();
        for (std::size_t index : stage.services) {
            const PlannedService& ps = plan.services[index];
            services.push_back({{"name", ps.service.name},
                                {"type", to_string(ps.service.type)},
                                {"steps", step_names(plan, ps)},
                                {"depends_on", index_of.dependency_names(ps)},
                                {"dependencies", index_of.dependencies_json(ps)},
                                {"skipped_but_named", ps.skipped_but_named}});
            if (!ps.version.empty()) services.back()["version"] = ps.version;
            if (!ps.change.empty()) services.back()["change"] = ps.change;
            for (auto& warning : index_of.warnings(ps)) warnings.push_back(std::move(warning));
        }
        stages.push_back({{"position", stage.position},
                          {"name", stage.name},
                          {"skipped", services.empty()},
                          {"services", services},
                          {"left_out", stage.left_out},
                          {"unchanged", stage.unchanged},
                          {"max_parallel", stage.max_parallel ? nlohmann::json(*stage.max_parallel)
                                                              : nlohmann::json()}});
    }
    std::size_t step_count = 0;
    for (const auto& step : plan.steps) step_count += step.kind != StepKind::barrier;
    return {{"environment", plan.environment_name},
            {"stages", stages},
            {"step_count", step_count},
            {"warnings", warnings}};
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
            const std::string waits = index_of.waits_text(ps);
            if (!waits.empty()) out += "  (after " + waits + ")";
            if (ps.skipped_but_named) out += "  (skipped, but named in --services)";
            if (!ps.version.empty()) out += "  (version " + ps.version + ")";
            if (!ps.change.empty()) out += "  (" + ps.change + ")";
            out += "\n";
            for (const auto& warning : index_of.warnings(ps)) out += "  warning: " + warning + "\n";
        }
        for (const auto& left : stage.left_out) out += "  " + left + "\n";
        out += "\n";
    }
    return out;
}

}  // namespace depctl
