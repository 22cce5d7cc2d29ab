// Reading deployment history and the deployed state of an environment.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "depctl/model.hpp"
#include "depctl/record.hpp"
#include "depctl/store.hpp"

namespace depctl {

struct HistoryQuery {
    std::size_t limit = 0;  // 0 = all
    std::string status;     // empty = any
};

// The store's history of an environment, typed: the one place records are read from JSON.
// Oldest first; `filter` as in StateStore::query_history.
std::vector<DeploymentRecord> load_history(StateStore& store, const std::string& environment_id,
                                           const HistoryFilter& filter = {});

// Newest first.
std::vector<DeploymentRecord> list_deployments(StateStore& store, const Environment& env,
                                               const HistoryQuery& query);

// A deployment record by id (or unique id prefix) across all environments; Error{Refused} if none.
DeploymentRecord find_deployment(StateStore& store, const State& state, const std::string& id);

// A short summary row of a record for `deployment list`.
nlohmann::json deployment_summary(const DeploymentRecord& record);

// The log files of a record, optionally filtered by service name and step.
struct LogFile {
    std::string service;
    std::string step;
    std::string path;
    bool rollback = false;  // a step of --on-failure rollback's half of the record
};
std::vector<LogFile> deployment_logs(const DeploymentRecord& record, const std::string& service,
                                     const std::string& step);

// Per service: version, status and time of the last deployment, and whether the
// environment runs mixed versions.
nlohmann::json environment_status_view(const Environment& env);

}  // namespace depctl
