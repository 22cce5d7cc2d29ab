#include "core/record/apply_record.hpp"

#include <string_view>
#include <unordered_map>

#include "core/record/definition.hpp"
#include "depctl/plan.hpp"

namespace depctl {

namespace {

// Whether the service's deploy step ran (to any end): from then on what runs may be the
// attempted version. A deploy step cancelled before it started has no start time.
bool deploy_step_ran(const ServiceRecord& recorded) {
    for (const StepRecord& step : recorded.steps) {
        if (step.name != to_string(StepKind::deploy)) continue;
        switch (step.status) {
            case StepStatus::succeeded:
            case StepStatus::failed:
            case StepStatus::timed_out:
                return true;
            case StepStatus::canceled:
                return step.start_ms.has_value();
            default:
                return false;
        }
    }
    return false;
}

}  // namespace

void apply_record_to_state(const DeploymentRecord& record, State& state) {
    Environment* env = state.find_environment_by_id(record.environment_id);
    if (!env) return;  // deleted while deploying: the history record still tells the story
    // By id through one index: a scan per recorded service was quadratic in the size of
    // the environment, at the end of every deploy.
    std::unordered_map<std::string_view, Service*> by_id;
    by_id.reserve(env->services.size());
    for (Service& s : env->services) by_id.emplace(s.id, &s);
    for (const StageRecord& stage : record.stages) {
        for (const ServiceRecord& recorded : stage.services) {
            const auto found = by_id.find(recorded.id);
            Service* service = found == by_id.end() ? nullptr : found->second;
            if (!service || recorded.status == ServiceStatus::not_started) continue;
            // A service keeps the version it last deployed successfully while a failure
            // leaves it alone (a build, a release, a step never started); once its deploy
            // step ran in a failed deployment it shows FAILED at the attempted version,
            // not the old version as if nothing happened (DESIGN §9 "Honest status").
            ServiceStatus status = recorded.status;
            if (status == ServiceStatus::deployment_error && deploy_step_ran(recorded))
                status = ServiceStatus::failed;
            if (status == ServiceStatus::deployed || status == ServiceStatus::failed)
                service->current.version = record.version_of(recorded);
            // An environment rollback makes the restored definition the current one, so the
            // next deploy does not silently run today's again (DESIGN §9, docs/decisions.md).
            if (!record.rolled_back_to.empty() && status == ServiceStatus::deployed &&
                !recorded.definition.empty())
                *service = restore_definition(*service, recorded.definition);
            if (status == ServiceStatus::stopped && service->current.version.empty())
                continue;  // never deployed
            service->current.status = std::string(to_string(status));
            service->current.updated_at = record.finished_at;
            service->current.deployment_id = record.id;
        }
    }
}

}  // namespace depctl
