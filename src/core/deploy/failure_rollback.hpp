// `environment deploy --on-failure rollback` (DESIGN §9): when the forward part of a
// deployment fails, the services whose release or deploy step ran go back to their previous
// version and definition, dependents first. Planned here (pure), run by deploy.cpp.
#pragma once

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <vector>

#include "depctl/deploy_types.hpp"
#include "depctl/executor.hpp"
#include "depctl/model.hpp"
#include "depctl/plan.hpp"
#include "depctl/record.hpp"
#include "depctl/store.hpp"

namespace depctl {

struct FailureRollbackPlan {
    // The services that ran, at their previous version and definition: the stages in reverse
    // order and, inside a stage, a service after those that depend on it. Each stage keeps
    // its real position in the environment (stages[0] is the last one).
    Plan redeploy;
    // Never deployed before this deployment and with a stop command: stopped (stop plan).
    Plan stop;
    std::vector<std::string> left_as_is;    // never deployed before, no stop command (names)
    std::vector<std::string> version_only;  // no recorded previous definition: today's runs
    bool empty() const { return redeploy.services.empty() && stop.services.empty(); }
    // {"redeploy": [{"service", "version", "from_deployment"}...] in order, "stop": [names],
    // "left_as_is": [names], "version_only": [names]}: the dry run and the progress events.
    nlohmann::json to_json() const;
};

// The ids of the services whose release or deploy step ran (to any end) in `forward`.
std::set<std::string> services_that_ran(const DeploymentRecord& forward);

// `env` with the stages in reverse order and, among `ids`, every depends_on edge turned
// around (a service waits for its dependents, on the edge's own condition: a `started` edge
// lets the service go once its dependent's deploy step succeeded, docs/decisions.md); edges
// to other services are dropped.
Environment reversed_for_rollback(const Environment& env, const std::set<std::string>& ids);

// The rollback of the services `ran` (ids), from `env` as the state held it when the
// deployment was planned (their `current` is what ran before it) and the environment's
// history (the previous definitions: the snapshot recorded by each service's
// current.deployment_id).
FailureRollbackPlan plan_failure_rollback(const Environment& env, const std::set<std::string>& ran,
                                          const std::vector<DeploymentRecord>& history);

// Runs one plan of the rollback under the deployment's lock, filling `reports`.
using RunRollbackPlan = std::function<ExecResult(const Plan&, std::vector<StepReport>&)>;

// Runs the rollback: the redeploy, then (if it went well) the stops. Its status: DEPLOYED
// when every step went well, else the failing part's (DEPLOYMENT_ERROR, STOP_ERROR, ...).
FailureRollback run_failure_rollback(const FailureRollbackPlan& plan,
                                     const DeploymentRecord& forward, const LockHolder& who,
                                     const RunRollbackPlan& run);

}  // namespace depctl
