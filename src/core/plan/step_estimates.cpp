#include "depctl/step_estimates.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <queue>
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

std::vector<double> estimate_step_durations(const Plan& plan,
                                            const std::vector<DeploymentRecord>& records,
                                            std::size_t* measured) {
    // (service id, step name) -> seconds, from the newest record that has it.
    std::unordered_map<std::string, double> seen;
    for (auto record = records.rbegin(); record != records.rend(); ++record) {
        for (const StageRecord& stage : record->stages) {
            for (const ServiceRecord& service : stage.services) {
                for (const StepRecord& step : service.steps) {
                    if (step.status != StepStatus::succeeded) continue;
                    seen.emplace(service.id + '\n' + step.name,
                                 std::max(0.0, static_cast<double>(step.duration_ms) / 1000.0));
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
        const std::string key =
            plan.services[step.service].service.id + '\n' + std::string(to_string(step.kind));
        const auto it = seen.find(key);
        if (it == seen.end()) continue;
        estimates[i] = it->second;
        if (measured) ++*measured;
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

namespace {

nlohmann::json critical_path_json(const std::vector<DeploymentEstimate::Link>& path) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& link : path)
        out.push_back({{"service", link.service}, {"step", link.step}, {"seconds", link.seconds}});
    return out;
}

}  // namespace

// As the dry run's estimate and the progress lines write durations: 4.2s, 3m07s.
std::string estimate_seconds_text(double seconds) {
    char buffer[32];
    if (seconds < 60) {
        std::snprintf(buffer, sizeof buffer, "%.1fs", seconds);
    } else {
        const long long s = static_cast<long long>(seconds + 0.5);
        std::snprintf(buffer, sizeof buffer, "%lldm%02llds", s / 60, s % 60);
    }
    return buffer;
}

std::string DeploymentEstimate::critical_path_text() const {
    if (critical_path.empty()) return {};
    std::string out = "Predicted critical path (" + estimate_seconds_text(critical_seconds) + "): ";
    for (std::size_t k = 0; k < critical_path.size(); ++k) {
        const Link& link = critical_path[k];
        out += (k ? " → " : "") + link.service + ' ' + link.step + ' ' +
               estimate_seconds_text(link.seconds);
    }
    return out;
}

nlohmann::json DeploymentEstimate::to_json() const {
    return {{"seconds", seconds},
            {"parallelism", parallelism},
            {"steps", steps},
            {"measured_steps", measured},
            {"critical_path", critical_path_json(critical_path)},
            {"critical_seconds", critical_seconds}};
}

namespace {

// A step's simulated length: barriers and reused builds take none, an unmeasured step 1 s.
double simulated_duration(const Plan& plan, const std::vector<double>& durations, std::size_t i) {
    const PlanStep& step = plan.steps[i];
    if (step.kind == StepKind::barrier || step.reused) return 0.0;
    return i < durations.size() ? durations[i] : 1.0;
}

// The executor's order among ready steps: rollout work before builds, then priority.
struct ReadyOrder {
    const Plan& plan;
    bool operator()(std::size_t a, std::size_t b) const {
        const bool build_a = plan.steps[a].kind == StepKind::build,
                   build_b = plan.steps[b].kind == StepKind::build;
        if (build_a != build_b) return build_a;  // a build sorts below rollout work
        if (plan.steps[a].priority != plan.steps[b].priority)
            return plan.steps[a].priority < plan.steps[b].priority;
        return a > b;
    }
};

}  // namespace

DeploymentEstimate simulate_deployment(const Plan& plan, const std::vector<double>& durations,
                                       int parallelism) {
    DeploymentEstimate estimate;
    estimate.parallelism = std::max(1, parallelism);
    const std::size_t n = plan.steps.size();
    std::vector<std::vector<std::size_t>> dependents(n);
    std::vector<std::size_t> pending(n);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t dep : plan.steps[i].deps) dependents[dep].push_back(i);
        pending[i] = plan.steps[i].deps.size();
        const PlanStep& step = plan.steps[i];
        estimate.steps += step.kind != StepKind::barrier && !step.reused;
    }
    const auto duration = [&](std::size_t i) { return simulated_duration(plan, durations, i); };
    std::priority_queue<std::size_t, std::vector<std::size_t>, ReadyOrder> ready(ReadyOrder{plan});
    using Running = std::pair<double, std::size_t>;  // (finish time, step)
    std::priority_queue<Running, std::vector<Running>, std::greater<>> running;
    double now = 0;
    std::size_t busy = 0;
    const auto finish = [&](std::size_t i) {
        for (std::size_t next : dependents[i]) {
            if (--pending[next] == 0) ready.push(next);
        }
    };
    for (std::size_t i = 0; i < n; ++i) {
        if (pending[i] == 0) ready.push(i);
    }
    while (!ready.empty() || !running.empty()) {
        // Zero-length steps (barriers, reused builds) take no worker and end at once.
        while (!ready.empty() && (duration(ready.top()) == 0 ||
                                  busy < static_cast<std::size_t>(estimate.parallelism))) {
            const std::size_t i = ready.top();
            ready.pop();
            if (duration(i) == 0) {
                finish(i);
                continue;
            }
            ++busy;
            running.push({now + duration(i), i});
        }
        if (running.empty()) break;
        const auto [at, i] = running.top();
        running.pop();
        now = at;
        --busy;
        finish(i);
    }
    estimate.seconds = now;
    return estimate;
}

std::vector<DeploymentEstimate::Link> predicted_critical_path(
    const Plan& plan, const std::vector<double>& estimates) {
    // Not the priorities themselves (a capped stage reorders its own, cap_order.cpp): the
    // critical path starts at the root with the longest path to the end and follows the
    // dependent with the longest.
    std::vector<std::vector<std::size_t>> dependents(plan.steps.size());
    std::vector<bool> root(plan.steps.size(), true);
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        for (std::size_t d : plan.steps[i].deps) dependents[d].push_back(i);
        if (!plan.steps[i].deps.empty()) root[i] = false;
    }
    const std::vector<double> longest = longest_paths_to_end(plan, estimates);
    const auto path = [&longest](std::size_t i) { return longest[i]; };
    std::size_t at = k_no_step;
    for (std::size_t i = 0; i < plan.steps.size(); ++i)
        if (root[i] && (at == k_no_step || path(i) > path(at))) at = i;
    std::vector<DeploymentEstimate::Link> out;
    while (at != k_no_step) {
        const PlanStep& step = plan.steps[at];
        if (step.kind != StepKind::barrier) {
            const double own = step.reused ? 0 : at < estimates.size() ? estimates[at] : 1.0;
            out.push_back(
                {plan.services[step.service].service.name, std::string(to_string(step.kind)), own});
        }
        std::size_t next = k_no_step;
        for (std::size_t d : dependents[at])
            if (next == k_no_step || path(d) > path(next)) next = d;
        at = next;
    }
    return out;
}

}  // namespace depctl
