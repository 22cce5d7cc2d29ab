#include "core/deploy/outcome_room.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "core/deploy/failure_rollback.hpp"
#include "core/record/apply_record.hpp"
#include "core/record/definition.hpp"
#include "depctl/error.hpp"

namespace depctl {

namespace {
constexpr std::size_t k_record_reserve = 16 * 1024;
constexpr std::size_t k_record_reserve_per_service = 1024;
}  // namespace

std::size_t record_room(const Plan& plan) {
    std::size_t room = k_record_reserve;
    for (const PlannedService& ps : plan.services) {
        const Service& s = ps.service;
        room += k_record_reserve_per_service + s.workdir.size() + s.build.size() +
                s.release.size() + s.deploy.size() + s.stop.size() + s.health.http.size() +
                s.health.cmd.size();
        for (const auto& entry : s.env) room += entry.first.size() + entry.second.size() + 8;
        for (const auto& secret : s.secrets) room += secret.key.size() + secret.source.size() + 24;
    }
    return room;
}

std::size_t failure_rollback_room(const Environment& env, const Plan& plan,
                                  const std::vector<DeploymentRecord>& history) {
    std::set<std::string> every;
    for (const PlannedService& ps : plan.services) every.insert(ps.service.id);
    const FailureRollbackPlan back = plan_failure_rollback(env, every, history);
    return record_room(back.redeploy) + record_room(back.stop);
}

void check_outcome_fits(StateStore& store, const State& state, const Plan& plan,
                        DeploymentRecord::Operation kind, const DeploymentRecord& running) {
    DeploymentRecord best = running;
    StageRecord every;
    for (const PlannedService& ps : plan.services) {
        ServiceRecord service;
        service.id = ps.service.id;
        service.version = ps.version;
        // An environment rollback also writes the definitions it restores (DESIGN §9).
        if (!running.rolled_back_to.empty()) service.definition = definition_snapshot(ps.service);
        service.status = kind == DeploymentRecord::Operation::stop ? ServiceStatus::stopped
                                                                   : ServiceStatus::deployed;
        every.services.push_back(std::move(service));
    }
    best.stages = {std::move(every)};
    best.finished_at = best.started_at;
    State projected = state;
    apply_record_to_state(best, projected);
    try {
        store.check_fits(projected);
    } catch (const Error& e) {
        throw Error(e.kind(), std::string(e.what()) + " once this deployment is recorded",
                    "nothing was run; " + e.hint());
    }
}

}  // namespace depctl
