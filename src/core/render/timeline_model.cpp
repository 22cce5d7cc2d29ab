// A history record read into the typed timeline the pictures and `explain` work on.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/timeline.hpp"

namespace depctl {
namespace {

TimelineStep step_of(const StepRecord& record, const std::string& id) {
    TimelineStep step;
    step.step = record.name;
    step.status = std::string(to_string(record.status));
    step.duration_ms = record.duration_ms;
    step.exit_code = record.exit_code;
    if (record.start_ms) {
        step.start_ms = std::max<long long>(0, *record.start_ms);
    } else if (record.status != StepStatus::not_started) {
        throw Error(ErrorKind::Refused,
                    "deployment " + id + " was recorded without step start times",
                    "depctl records them since the timeline was added; deploy again to get one");
    }
    return step;
}

}  // namespace

DeploymentTimeline timeline_from_record(const DeploymentRecord& record) {
    DeploymentTimeline t;
    t.id = record.id;
    t.environment = record.environment;
    t.version = record.version;
    t.status = std::string(to_string(record.status));
    t.operation = record.operation == DeploymentRecord::Operation::stop ? "stop" : "deploy";
    t.started_at = record.started_at;
    t.duration_ms = record.duration_ms;
    t.parallelism = std::max(1, record.parallelism);
    for (const StepRecord& hook : record.hooks) {
        TimelineStep step = step_of(hook, t.id);
        if (step.step == "pre-deploy" && step.ran()) t.steps_from_ms = step.end_ms();
        t.hooks.emplace_back(step.step, step);
    }
    std::unordered_map<std::string, std::size_t> index_of;
    for (const StageRecord& stage : record.stages) {
        TimelineStage ts{stage.position, stage.name, {}};
        for (const ServiceRecord& svc : stage.services) {
            TimelineService s;
            s.name = svc.name;
            s.type = svc.type;
            s.status = std::string(to_string(svc.status));
            s.stage = t.stages.size();
            for (const StepRecord& step : svc.steps) s.steps.push_back(step_of(step, t.id));
            ts.services.push_back(t.services.size());
            index_of.emplace(s.name, t.services.size());
            t.services.push_back(std::move(s));
        }
        t.stages.push_back(std::move(ts));
    }
    // Dependencies name services; resolved once every service of the record is known.
    std::size_t i = 0;
    for (const StageRecord& stage : record.stages) {
        for (const ServiceRecord& svc : stage.services) {
            for (const DependencyRecord& dep : svc.depends_on) {
                const auto it = index_of.find(dep.service);
                if (it != index_of.end())
                    t.services[i].depends_on.push_back({it->second, dep.condition});
            }
            ++i;
        }
    }
    return t;
}

}  // namespace depctl
