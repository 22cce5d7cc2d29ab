#include "depctl/step_estimates.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

namespace depctl {
namespace {

double median_of(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

}  // namespace

std::vector<double> estimate_step_durations(const Plan& plan, const std::vector<nlohmann::json>& records) {
    // (service id, step name) -> seconds, from the newest record that has it.
    std::unordered_map<std::string, double> seen;
    for (auto record = records.rbegin(); record != records.rend(); ++record) {
        const auto stages = record->find("stages");
        if (stages == record->end() || !stages->is_array()) continue;
        for (const auto& stage : *stages) {
            if (!stage.is_object() || !stage.contains("services") || !stage["services"].is_array()) continue;
            for (const auto& service : stage["services"]) {
                if (!service.is_object() || !service.contains("steps") || !service["steps"].is_array()) continue;
                const std::string id = service.value("id", "");
                for (const auto& step : service["steps"]) {
                    if (!step.is_object() || step.value("status", "") != "SUCCEEDED") continue;
                    const auto ms = step.find("duration_ms");
                    if (ms == step.end() || !ms->is_number()) continue;
                    seen.emplace(id + '\n' + step.value("step", ""), std::max(0.0, ms->get<double>() / 1000.0));
                }
            }
        }
    }

    std::vector<double> estimates(plan.steps.size(), -1.0);
    std::map<StepKind, std::vector<double>> known_by_kind;
    std::vector<double> known;
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        const PlanStep& step = plan.steps[i];
        if (step.kind == StepKind::barrier || step.reused) {
            estimates[i] = 0;
            continue;
        }
        const std::string key = plan.services[step.service].service.id + '\n' + std::string(to_string(step.kind));
        const auto it = seen.find(key);
        if (it == seen.end()) continue;
        estimates[i] = it->second;
        known_by_kind[step.kind].push_back(it->second);
        known.push_back(it->second);
    }
    const double fallback = known.empty() ? 1.0 : median_of(known);
    std::map<StepKind, double> kind_fallback;
    for (auto& [kind, values] : known_by_kind) kind_fallback[kind] = median_of(values);
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        if (estimates[i] >= 0) continue;
        const auto it = kind_fallback.find(plan.steps[i].kind);
        estimates[i] = it == kind_fallback.end() ? fallback : it->second;
    }
    return estimates;
}

}  // namespace depctl
