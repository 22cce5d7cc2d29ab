#include "depctl/deploy_events.hpp"

#include <nlohmann/json.hpp>

namespace depctl {
using nlohmann::json;

std::string step_label(const Plan& plan, std::size_t step) {
    const PlanStep& s = plan.steps[step];
    return plan.services[s.service].service.name + " " + std::string(to_string(s.kind));
}

json deployment_started_event(const Plan& plan, const std::string& deployment_id,
                              const std::string& version) {
    return {{"event", "deployment_started"},
            {"deployment_id", deployment_id},
            {"environment", plan.environment_name},
            {"version", version},
            {"services", plan.services.size()}};
}

json step_started_event(const Plan& plan, std::size_t step) {
    const PlanStep& s = plan.steps[step];
    return {{"event", "step_started"},
            {"service", plan.services[s.service].service.name},
            {"step", to_string(s.kind)},
            {"stage", plan.stages[plan.services[s.service].stage].name}};
}

json step_finished_event(const Plan& plan, std::size_t step, const StepReport& report) {
    const PlanStep& s = plan.steps[step];
    const std::string_view status = to_string(report.status.value_or(StepStatus::not_started));
    json event = {
        {"event", "step_finished"},      {"service", plan.services[s.service].service.name},
        {"step", to_string(s.kind)},     {"status", status},
        {"exit_code", report.exit_code}, {"duration_ms", report.duration.count()},
        {"log", report.log_path}};
    if (!report.error.empty()) event["error"] = report.error;
    return event;
}

json hook_finished_event(const std::string& name, const StepReport& report) {
    return {{"event", "hook_finished"},
            {"hook", name},
            {"status", to_string(report.status.value_or(StepStatus::failed))},
            {"exit_code", report.exit_code},
            {"log", report.log_path}};
}

json output_event(const Plan& plan, std::size_t step, std::string_view line) {
    const std::string prefix = step == k_no_step ? std::string("hook") : step_label(plan, step);
    return {{"event", "output"}, {"step", prefix}, {"line", std::string(line)}};
}

json cancel_requested_event(CancelLevel level) {
    return {{"event", "cancel_requested"},
            {"level", level == CancelLevel::immediate ? "immediate" : "graceful"}};
}

json rollback_started_event(const Plan& redeploy, const Plan& stop) {
    json back = json::array();
    for (const PlannedService& ps : redeploy.services)
        back.push_back({{"service", ps.service.name}, {"version", ps.version}});
    json stopped = json::array();
    for (const PlannedService& ps : stop.services) stopped.push_back(ps.service.name);
    return {{"event", "rollback_started"}, {"redeploy", back}, {"stop", stopped}};
}

json rollback_finished_event(DeploymentStatus status) {
    return {{"event", "rollback_finished"}, {"status", to_string(status)}};
}

json deployment_finished_event(const DeployOutcome& outcome) {
    return {{"event", "deployment_finished"}, {"record", outcome.record.to_json()}};
}

}  // namespace depctl
