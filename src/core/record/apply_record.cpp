#include "core/record/apply_record.hpp"

#include <string_view>
#include <unordered_map>

#include "core/record/definition.hpp"

namespace depctl {

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
            // A service keeps the version it last deployed successfully; a failure only
            // changes its status, so `environment status` shows a mixed-version environment
            // honestly.
            if (recorded.status == ServiceStatus::deployed)
                service->current.version = record.version_of(recorded);
            // An environment rollback makes the restored definition the current one, so the
            // next deploy does not silently run today's again (DESIGN §9, docs/decisions.md).
            if (!record.rolled_back_to.empty() && recorded.status == ServiceStatus::deployed &&
                !recorded.definition.empty())
                *service = restore_definition(*service, recorded.definition);
            if (recorded.status == ServiceStatus::stopped && service->current.version.empty())
                continue;  // never deployed
            service->current.status = std::string(to_string(recorded.status));
            service->current.updated_at = record.finished_at;
            service->current.deployment_id = record.id;
        }
    }
}

}  // namespace depctl
