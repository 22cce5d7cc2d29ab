#include "core/deploy/failure_rollback.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "core/record/definition.hpp"
#include "core/record/history_record.hpp"

namespace depctl {
namespace {

// The definition `service_id` had in the deployment `deployment_id`; null when not recorded.
const nlohmann::json* recorded_definition(const std::vector<DeploymentRecord>& history,
                                          const std::string& deployment_id,
                                          const std::string& service_id) {
    if (deployment_id.empty()) return nullptr;
    for (auto r = history.rbegin(); r != history.rend(); ++r) {
        if (r->id != deployment_id) continue;
        for (const StageRecord& stage : r->stages) {
            for (const ServiceRecord& s : stage.services)
                if (s.id == service_id && s.definition.is_object()) return &s.definition;
        }
        return nullptr;
    }
    return nullptr;
}

}  // namespace

std::set<std::string> services_that_ran(const DeploymentRecord& forward) {
    std::set<std::string> ran;
    for (const StageRecord& stage : forward.stages) {
        for (const ServiceRecord& s : stage.services) {
            for (const StepRecord& step : s.steps) {
                const bool rollout = step.name == to_string(StepKind::release) ||
                                     step.name == to_string(StepKind::deploy);
                if (rollout && step.ran()) ran.insert(s.id);
            }
        }
    }
    return ran;
}

Environment reversed_for_rollback(const Environment& env, const std::set<std::string>& ids) {
    Environment out = env;
    std::reverse(out.stages.begin(), out.stages.end());
    std::map<std::string, std::vector<Dependency>> turned;  // id -> its dependents
    for (const Service& s : env.services) {
        if (!ids.count(s.id)) continue;
        for (const Dependency& dep : s.depends_on)
            if (ids.count(dep.id)) turned[dep.id].push_back(Dependency{s.id, dep.condition});
    }
    for (Service& s : out.services) {
        if (!ids.count(s.id)) continue;
        const auto it = turned.find(s.id);
        s.depends_on = it == turned.end() ? std::vector<Dependency>{} : it->second;
    }
    return out;
}

FailureRollbackPlan plan_failure_rollback(const Environment& env, const std::set<std::string>& ran,
                                          const std::vector<DeploymentRecord>& history) {
    FailureRollbackPlan out;
    Environment previous = env;
    PlanOptions redeploy;
    PlanOptions stop;
    std::set<std::string> redeployed;
    for (Service& s : previous.services) {
        if (!ran.count(s.id)) continue;
        if (s.current.version.empty()) {
            if (s.stop.empty()) out.left_as_is.push_back(s.name);
            if (!s.stop.empty()) stop.services.push_back(s.name);
            continue;
        }
        redeploy.services.push_back(s.name);
        redeploy.versions[s.id] = s.current.version;
        redeployed.insert(s.id);
        const nlohmann::json* def = recorded_definition(history, s.current.deployment_id, s.id);
        if (def) s = restore_definition(s, *def);
        if (!def) out.version_only.push_back(s.name);
    }
    if (!redeploy.services.empty()) {
        out.redeploy = make_plan(reversed_for_rollback(previous, redeployed), redeploy);
        // The plan ran over the stages turned around; each still names its real position.
        for (PlannedStage& stage : out.redeploy.stages)
            stage.position = env.stage_index(stage.id) + 1;
    }
    if (!stop.services.empty()) out.stop = make_stop_plan(env, stop);
    return out;
}

nlohmann::json FailureRollbackPlan::to_json() const {
    nlohmann::json list = nlohmann::json::array();
    for (const PlannedService& ps : redeploy.services) {
        list.push_back({{"service", ps.service.name},
                        {"version", ps.version},
                        {"from_deployment", ps.service.current.deployment_id}});
    }
    nlohmann::json stopped = nlohmann::json::array();
    for (const PlannedService& ps : stop.services) stopped.push_back(ps.service.name);
    return {{"redeploy", list},
            {"stop", stopped},
            {"left_as_is", left_as_is},
            {"version_only", version_only}};
}

FailureRollback run_failure_rollback(const FailureRollbackPlan& plan,
                                     const DeploymentRecord& forward, const LockHolder& who,
                                     const RunRollbackPlan& run) {
    FailureRollback out;
    out.started_at = now_iso8601();
    const auto started = std::chrono::steady_clock::now();
    out.left_as_is = plan.left_as_is;
    const auto part = [&](HistoryRecord::Operation kind, const Plan& part_plan) {
        if (part_plan.services.empty() || out.status != DeploymentStatus::deployed) return;
        std::vector<StepReport> reports(part_plan.steps.size());
        const ExecResult result = run(part_plan, reports);
        HistoryRecord record(kind, part_plan, forward.project, forward.version, who,
                             forward.trigger, forward.parallelism);
        record.finish(result, reports, true, result.canceled);
        const DeploymentRecord& r = record.record();
        out.stages.insert(out.stages.end(), r.stages.begin(), r.stages.end());
        if (!out.failed_step) out.failed_step = r.failed_step;
        if (!deployment_ok(r.status)) out.status = r.status;
        for (const StageRecord& stage : r.stages) {
            for (const ServiceRecord& s : stage.services)
                if (s.status == ServiceStatus::stopped) out.stopped.push_back(s.name);
        }
    };
    part(HistoryRecord::Operation::deploy, plan.redeploy);
    part(HistoryRecord::Operation::stop, plan.stop);
    out.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
    return out;
}

}  // namespace depctl
