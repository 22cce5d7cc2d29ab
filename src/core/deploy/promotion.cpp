#include "depctl/promotion.hpp"

#include <nlohmann/json.hpp>

#include "depctl/error.hpp"
#include "depctl/history.hpp"
#include "depctl/names.hpp"

namespace depctl {
namespace {

// What an environment of the enforced order has: its newest successful deployment (the
// version DESIGN §5 checks) and its newest deployment of any outcome (to explain a failed
// or cancelled attempt). Stops do not count: they deploy nothing.
struct DeploymentsOf {
    std::optional<DeploymentRecord> latest_successful;
    std::optional<DeploymentRecord>
        newer_failure;  // the newest deployment, when it did not succeed
};

DeploymentsOf deployments_of(StateStore& store, const std::string& environment_id) {
    DeploymentsOf found;
    auto records = load_history(store, environment_id);
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
        if (it->operation != DeploymentRecord::Operation::deploy) continue;
        if (it->status == DeploymentStatus::deployed) {
            found.latest_successful = std::move(*it);
            break;
        }
        if (!found.newer_failure) found.newer_failure = std::move(*it);
    }
    return found;
}

}  // namespace

std::string PromotionVerdict::message() const {
    if (allowed) return "allowed";
    std::string text = "enforced deployment order not satisfied: ";
    for (std::size_t i = 0; i < blocking.size(); ++i) text += (i ? "; " : "") + blocking[i];
    return text;
}

nlohmann::json PromotionVerdict::to_json() const {
    return {{"applies", applies}, {"allowed", allowed}, {"blocking", blocking}};
}

PromotionVerdict check_enforced_order(StateStore& store, const State& state,
                                      const Environment& target, const std::string& version) {
    PromotionVerdict verdict;
    const auto& order = state.project.enforced_order;
    std::size_t position = 0;
    while (position < order.size() && order[position] != target.id) ++position;
    if (position == order.size() || position == 0) return verdict;  // not listed, or first
    verdict.applies = true;
    for (std::size_t i = 0; i < position; ++i) {
        const Environment* earlier = state.find_environment_by_id(order[i]);
        if (!earlier) continue;
        const auto found = deployments_of(store, earlier->id);
        if (found.latest_successful && found.latest_successful->version == version) continue;
        std::string why = show_name(earlier->name);
        if (found.latest_successful) {
            why += " has " + found.latest_successful->version +
                   " as its latest successful deployment, not " + version;
        } else {
            why += " has no successful deployment (needs " + version + ")";
        }
        // A newer attempt that did not succeed is worth naming: it is usually the reason.
        if (found.newer_failure) {
            why += "; its latest deployment, of " + found.newer_failure->version + ", ended " +
                   std::string(to_string(found.newer_failure->status));
        }
        verdict.blocking.push_back(why);
    }
    verdict.allowed = verdict.blocking.empty();
    return verdict;
}

std::string rollback_version(StateStore& store, const Environment& env,
                             const std::optional<std::string>& wanted) {
    const auto records = load_history(store, env.id);
    std::vector<std::string> deployed;  // newest first, distinct
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
        if (it->operation != DeploymentRecord::Operation::deploy ||
            it->status != DeploymentStatus::deployed)
            continue;
        const std::string& version = it->version;
        if (std::find(deployed.begin(), deployed.end(), version) == deployed.end())
            deployed.push_back(version);
    }
    if (wanted) {
        if (std::find(deployed.begin(), deployed.end(), *wanted) != deployed.end()) return *wanted;
        throw Error(
            ErrorKind::Refused,
            "environment " + show_name(env.name) + " never had version " + show_name(*wanted) +
                " deployed",
            "--rollback --version takes a version from `depctl deployment list --status DEPLOYED`");
    }
    // The current version is what the newest deployment put there, successful or not.
    std::string current;
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
        if (it->operation == DeploymentRecord::Operation::deploy) {
            current = it->version;
            break;
        }
    }
    for (const auto& version : deployed) {
        if (version != current) return version;
    }
    throw Error(
        ErrorKind::Refused,
        "environment " + show_name(env.name) + " has no earlier successful version to roll back to",
        "see `depctl deployment list`");
}

}  // namespace depctl
