// A service's definition as a deployment record keeps it (DESIGN §9): what a whole-environment
// rollback restores, and how two definitions differ (field names only: never values).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "depctl/model.hpp"

namespace depctl {

// One service as to_json(Service) writes it (defined beside the state's reader in
// model/model_json.cpp); throws Error{Corrupt} describing what is wrong.
Service parse_service(const nlohmann::json& j);

// Commands, env, secret sources (never their values), health check and timeouts: the service
// without its identity, type, stage, skip flag, dependencies and current status.
nlohmann::json definition_snapshot(const Service& service);

// `now` with the definition of `snapshot`: identity, type, stage, skip flag, dependencies and
// current status stay those of today. Error{Corrupt} if the snapshot does not read.
Service restore_definition(const Service& now, const nlohmann::json& snapshot);

// The names of the definition fields that differ ("deploy", "env", "health", ...), sorted.
std::vector<std::string> definition_changes(const nlohmann::json& from, const nlohmann::json& to);

}  // namespace depctl
