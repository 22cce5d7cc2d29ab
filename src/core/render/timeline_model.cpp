// A history record read into the typed timeline the pictures and `explain` work on.
#include <unordered_map>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/timeline.hpp"

namespace depctl {
namespace {

TimelineStep step_of(const nlohmann::json& j, const std::string& id) {
    TimelineStep step;
    step.step = j.value("step", "");
    step.status = j.value("status", "");
    step.duration_ms = j.value("duration_ms", 0LL);
    step.exit_code = j.value("exit_code", 0);
    if (j.contains("start_ms") && j["start_ms"].is_number_integer()) {
        step.start_ms = std::max(0LL, j["start_ms"].get<long long>());
    } else if (step.status != "NOT_STARTED") {
        throw Error(ErrorKind::Refused,
                    "deployment " + id + " was recorded without step start times",
                    "depctl records them since the timeline was added; deploy again to get one");
    }
    return step;
}

}  // namespace

DeploymentTimeline timeline_from_record(const nlohmann::json& record) {
    DeploymentTimeline t;
    t.id = record.value("id", "");
    t.environment = record.value("environment", "");
    t.version = record.value("version", "");
    t.status = record.value("status", "");
    t.operation = record.value("operation", "deploy");
    t.started_at = record.value("started_at", "");
    t.duration_ms = record.value("duration_ms", 0LL);
    t.parallelism = std::max(1, record.value("parallelism", 1));
    for (const auto& hook : record.value("hooks", nlohmann::json::array())) {
        TimelineStep step = step_of(hook, t.id);
        step.step = hook.value("name", "");
        if (step.step == "pre-deploy" && step.ran()) t.steps_from_ms = step.end_ms();
        t.hooks.emplace_back(step.step, step);
    }
    std::unordered_map<std::string, std::size_t> index_of;
    std::vector<std::vector<nlohmann::json>> pending_deps;
    for (const auto& stage : record.value("stages", nlohmann::json::array())) {
        TimelineStage ts{stage.value("position", std::size_t{0}), stage.value("name", ""), {}};
        for (const auto& svc : stage.value("services", nlohmann::json::array())) {
            TimelineService s;
            s.name = svc.value("name", "");
            s.type = svc.value("type", "");
            s.status = svc.value("status", "");
            s.stage = t.stages.size();
            for (const auto& step : svc.value("steps", nlohmann::json::array()))
                s.steps.push_back(step_of(step, t.id));
            ts.services.push_back(t.services.size());
            index_of.emplace(s.name, t.services.size());
            pending_deps.push_back(svc.value("depends_on", std::vector<nlohmann::json>{}));
            t.services.push_back(std::move(s));
        }
        t.stages.push_back(std::move(ts));
    }
    // Dependencies name services; resolved once every service of the record is known.
    for (std::size_t i = 0; i < t.services.size(); ++i) {
        for (const auto& dep : pending_deps[i]) {
            const auto it = index_of.find(dep.value("service", ""));
            if (it == index_of.end()) continue;
            t.services[i].depends_on.push_back({it->second, dep.value("condition", "healthy")});
        }
    }
    return t;
}

}  // namespace depctl
