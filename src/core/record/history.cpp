#include "depctl/history.hpp"

#include <algorithm>
#include <set>

#include "depctl/error.hpp"
#include "depctl/names.hpp"

namespace depctl {

std::vector<nlohmann::json> list_deployments(StateStore& store, const Environment& env,
                                             const HistoryQuery& query) {
    auto records = store.list_history(env.id);
    std::reverse(records.begin(), records.end());
    std::vector<nlohmann::json> out;
    for (auto& record : records) {
        if (!query.status.empty() && !iequals(record.value("status", ""), query.status)) continue;
        out.push_back(std::move(record));
        if (query.limit && out.size() == query.limit) break;
    }
    return out;
}

nlohmann::json find_deployment(StateStore& store, const State& state, const std::string& id) {
    std::vector<nlohmann::json> matches;
    for (const auto& env : state.environments) {
        for (auto& record : store.list_history(env.id)) {
            const std::string record_id = record.value("id", "");
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

nlohmann::json deployment_summary(const nlohmann::json& record) {
    std::size_t services = 0;
    for (const auto& stage : record.value("stages", nlohmann::json::array()))
        services += stage["services"].size();
    return {{"id", record.value("id", "")},
            {"environment", record.value("environment", "")},
            {"version", record.value("version", "")},
            {"status", record.value("status", "")},
            {"started_at", record.value("started_at", "")},
            {"finished_at", record.value("finished_at", "")},
            {"duration_ms", record.value("duration_ms", 0)},
            {"user", record.value("user", "") + "@" + record.value("host", "")},
            {"trigger", record.value("trigger", "")},
            {"services", services}};
}

std::vector<LogFile> deployment_logs(const nlohmann::json& record, const std::string& service,
                                     const std::string& step) {
    std::vector<LogFile> files;
    std::set<std::string> seen;
    bool service_found = service.empty();
    for (const auto& hook : record.value("hooks", nlohmann::json::array())) {
        if (!service.empty() || (!step.empty() && step != hook.value("name", ""))) continue;
        files.push_back({"", hook.value("name", ""), hook.value("log", "")});
    }
    for (const auto& stage : record.value("stages", nlohmann::json::array())) {
        for (const auto& svc : stage["services"]) {
            const std::string name = svc.value("name", "");
            if (!service.empty() && !iequals(service, name)) continue;
            service_found = true;
            for (const auto& s : svc["steps"]) {
                const std::string step_name = s.value("step", "");
                if (!step.empty() && step != step_name) continue;
                const std::string path = s.value("log", "");
                if (path.empty() || !seen.insert(path).second) continue;
                files.push_back({name, step_name, path});
            }
        }
    }
    if (!service_found) {
        throw Error(ErrorKind::Refused, "service " + show_name(service) +
                                            " is not part of deployment " +
                                            show_name(record.value("id", "")));
    }
    return files;
}

nlohmann::json environment_status_view(const Environment& env) {
    nlohmann::json services = nlohmann::json::array();
    std::set<std::string> versions;
    std::size_t never = 0;
    std::size_t unhealthy = 0;
    std::size_t stopped = 0;  // a stop is not a failure: counted on its own
    for (const auto& s : env.services) {
        const Stage* stage = env.find_stage_by_id(s.stage_id);
        services.push_back(
            {{"name", s.name},
             {"type", to_string(s.type)},
             {"stage", stage ? stage->name : ""},
             {"skipped", s.skipped},
             {"version", s.current.version.empty() ? nlohmann::json(nullptr)
                                                   : nlohmann::json(s.current.version)},
             {"status", s.current.status.empty() ? "NEVER_DEPLOYED" : s.current.status},
             {"updated_at", s.current.updated_at},
             {"deployment_id", s.current.deployment_id}});
        if (s.skipped) continue;
        // A stopped service runs no version: only the others count towards "runs".
        if (s.current.version.empty()) {
            ++never;
        } else if (s.current.status != "STOPPED") {
            versions.insert(s.current.version);
        }
        if (s.current.status == "STOPPED") {
            ++stopped;
        } else if (!s.current.status.empty() && s.current.status != "DEPLOYED") {
            ++unhealthy;
        }
    }
    const bool mixed = versions.size() > 1;
    std::string summary;
    if (env.services.empty()) {
        summary = "no services";
    } else if (versions.empty() && stopped == 0) {
        summary = "never deployed";
    } else if (versions.empty()) {
        summary = "stopped: no service runs";
    } else if (mixed) {
        std::string list;
        for (const auto& v : versions) list += (list.empty() ? "" : ", ") + v;
        summary = "mixed versions: the environment runs " + std::to_string(versions.size()) +
                  " versions (" + list + ")";
    } else {
        summary = "all deployed services run version " + *versions.begin();
    }
    if (never > 0 && (!versions.empty() || stopped > 0))
        summary += "; " + std::to_string(never) + " never deployed";
    if (stopped > 0) summary += "; " + std::to_string(stopped) + " stopped";
    if (unhealthy > 0)
        summary +=
            "; " + std::to_string(unhealthy) + " failed or cancelled in their last deployment";
    return {{"environment", env.name},
            {"mixed_versions", mixed},
            {"versions", std::vector<std::string>(versions.begin(), versions.end())},
            {"summary", summary},
            {"services", services}};
}

}  // namespace depctl
