#include "core/deploy/record_outcome.hpp"

#include <nlohmann/json.hpp>

#include "core/record/apply_record.hpp"
#include "depctl/error.hpp"

namespace depctl {
namespace {

constexpr std::size_t k_named_services = 8;

// "api, web and 3 more now run 2.1.0": what the operator must know when the record is lost.
// An environment rollback gives each service its own version: "api at 1.2, web at 1.1".
std::string live_versions(const DeploymentRecord& record) {
    std::vector<const ServiceRecord*> live;
    bool one_version = true;
    for (const StageRecord& stage : record.stages) {
        for (const ServiceRecord& s : stage.services) {
            if (s.status != ServiceStatus::deployed) continue;
            live.push_back(&s);
            one_version = one_version && record.version_of(s) == record.version;
        }
    }
    if (live.empty()) return "no service changed version";
    std::string text;
    for (std::size_t i = 0; i < live.size() && i < k_named_services; ++i) {
        text += (i == 0 ? "" : ", ") + live[i]->name;
        if (!one_version) text += " at " + record.version_of(*live[i]);
    }
    if (live.size() > k_named_services)
        text += " and " + std::to_string(live.size() - k_named_services) + " more";
    if (!one_version) return text + (live.size() > k_named_services ? " changed version" : "");
    return text + (live.size() == 1 ? " now runs " : " now run ") + record.version;
}

}  // namespace

bool record_outcome(StateStore& store, const DeploymentRecord& record, std::int64_t fencing_token) {
    const std::string env = record.environment_id;
    bool held = false;
    try {
        held = store.commit_deployment(
            env, record.to_json(), [&](State& s) { apply_record_to_state(record, s); },
            fencing_token);
    } catch (const std::exception& e) {  // depctl's and util's errors alike
        const auto* known = dynamic_cast<const Error*>(&e);
        throw Error(ErrorKind::Io,
                    "deployment " + record.id + " ran and ended " +
                        std::string(to_string(record.status)) + " (" + live_versions(record) +
                        "), but recording it failed: " + e.what(),
                    known && !known->hint().empty()
                        ? known->hint()
                        : "the next deploy or stop of this environment records it as "
                          "INTERRUPTED; the versions above are what runs");
    }
    if (!held) return false;
    try {
        store.clear_running_record(env);
    } catch (const std::exception&) {
        // Recorded in full: the next lock holder finds it in the history and clears it.
    }
    return true;
}

}  // namespace depctl
