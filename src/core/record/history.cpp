#include "depctl/history.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "depctl/error.hpp"
#include "depctl/names.hpp"

namespace depctl {

std::vector<DeploymentRecord> load_history(StateStore& store, const std::string& environment_id,
                                           const HistoryFilter& filter) {
    std::vector<DeploymentRecord> records;
    for (const auto& j : filter.containing.empty() && filter.newest == 0
                             ? store.list_history(environment_id)
                             : store.query_history(environment_id, filter))
        records.push_back(DeploymentRecord::from_json(j));
    return records;
}

std::vector<DeploymentRecord> list_deployments(StateStore& store, const Environment& env,
                                               const HistoryQuery& query) {
    auto records = load_history(store, env.id);
    std::reverse(records.begin(), records.end());
    std::vector<DeploymentRecord> out;
    for (auto& record : records) {
        if (!query.status.empty() && !iequals(to_string(record.status), query.status)) continue;
        out.push_back(std::move(record));
        if (query.limit && out.size() == query.limit) break;
    }
    return out;
}

DeploymentRecord find_deployment(StateStore& store, const State& state, const std::string& id) {
    std::vector<DeploymentRecord> matches;
    for (const auto& env : state.environments) {
        for (auto& record : load_history(store, env.id)) {
            const std::string& record_id = record.id;
            if (record_id == id) return record;
            if (id.size() >= 6 && record_id.rfind(id, 0) == 0) matches.push_back(std::move(record));
        }
    }
    if (matches.size() == 1) return matches.front();
    if (matches.size() > 1)
        throw Error(ErrorKind::Refused, "deployment id " + show_name(id) + " is ambiguous");
    throw Error(ErrorKind::Refused, "deployment " + show_name(id) + " not found",
                "list deployments with `depctl deployment list`");
}

nlohmann::json deployment_summary(const DeploymentRecord& record) {
    return {{"id", record.id},
            {"environment", record.environment},
            {"version", record.version},
            {"status", to_string(record.status)},
            {"started_at", record.started_at},
            {"finished_at", record.finished_at},
            {"duration_ms", record.duration_ms},
            {"user", record.user + "@" + record.host},
            {"trigger", record.trigger},
            {"services", record.service_count()}};
}

std::vector<LogFile> deployment_logs(const DeploymentRecord& record, const std::string& service,
                                     const std::string& step) {
    std::vector<LogFile> files;
    std::set<std::string> seen;
    bool service_found = service.empty();
    for (const StepRecord& hook : record.hooks) {
        if (!service.empty() || (!step.empty() && step != hook.name)) continue;
        files.push_back({"", hook.name, hook.log});
    }
    // The forward steps, then those of --on-failure rollback's half, each in run order.
    const auto add = [&](const std::vector<StageRecord>& stages, bool rollback) {
        for (const StageRecord& stage : stages) {
            for (const ServiceRecord& svc : stage.services) {
                if (!service.empty() && !iequals(service, svc.name)) continue;
                service_found = true;
                for (const StepRecord& s : svc.steps) {
                    if (!step.empty() && step != s.name) continue;
                    if (s.log.empty() || !seen.insert(s.log).second) continue;
                    files.push_back({svc.name, s.name, s.log, rollback});
                }
            }
        }
    };
    add(record.stages, false);
    if (record.on_failure_rollback) add(record.on_failure_rollback->stages, true);
    if (!service_found) {
        throw Error(ErrorKind::Refused, "service " + show_name(service) +
                                            " is not part of deployment " + show_name(record.id));
    }
    return files;
}

namespace {

// What `environment status` counts over the services that are not skipped.
struct StatusCounts {
    std::set<std::string> versions;  // of the services that run one
    std::size_t failed = 0;          // FAILED at a version: it may run, not well
    std::size_t never = 0;
    std::size_t unhealthy = 0;
    std::size_t stopped = 0;  // a stop is not a failure: counted on its own
};

nlohmann::json service_status_json(const Environment& env, const Service& s) {
    const Stage* stage = env.find_stage_by_id(s.stage_id);
    return {
        {"name", s.name},
        {"type", to_string(s.type)},
        {"stage", stage ? stage->name : ""},
        {"skipped", s.skipped},
        {"version",
         s.current.version.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.current.version)},
        {"status", s.current.status.empty() ? std::string(to_string(ServiceStatus::never_deployed))
                                            : s.current.status},
        {"updated_at", s.current.updated_at},
        {"deployment_id", s.current.deployment_id}};
}

void count_service(const Service& s, StatusCounts& counts) {
    const auto status = parse_service_status(s.current.status);
    // A stopped service runs no version, and one that FAILED at a version does not run it
    // well: only the others count towards "runs".
    if (s.current.version.empty()) {
        ++counts.never;
    } else if (status == ServiceStatus::failed) {
        ++counts.failed;
    } else if (status != ServiceStatus::stopped) {
        counts.versions.insert(s.current.version);
    }
    if (status == ServiceStatus::stopped) {
        ++counts.stopped;
    } else if (!s.current.status.empty() && status != ServiceStatus::deployed) {
        ++counts.unhealthy;
    }
}

// One line for people: which versions run, then what does not run well.
std::string status_summary(const Environment& env, const StatusCounts& c) {
    std::string summary;
    if (env.services.empty()) {
        summary = "no services";
    } else if (c.versions.empty() && c.failed > 0) {
        summary = "no version deployed successfully";
    } else if (c.versions.empty() && c.stopped == 0) {
        summary = "never deployed";
    } else if (c.versions.empty()) {
        summary = "stopped: no service runs";
    } else if (c.versions.size() > 1) {
        std::string list;
        for (const auto& v : c.versions) list += (list.empty() ? "" : ", ") + v;
        summary = "mixed versions: the environment runs " + std::to_string(c.versions.size()) +
                  " versions (" + list + ")";
    } else {
        summary = "all deployed services run version " + *c.versions.begin();
    }
    if (c.never > 0 && (!c.versions.empty() || c.stopped > 0))
        summary += "; " + std::to_string(c.never) + " never deployed";
    if (c.stopped > 0) summary += "; " + std::to_string(c.stopped) + " stopped";
    if (c.unhealthy > 0)
        summary +=
            "; " + std::to_string(c.unhealthy) + " failed or cancelled in their last deployment";
    return summary;
}

}  // namespace

nlohmann::json environment_status_view(const Environment& env) {
    nlohmann::json services = nlohmann::json::array();
    StatusCounts counts;
    for (const auto& s : env.services) {
        services.push_back(service_status_json(env, s));
        if (!s.skipped) count_service(s, counts);
    }
    return {{"environment", env.name},
            {"mixed_versions", counts.versions.size() > 1},
            {"versions", std::vector<std::string>(counts.versions.begin(), counts.versions.end())},
            {"summary", status_summary(env, counts)},
            {"services", services}};
}

}  // namespace depctl
