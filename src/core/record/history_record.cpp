#include "core/record/history_record.hpp"

#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "core/record/definition.hpp"
#include "depctl/build_cache.hpp"

namespace depctl {
namespace {

StepStatus status_of(StepState state) {
    switch (state) {
        case StepState::not_started:
            return StepStatus::not_started;
        case StepState::running:
            return StepStatus::running;
        case StepState::succeeded:
            return StepStatus::succeeded;
        case StepState::failed:
            return StepStatus::failed;
        case StepState::canceled:
            return StepStatus::canceled;
        case StepState::skipped:
            return StepStatus::skipped;
    }
    return StepStatus::not_started;
}

// `origin`: the deployment's start, from which the step's start is counted.
StepRecord step_record(const std::string& name, const StepReport& report, StepStatus status,
                       std::chrono::steady_clock::time_point origin) {
    StepRecord out{name,
                   status,
                   report.exit_code,
                   report.duration.count(),
                   report.log_path,
                   report.error,
                   report.attempts,
                   {},
                   std::nullopt,
                   report.probes};
    // Where the step sits in time, for the timeline and `deployment explain`.
    if (report.started)
        out.start_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(*report.started - origin).count();
    return out;
}

}  // namespace

HistoryRecord::HistoryRecord(Operation operation, const Plan& plan, const std::string& project,
                             const std::string& version, const LockHolder& who,
                             const std::string& trigger, int parallelism)
    : m_operation(operation), m_plan(plan), m_started(std::chrono::steady_clock::now()) {
    m_record.id = who.deployment_id;
    m_record.operation = operation;
    m_record.project = project;
    m_record.environment_id = plan.environment_id;
    m_record.environment = plan.environment_name;
    m_record.version = version;
    m_record.status = DeploymentStatus::running;
    m_record.trigger = trigger;
    m_record.user = who.user;
    m_record.host = who.host;
    m_record.pid = who.pid;
    m_record.started_at = who.since;
    m_record.parallelism = parallelism;
}

void HistoryRecord::add_hook(const std::string& name, const StepReport& report) {
    m_record.hooks.push_back(
        step_record(name, report, report.status.value_or(StepStatus::failed), m_started));
}

// One service's steps, and its status: DEPLOYED (or STOPPED) unless a step did not end well.
// The first failing step of the whole record becomes its failed_step.
ServiceRecord HistoryRecord::service_record(const PlannedService& ps, const ExecResult& result,
                                            const std::vector<StepReport>& reports) {
    ServiceRecord out{
        ps.service.id,
        ps.service.name,
        std::string(to_string(ps.service.type)),
        ServiceStatus::deployed,
        {},
        planned_dependencies(ps),
        m_operation == Operation::deploy ? definition_snapshot(ps.service) : nlohmann::json(),
        ps.version};
    for (int kind = 0; kind < k_service_step_kinds; ++kind) {
        const std::size_t i = ps.steps[kind];
        if (i == k_no_step) continue;
        const StepReport& report = reports[i];
        const StepStatus status = report.status.value_or(status_of(result.states[i]));
        const bool build = static_cast<StepKind>(kind) == StepKind::build;
        StepRecord step = step_record(std::string(to_string(static_cast<StepKind>(kind))), report,
                                      status, m_started);
        if (build) step.build_key = build_key(ps.service, ps.version_or(m_record.version));
        out.steps.push_back(step);
        if (out.status != ServiceStatus::deployed || step_succeeded(status)) continue;
        // A build cancelled by fail-fast or Ctrl-C never touched the running
        // service: like a rollout that never started, it leaves its status alone.
        if (status == StepStatus::canceled && !build) {
            out.status = ServiceStatus::canceled;
        } else if (status == StepStatus::not_started || status == StepStatus::canceled) {
            out.status = ServiceStatus::not_started;
        } else {
            out.status = m_operation == Operation::stop ? ServiceStatus::stop_error
                         : build                        ? ServiceStatus::build_error
                                                        : ServiceStatus::deployment_error;
            if (!m_record.failed_step) {
                m_record.failed_step =
                    FailedStep{ps.service.name, step.name,       report.exit_code,
                               status,          report.log_path, report.error};
            }
        }
    }
    if (m_operation == Operation::stop && out.status == ServiceStatus::deployed)
        out.status = ServiceStatus::stopped;
    return out;
}

// The dependencies the plan honoured (those outside the plan counted as deployed), by
// name and condition, so a record explains its waits without the state of the day.
std::vector<DependencyRecord> HistoryRecord::planned_dependencies(const PlannedService& ps) const {
    std::vector<DependencyRecord> out;
    for (const Dependency& dep : ps.service.depends_on) {
        const auto it = m_planned_names.find(dep.id);
        if (it != m_planned_names.end())
            out.push_back({it->second, std::string(to_string(dep.condition))});
    }
    return out;
}

void HistoryRecord::finish(const ExecResult& result, const std::vector<StepReport>& reports,
                           bool hooks_ok, bool canceled) {
    m_service_status.assign(m_plan.services.size(), ServiceStatus::not_started);
    m_record.stages.clear();
    for (const PlannedService& ps : m_plan.services)
        m_planned_names.emplace(ps.service.id, ps.service.name);
    for (const PlannedStage& stage : m_plan.stages) {
        StageRecord out{stage.position, stage.name, {}, stage.left_out};
        for (std::size_t index : stage.services) {
            out.services.push_back(service_record(m_plan.services[index], result, reports));
            m_service_status[index] = out.services.back().status;
        }
        m_record.stages.push_back(std::move(out));
    }
    const bool stop = m_operation == Operation::stop;
    if (canceled) {
        m_record.status = DeploymentStatus::canceled;
    } else if (m_record.failed_step) {
        // BUILD_ERROR, DEPLOYMENT_ERROR or STOP_ERROR, from the first failed step.
        const bool build = m_record.failed_step->step == to_string(StepKind::build);
        m_record.status = stop    ? DeploymentStatus::stop_error
                          : build ? DeploymentStatus::build_error
                                  : DeploymentStatus::deployment_error;
    } else if (!hooks_ok || result.failed) {
        m_record.status = stop ? DeploymentStatus::stop_error : DeploymentStatus::deployment_error;
    } else {
        m_record.status = stop ? DeploymentStatus::stopped : DeploymentStatus::deployed;
    }
    m_record.finished_at = now_iso8601();
    m_record.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - m_started)
                               .count();
}

void HistoryRecord::set_failure_rollback(FailureRollback back) {
    if (back.status == DeploymentStatus::deployed) m_record.status = DeploymentStatus::rolled_back;
    m_record.on_failure_rollback = std::move(back);
    m_record.finished_at = now_iso8601();
    m_record.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - m_started)
                               .count();
}

}  // namespace depctl
