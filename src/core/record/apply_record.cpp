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
    for (const StepRecord& step : recorded.steps)
        if (step.name == to_string(StepKind::deploy)) return step.ran();
    return false;
}

// --on-failure rollback: what the services it redeployed had before the deployment, taken
// before the forward part is applied (applying the record twice gives the same state).
std::unordered_map<std::string, ServiceCurrent> before_rollback(const DeploymentRecord& record,
                                                                const Environment& env) {
    std::unordered_map<std::string, ServiceCurrent> out;
    if (!record.on_failure_rollback) return out;
    for (const StageRecord& stage : record.on_failure_rollback->stages) {
        for (const ServiceRecord& recorded : stage.services) {
            const Service* service = env.find_service_by_id(recorded.id);
            if (service) out.emplace(recorded.id, service->current);
        }
    }
    return out;
}

// A redeployed service runs its previous version and definition again: its current is the
// one it had, its deployment_id still the deployment whose definition it runs (so that
// --only-changed and the next rollback find that definition). Any other outcome of the
// rollback is this deployment's.
void apply_failure_rollback(const DeploymentRecord& record, Environment& env,
                            const std::unordered_map<std::string, ServiceCurrent>& before) {
    if (!record.on_failure_rollback) return;
    for (const StageRecord& stage : record.on_failure_rollback->stages) {
        for (const ServiceRecord& recorded : stage.services) {
            Service* service = env.find_service_by_id(recorded.id);
            const auto was = before.find(recorded.id);
            if (!service || was == before.end() || recorded.status == ServiceStatus::not_started)
                continue;
            if (recorded.status == ServiceStatus::deployed) {
                service->current = was->second;
                service->current.version = record.version_of(recorded);
                service->current.status = std::string(to_string(ServiceStatus::deployed));
            } else {
                ServiceStatus status = recorded.status;
                if (status == ServiceStatus::deployment_error) status = ServiceStatus::failed;
                if (status != ServiceStatus::stopped)
                    service->current.version = record.version_of(recorded);
                service->current.status = std::string(to_string(status));
                service->current.deployment_id = record.id;
            }
            service->current.updated_at = record.finished_at;
        }
    }
}

}  // namespace

void apply_record_to_state(const DeploymentRecord& record, State& state) {
    Environment* env = state.find_environment_by_id(record.environment_id);
    if (!env) return;  // deleted while deploying: the history record still tells the story
    const auto before = before_rollback(record, *env);
    // By id through one index: a scan per recorded service was quadratic in the size of
    // the environment, at the end of every deploy.
    std::unordered_map<std::string_view, Service*> by_id;
    by_id.reserve(env->services.size());
    for (Service& s : env->services) by_id.emplace(s.id, &s);
    // Restored after the look-ups: replacing a Service replaces the id string the index's
    // keys view (a use-after-free the sanitizer tree found).
    std::vector<std::pair<Service*, const nlohmann::json*>> restore;
    for (const StageRecord& stage : record.stages) {
        for (const ServiceRecord& recorded : stage.services) {
            const auto found = by_id.find(recorded.id);
            Service* service = found == by_id.end() ? nullptr : found->second;
            const bool ran = deploy_step_ran(recorded);
            if (!service || (recorded.status == ServiceStatus::not_started && !ran)) continue;
            // A service keeps the version it last deployed successfully while a failure
            // leaves it alone (a build, a release, a step never started). Once its deploy
            // step ran, what runs may be the attempted version, whatever ended the
            // deployment (DESIGN §9 "Honest status"): FAILED when its own deploy or health
            // failed, CANCELED when the deployment stopped its rollout half-way (fail-fast
            // after another service failed, Ctrl-C), else the recorded status.
            ServiceStatus status = recorded.status;
            if (ran && status == ServiceStatus::deployment_error) status = ServiceStatus::failed;
            if (ran && status == ServiceStatus::not_started) status = ServiceStatus::canceled;
            if (status == ServiceStatus::deployed || ran)
                service->current.version = record.version_of(recorded);
            // An environment rollback makes the restored definition the current one, so the
            // next deploy does not silently run today's again (DESIGN §9, docs/decisions.md).
            if (!record.rolled_back_to.empty() && status == ServiceStatus::deployed &&
                recorded.definition.is_object())
                restore.emplace_back(service, &recorded.definition);
            if (status == ServiceStatus::stopped && service->current.version.empty())
                continue;  // never deployed
            service->current.status = std::string(to_string(status));
            service->current.updated_at = record.finished_at;
            service->current.deployment_id = record.id;
        }
    }
    for (const auto& [service, definition] : restore)
        *service = restore_definition(*service, *definition);
    apply_failure_rollback(record, *env, before);
}

}  // namespace depctl
