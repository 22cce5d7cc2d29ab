// `environment rollback` (DESIGN §9): every service back to the version and definition it had
// after an earlier successful deployment. What is restored is worked out here; it runs
// through the normal deploy pipeline (deploy.cpp), one version per service.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "depctl/model.hpp"
#include "depctl/plan.hpp"
#include "depctl/record.hpp"
#include "depctl/store.hpp"

namespace depctl {

// One service of the environment as the rollback treats it.
struct RestoredService {
    std::string id;
    std::string name;
    std::string version_now;           // the state's current version; empty = never deployed
    std::string version;               // the version restored; empty when left out
    std::string from_deployment;       // the record whose snapshot is restored
    std::vector<std::string> changed;  // definition fields that differ from today's (names)
    std::string left_out;              // why it is left as it is; empty when restored
};

struct EnvironmentRollback {
    std::string target_id;                  // the DEPLOYED record rolled back to (`rolled_back_to`)
    std::string target_version;             // its version: the record's version of the rollback
    std::vector<RestoredService> services;  // in the environment's order
    Environment restored;  // the environment with each restored service's old definition
    nlohmann::json to_json() const;
};

// Pure: the rollback of `env` given its history (oldest first). `to`: a deployment id, a
// unique prefix of one (6+ characters), `latest`, or a version (the newest DEPLOYED record
// of it); none = the DEPLOYED record before the newest deploy of any outcome, where an
// environment rollback stands for the deployment it restored (a failed one is retried to
// the same target, a second one goes one further back). Each service goes back
// to the last version it was deployed at as of the target (a target made with --services
// holds only some services). Error{Refused} when there is no such record, when a service
// to restore has no recorded definition (records older than definitions), or nothing is
// left to restore.
EnvironmentRollback find_environment_rollback(const std::vector<DeploymentRecord>& history,
                                              const Environment& env,
                                              const std::optional<std::string>& to);

// The plan of the rollback: the restored services with their own versions (the others left
// out with the reason); builds marked reused where the history has them.
struct RollbackPlan {
    Plan plan;
    EnvironmentRollback rollback;
};
RollbackPlan plan_environment_rollback(StateStore& store, const State& state,
                                       const Environment& env, const std::optional<std::string>& to,
                                       bool force_build);

}  // namespace depctl
