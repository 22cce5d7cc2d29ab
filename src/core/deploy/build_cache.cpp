#include "depctl/build_cache.hpp"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "depctl/history.hpp"

namespace depctl {

std::string build_key(const Service& service, const std::string& version) {
    std::uint64_t hash = 1469598103934665603ULL;
    const auto mix = [&hash](const std::string& part) {
        for (unsigned char c : part) {
            hash ^= c;
            hash *= 1099511628211ULL;
        }
        hash ^= 0xff;  // field separator, so ("ab","c") differs from ("a","bc")
        hash *= 1099511628211ULL;
    };
    mix(service.name);
    mix(version);
    mix(service.build);
    mix(service.workdir);
    char out[17];
    std::snprintf(out, sizeof out, "%016" PRIx64, hash);
    return out;
}

void mark_reused_builds(Plan& plan, StateStore& store, const State& state,
                        const std::string& version) {
    std::unordered_map<std::string, std::size_t> wanted;  // key -> build step
    std::set<std::string> versions;  // one unless an environment rollback mixes them
    for (const PlannedService& ps : plan.services) {
        const std::size_t step = ps.steps[static_cast<int>(StepKind::build)];
        if (step == k_no_step) continue;
        wanted.emplace(build_key(ps.service, ps.version_or(version)), step);
        versions.insert(ps.version_or(version));
    }
    // Only the records that mention a wanted version are parsed: the history of a large
    // environment grows by hundreds of kilobytes per deployment. The key says the rest.
    for (const std::string& wanted_version : versions) {
        const HistoryFilter filter{"\"version\":" + nlohmann::json(wanted_version).dump(), 0};
        for (const Environment& env : state.environments) {
            for (const DeploymentRecord& record : load_history(store, env.id, filter)) {
                for (const StageRecord& stage : record.stages) {
                    for (const ServiceRecord& service : stage.services) {
                        for (const StepRecord& step : service.steps) {
                            if (step.name != to_string(StepKind::build) ||
                                !step_succeeded(step.status))
                                continue;
                            const auto it = wanted.find(step.build_key);
                            if (it != wanted.end()) plan.steps[it->second].reused = true;
                        }
                    }
                }
            }
        }
    }
}

}  // namespace depctl
