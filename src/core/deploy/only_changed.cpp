#include "core/deploy/only_changed.hpp"

#include <nlohmann/json.hpp>

#include "core/record/definition.hpp"
#include "depctl/history.hpp"
#include "depctl/record.hpp"

namespace depctl {
namespace {

// The deployments services' statuses came from, each read once.
class DeployedRecords {
public:
    DeployedRecords(StateStore& store, const std::string& environment_id)
        : m_store(store), m_environment_id(environment_id) {}

    const ServiceRecord* service(const std::string& deployment_id, const std::string& service_id,
                                 const DeploymentRecord** record) {
        auto it = m_records.find(deployment_id);
        if (it == m_records.end()) {
            std::optional<DeploymentRecord> found;
            const HistoryFilter filter{"\"id\":" + nlohmann::json(deployment_id).dump(), 1};
            for (auto& r : load_history(m_store, m_environment_id, filter))
                if (r.id == deployment_id) found = std::move(r);
            it = m_records.emplace(deployment_id, std::move(found)).first;
        }
        if (!it->second) return nullptr;
        *record = &*it->second;
        for (const StageRecord& stage : it->second->stages)
            for (const ServiceRecord& s : stage.services)
                if (s.id == service_id) return &s;
        return nullptr;
    }

private:
    StateStore& m_store;
    const std::string& m_environment_id;
    std::map<std::string, std::optional<DeploymentRecord>> m_records;
};

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

}  // namespace

ChangeVerdicts compare_with_deployed(StateStore& store, const Environment& env,
                                     const std::map<std::string, std::string>& own_versions,
                                     const std::string& version) {
    ChangeVerdicts verdicts;
    DeployedRecords records(store, env.id);
    for (const Service& s : env.services) {
        const auto own = own_versions.find(s.id);
        const std::string& wanted = own == own_versions.end() ? version : own->second;
        const auto changed = [&](std::string why) {
            verdicts.changed.emplace(s.id, std::move(why));
        };
        if (s.current.empty()) {
            changed("never deployed");
            continue;
        }
        if (s.current.status != to_string(ServiceStatus::deployed)) {
            changed("its status is " + s.current.status);
            continue;
        }
        if (s.current.version != wanted) {
            changed("version " + s.current.version + " -> " + wanted);
            continue;
        }
        const DeploymentRecord* record = nullptr;
        const ServiceRecord* then = records.service(s.current.deployment_id, s.id, &record);
        if (!then || !then->definition.is_object() || then->status != ServiceStatus::deployed) {
            changed("no definition recorded by its deployment " + s.current.deployment_id);
            continue;
        }
        const auto fields = definition_changes(then->definition, definition_snapshot(s));
        if (!fields.empty()) {
            changed("definition changed: " + joined(fields));
            continue;
        }
        verdicts.unchanged.emplace(s.id, "unchanged since " + record->id + ", version " + wanted);
    }
    return verdicts;
}

}  // namespace depctl
