#include "core/record/history_record.hpp"

#include <string_view>
#include <unordered_map>

#include "depctl/build_cache.hpp"

namespace depctl {
namespace {

const char* state_name(StepState state) {
    switch (state) {
        case StepState::not_started:
            return "NOT_STARTED";
        case StepState::running:
            return "RUNNING";
        case StepState::succeeded:
            return "SUCCEEDED";
        case StepState::failed:
            return "FAILED";
        case StepState::canceled:
            return "CANCELED";
        case StepState::skipped:
            return "SKIPPED";
    }
    return "NOT_STARTED";
}

nlohmann::json report_json(const StepReport& report, std::chrono::steady_clock::time_point origin) {
    nlohmann::json j = {{"status", report.status},
                        {"exit_code", report.exit_code},
                        {"duration_ms", report.duration.count()},
                        {"log", report.log_path}};
    // Where the step sits in time, for the timeline and `deployment explain`.
    if (report.started)
        j["start_ms"] =
            std::chrono::duration_cast<std::chrono::milliseconds>(*report.started - origin).count();
    if (!report.error.empty()) j["error"] = report.error;
    if (report.attempts > 1) j["attempts"] = report.attempts;
    if (report.probes > 0) j["probes"] = report.probes;
    return j;
}

}  // namespace

HistoryRecord::HistoryRecord(Operation operation, const Plan& plan, const std::string& project,
                             const std::string& version, const LockHolder& who,
                             const std::string& trigger, int parallelism)
    : m_operation(operation), m_plan(plan), m_started(std::chrono::steady_clock::now()) {
    m_json = {{"id", who.deployment_id},
              {"operation", operation == Operation::stop ? "stop" : "deploy"},
              {"project", project},
              {"environment_id", plan.environment_id},
              {"environment", plan.environment_name},
              {"version", version},
              {"status", "RUNNING"},
              {"trigger", trigger},
              {"user", who.user},
              {"host", who.host},
              {"pid", who.pid},
              {"started_at", who.since},
              {"parallelism", parallelism},
              {"hooks", nlohmann::json::array()}};
}

void HistoryRecord::add_hook(const std::string& name, const StepReport& report) {
    nlohmann::json hook = report_json(report, m_started);
    hook["name"] = name;
    m_json["hooks"].push_back(hook);
}

// The dependencies the plan honoured (those outside the plan counted as deployed), by
// name and condition, so a record explains its waits without the state of the day.
nlohmann::json HistoryRecord::planned_dependencies(const PlannedService& ps) const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& dep_id : ps.service.depends_on) {
        const auto it = m_planned_names.find(dep_id);
        if (it != m_planned_names.end())
            out.push_back({{"service", it->second}, {"condition", "healthy"}});
    }
    return out;
}

void HistoryRecord::finish(const ExecResult& result, const std::vector<StepReport>& reports,
                           bool hooks_ok, bool canceled) {
    std::string first_failure;  // BUILD_ERROR or DEPLOYMENT_ERROR, from the first failed step
    nlohmann::json failed_step = nullptr;
    nlohmann::json stages = nlohmann::json::array();
    m_service_status.assign(m_plan.services.size(), {});
    for (const PlannedService& ps : m_plan.services)
        m_planned_names.emplace(ps.service.id, ps.service.name);
    for (const PlannedStage& stage : m_plan.stages) {
        nlohmann::json services = nlohmann::json::array();
        for (std::size_t index : stage.services) {
            const PlannedService& ps = m_plan.services[index];
            nlohmann::json steps = nlohmann::json::array();
            std::string service_status = k_status_deployed;
            for (int kind = 0; kind < k_service_step_kinds; ++kind) {
                const std::size_t i = ps.steps[kind];
                if (i == k_no_step) continue;
                StepReport report = reports[i];
                if (report.status.empty()) report.status = state_name(result.states[i]);
                nlohmann::json step = report_json(report, m_started);
                step["step"] = std::string(to_string(static_cast<StepKind>(kind)));
                if (static_cast<StepKind>(kind) == StepKind::build) {
                    step["build_key"] = build_key(ps.service, m_json["version"].get<std::string>());
                }
                steps.push_back(step);
                if (service_status != k_status_deployed) continue;
                if (report.status == "SUCCEEDED" || report.status == "REUSED") continue;
                const bool build = static_cast<StepKind>(kind) == StepKind::build;
                // A build cancelled by fail-fast or Ctrl-C never touched the running
                // service: like a rollout that never started, it leaves its status alone.
                if (report.status == "CANCELED" && !build) {
                    service_status = k_status_canceled;
                } else if (report.status == "NOT_STARTED" || report.status == "CANCELED") {
                    service_status = "NOT_STARTED";
                } else {
                    service_status = m_operation == Operation::stop ? k_status_stop_error
                                     : build                        ? k_status_build_error
                                                                    : k_status_deployment_error;
                    if (failed_step.is_null()) {
                        first_failure = service_status;
                        failed_step = {
                            {"service", ps.service.name},
                            {"step", std::string(to_string(static_cast<StepKind>(kind)))},
                            {"exit_code", report.exit_code},
                            {"status", report.status},
                            {"log", report.log_path}};
                        if (!report.error.empty()) failed_step["error"] = report.error;
                    }
                }
            }
            if (m_operation == Operation::stop && service_status == k_status_deployed)
                service_status = k_status_stopped;
            m_service_status[index] = service_status;
            services.push_back({{"id", ps.service.id},
                                {"name", ps.service.name},
                                {"type", to_string(ps.service.type)},
                                {"status", service_status},
                                {"steps", steps},
                                {"depends_on", planned_dependencies(ps)}});
        }
        stages.push_back({{"position", stage.position},
                          {"name", stage.name},
                          {"services", services},
                          {"left_out", stage.left_out}});
    }
    if (canceled) {
        m_status = k_status_canceled;
    } else if (!first_failure.empty()) {
        m_status = first_failure;
    } else if (!hooks_ok || result.failed) {
        m_status = m_operation == Operation::stop ? k_status_stop_error : k_status_deployment_error;
    } else {
        m_status = m_operation == Operation::stop ? k_status_stopped : k_status_deployed;
    }
    m_json["status"] = m_status;
    m_json["stages"] = stages;
    m_json["failed_step"] = failed_step;
    m_json["finished_at"] = now_iso8601();
    m_json["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - m_started)
                                .count();
}

void HistoryRecord::apply_to(State& state) const {
    Environment* env = state.find_environment_by_id(m_plan.environment_id);
    if (!env) return;  // deleted while deploying: the history record still tells the story
    const std::string when = m_json.value("finished_at", "");
    // By id through one index: a scan per planned service was quadratic in the size of
    // the environment, at the end of every deploy.
    std::unordered_map<std::string_view, Service*> by_id;
    by_id.reserve(env->services.size());
    for (Service& s : env->services) by_id.emplace(s.id, &s);
    for (std::size_t i = 0; i < m_plan.services.size(); ++i) {
        const auto found = by_id.find(m_plan.services[i].service.id);
        Service* service = found == by_id.end() ? nullptr : found->second;
        const std::string& status = m_service_status[i];
        if (!service || status.empty() || status == "NOT_STARTED") continue;
        // A service keeps the version it last deployed successfully; a failure only changes
        // its status, so `environment status` can show a mixed-version environment honestly.
        if (status == k_status_deployed) service->current.version = m_json["version"];
        if (status == k_status_stopped && service->current.version.empty())
            continue;  // never deployed
        service->current.status = status;
        service->current.updated_at = when;
        service->current.deployment_id = m_json["id"];
    }
}

}  // namespace depctl
