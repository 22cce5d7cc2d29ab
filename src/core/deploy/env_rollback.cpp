#include "depctl/env_rollback.hpp"

#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/record/definition.hpp"
#include "depctl/build_cache.hpp"
#include "depctl/error.hpp"
#include "depctl/history.hpp"
#include "depctl/names.hpp"

namespace depctl {
namespace {

constexpr std::size_t k_min_prefix = 6;  // as `deployment show` takes an id prefix

bool successful_deploy(const DeploymentRecord& r) {
    return r.operation == DeploymentRecord::Operation::deploy &&
           r.status == DeploymentStatus::deployed;
}

std::size_t index_of(const std::vector<DeploymentRecord>& history, const std::string& id) {
    for (std::size_t i = 0; i < history.size(); ++i)
        if (history[i].id == id) return i;
    return std::string::npos;
}

// The default target: the newest DEPLOYED record before the current one, the newest deploy
// of any outcome (DESIGN §9: after v2 and a failed v3, v2; after v2 and a good v3, v2 too).
// When the current one is itself an environment rollback, it stands for the deployment it
// restored: a failed rollback is retried to the same target, and a second rollback after a
// good one goes one further back (never back to what the first one left).
std::size_t previous_success(const std::vector<DeploymentRecord>& history, const Environment& env) {
    std::size_t before = 0;  // the search runs below this index
    for (std::size_t i = history.size(); i-- > 0;) {
        if (history[i].operation != DeploymentRecord::Operation::deploy) continue;
        before = i;
        const std::size_t restored = history[i].rolled_back_to.empty()
                                         ? std::string::npos
                                         : index_of(history, history[i].rolled_back_to);
        if (restored != std::string::npos) {
            if (!successful_deploy(history[i]) && successful_deploy(history[restored]))
                return restored;
            before = restored;
        }
        break;
    }
    for (std::size_t i = before; i-- > 0;)
        if (successful_deploy(history[i])) return i;
    throw Error(ErrorKind::Refused,
                "environment " + show_name(env.name) +
                    " has no successful deployment before the current one to roll back to",
                "see `depctl deployment list --status DEPLOYED`, then pass --to");
}

// A record of this environment by id, unique prefix or `latest`; npos if `to` names none.
std::size_t by_id(const std::vector<DeploymentRecord>& history, const std::string& to) {
    if (to == "latest") return history.empty() ? std::string::npos : history.size() - 1;
    std::size_t match = std::string::npos;
    for (std::size_t i = 0; i < history.size(); ++i) {
        if (history[i].id == to) return i;
        if (to.size() < k_min_prefix || history[i].id.rfind(to, 0) != 0) continue;
        if (match != std::string::npos)
            throw Error(ErrorKind::Refused, "deployment id " + show_name(to) + " is ambiguous");
        match = i;
    }
    return match;
}

std::size_t target_index(const std::vector<DeploymentRecord>& history, const Environment& env,
                         const std::optional<std::string>& to) {
    if (!to) return previous_success(history, env);
    const std::size_t named = by_id(history, *to);
    if (named != std::string::npos) {
        const DeploymentRecord& r = history[named];
        if (successful_deploy(r)) return named;
        throw Error(ErrorKind::Refused,
                    "deployment " + r.id + " ended " + std::string(to_string(r.status)) +
                        ": only a DEPLOYED deployment can be rolled back to",
                    "see `depctl deployment list --status DEPLOYED`");
    }
    for (std::size_t i = history.size(); i-- > 0;)  // a version: its newest DEPLOYED record
        if (successful_deploy(history[i]) && history[i].version == *to) return i;
    throw Error(ErrorKind::Refused,
                "environment " + show_name(env.name) + " has no deployment " + show_name(*to) +
                    " and no DEPLOYED deployment of a version " + show_name(*to),
                "--to takes a deployment id, `latest` or a version from `depctl deployment list "
                "--status DEPLOYED`");
}

// Where a service got what it had after the target: the newest deploy at or before it in
// which this service was DEPLOYED (the target may hold only some services).
struct Found {
    const DeploymentRecord* record = nullptr;
    const ServiceRecord* service = nullptr;
};

Found walk_back(const std::vector<DeploymentRecord>& history, std::size_t target,
                const std::string& service_id) {
    for (std::size_t i = target + 1; i-- > 0;) {
        const DeploymentRecord& r = history[i];
        // A ROLLED_BACK deployment's forward part was undone (--on-failure rollback).
        if (r.operation != DeploymentRecord::Operation::deploy ||
            r.status == DeploymentStatus::rolled_back)
            continue;
        for (const StageRecord& stage : r.stages) {
            for (const ServiceRecord& s : stage.services)
                if (s.id == service_id && s.status == ServiceStatus::deployed) return {&r, &s};
        }
    }
    return {};
}

std::string names_of(const std::vector<std::string>& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i) text += (i ? ", " : "") + names[i];
    return text;
}

// One service: restored from what `walk_back` found, or left out with the reason.
RestoredService restore_one(const Service& now, const Found& found, const std::string& target_id,
                            Service& restored) {
    RestoredService out{now.id, now.name, now.current.version, {}, {}, {}, {}};
    if (now.skipped) {
        out.left_out = "skipped";
    } else if (!found.record) {
        out.left_out = "no successful deployment as of " + target_id + ": left as it is";
    } else {
        out.version = found.record->version_of(*found.service);
        out.from_deployment = found.record->id;
        if (found.service->definition.is_object()) {
            out.changed = definition_changes(definition_snapshot(now), found.service->definition);
            restored = restore_definition(now, found.service->definition);
        }
    }
    return out;
}

}  // namespace

