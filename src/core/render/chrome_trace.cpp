// The Chrome trace-event format (the "JSON Object Format" that chrome://tracing and
// Perfetto load): metadata events name the process and one thread per service; each step
// that ran is a complete event ("ph": "X") with ts and dur in microseconds.
#include <nlohmann/json.hpp>

#include "depctl/render.hpp"

namespace depctl {
namespace {

nlohmann::json complete_event(const std::string& name, const std::string& category, int tid,
                              const TimelineStep& step, nlohmann::json args) {
    args["status"] = step.status;
    args["exit_code"] = step.exit_code;
    args["duration_ms"] = step.duration_ms;
    return {{"name", name},
            {"cat", category},
            {"ph", "X"},
            {"ts", step.start_ms * 1000},
            {"dur", step.duration_ms * 1000},
            {"pid", 1},
            {"tid", tid},
            {"args", std::move(args)}};
}

nlohmann::json thread_name(int tid, const std::string& name) {
    return {{"name", "thread_name"},   {"ph", "M"}, {"pid", 1}, {"tid", tid}, {"ts", 0},
            {"args", {{"name", name}}}};
}

nlohmann::json thread_order(int tid) {
    return {{"name", "thread_sort_index"},  {"ph", "M"}, {"pid", 1}, {"tid", tid}, {"ts", 0},
            {"args", {{"sort_index", tid}}}};
}

}  // namespace

nlohmann::json timeline_chrome_trace(const DeploymentTimeline& t) {
    nlohmann::json events = nlohmann::json::array();
    events.push_back(
        {{"name", "process_name"},
         {"ph", "M"},
         {"pid", 1},
         {"tid", 0},
         {"ts", 0},
         {"args", {{"name", "depctl " + t.operation + " " + t.id + " (" + t.environment + ")"}}}});
    // Thread 0 holds the hooks; services follow in stage order from thread 1.
    events.push_back(thread_name(0, "hooks"));
    events.push_back(thread_order(0));
    for (const auto& [name, step] : t.hooks)
        if (step.ran())
            events.push_back(complete_event(name, "hook", 0, step, nlohmann::json::object()));
    int tid = 0;
    for (const auto& stage : t.stages) {
        for (std::size_t s : stage.services) {
            const TimelineService& svc = t.services[s];
            ++tid;
            events.push_back(thread_name(tid, svc.name));
            events.push_back(thread_order(tid));
            for (const auto& step : svc.steps) {
                if (!step.ran()) continue;
                events.push_back(
                    complete_event(step.step, step.step == "build" ? "build" : "rollout", tid, step,
                                   {{"service", svc.name}, {"stage", stage.name}}));
            }
        }
    }
    return {{"traceEvents", std::move(events)},
            {"displayTimeUnit", "ms"},
            {"otherData",
             {{"deployment", t.id},
              {"environment", t.environment},
              {"version", t.version},
              {"status", t.status},
              {"started_at", t.started_at},
              {"parallelism", t.parallelism}}}};
}

}  // namespace depctl
