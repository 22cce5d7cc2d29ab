// Reading deployment history and the deployed state of an environment.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "depctl/model.hpp"
#include "depctl/store.hpp"

namespace depctl {

struct HistoryQuery {
    std::size_t limit = 0;  // 0 = all
    std::string status;     // empty = any
};

// Newest first.
std::vector<nlohmann::json> list_deployments(StateStore& store, const Environment& env,
                                             const HistoryQuery& query);

// A deployment record by id (or unique id prefix) across all environments; Error{Refused} if none.
nlohmann::json find_deployment(StateStore& store, const State& state, const std::string& id);

// A short summary row of a record for `deployment list`.
nlohmann::json deployment_summary(const nlohmann::json& record);

// The log files of a record, optionally filtered by service name and step.
struct LogFile {
    std::string service;
    std::string step;
    std::string path;
};
std::vector<LogFile> deployment_logs(const nlohmann::json& record, const std::string& service,
                                     const std::string& step);

// Per service: version, status and time of the last deployment, and whether the
// environment runs mixed versions.
nlohmann::json environment_status_view(const Environment& env);

}  // namespace depctl