EnvironmentRollback find_environment_rollback(const std::vector<DeploymentRecord>& history,
                                              const Environment& env,
                                              const std::optional<std::string>& to) {
    const std::size_t target = target_index(history, env, to);
    EnvironmentRollback out{history[target].id, history[target].version, {}, env};
    std::vector<std::string> without_definition;
    for (Service& service : out.restored.services) {
        const Found found = walk_back(history, target, service.id);
        out.services.push_back(restore_one(service, found, out.target_id, service));
        if (found.record && !found.service->definition.is_object() && !service.skipped)
            without_definition.push_back(service.name);
    }
    if (!without_definition.empty()) {
        throw Error(ErrorKind::Refused,
                    "cannot roll " + show_name(env.name) + " back to " + out.target_id +
                        ": its record holds no definition of " + names_of(without_definition) +
                        " (written before depctl kept definitions)",
                    "pass --to a later deployment that holds them, or redeploy with "
                    "`environment deploy --rollback`, which restores the version only");
    }
    bool any = false;
    for (const RestoredService& s : out.services) any = any || s.left_out.empty();
    if (!any)
        throw Error(ErrorKind::Refused, "nothing to roll back in " + show_name(env.name) +
                                            ": no service of today was "
                                            "deployed as of " +
                                            out.target_id);
    return out;
}

nlohmann::json EnvironmentRollback::to_json() const {
    nlohmann::json list = nlohmann::json::array();
    for (const RestoredService& s : services) {
        nlohmann::json item = {{"service", s.name}, {"version_now", s.version_now}};
        if (!s.left_out.empty()) {
            item["left_out"] = s.left_out;
        } else {
            item["version"] = s.version;
            item["from_deployment"] = s.from_deployment;
            item["changed"] = s.changed;
        }
        list.push_back(item);
    }
    return {{"to", target_id}, {"version", target_version}, {"services", list}};
}

RollbackPlan plan_environment_rollback(StateStore& store, const State& state,
                                       const Environment& env, const std::optional<std::string>& to,
                                       bool force_build) {
    EnvironmentRollback rollback = find_environment_rollback(load_history(store, env.id), env, to);
    // The restored services by name; the others are left out with the reason the plan shows.
    std::vector<std::string> names;
    std::unordered_set<std::string> left;
    for (const RestoredService& s : rollback.services) {
        if (s.left_out.empty()) names.push_back(s.name);
        if (!s.left_out.empty() && s.left_out != "skipped") left.insert(s.name);
    }
    Plan plan = make_plan(rollback.restored, {left.empty() ? std::vector<std::string>{} : names});
    for (PlannedStage& stage : plan.stages) {
        for (std::string& line : stage.left_out) {
            const std::string name = line.substr(0, line.rfind(" ("));
            if (left.count(name))
                line = name + " (no successful deployment as of " + rollback.target_id +
                       ": left as it is)";
        }
    }
    for (PlannedService& ps : plan.services) {
        for (const RestoredService& s : rollback.services)
            if (s.id == ps.service.id) ps.version = s.version;
    }
    if (!force_build) mark_reused_builds(plan, store, state, rollback.target_version);
    return {std::move(plan), std::move(rollback)};
}

}  // namespace depctl
