// Apply: the definition of a file laid over the state, objects matched by name, so ids,
// deployed versions, statuses and history stay where they were.
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "depctl/name_index.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/pipeline_file.hpp"
#include "depctl/state_fast_write.hpp"
#include "util/sha256.hpp"

namespace depctl {
namespace {

// The file's environment, with the ids (and deployed status) of the one it replaces.
Environment adopt(Environment wanted, const Environment* existing) {
    if (!existing) return wanted;
    std::unordered_map<std::string, std::string> ids;
    wanted.id = existing->id;
    const NameIndex<Stage> old_stages(existing->stages);
    const NameIndex<Service> old_services(existing->services);
    for (auto& stage : wanted.stages) {
        if (const Stage* old = old_stages.find(stage.name)) {
            ids[stage.id] = old->id;
            stage.id = old->id;
        }
    }
    for (auto& service : wanted.services) {
        if (const Service* old = old_services.find(service.name)) {
            ids[service.id] = old->id;
            service.id = old->id;
            service.current = old->current;
        }
    }
    const auto remap = [&](std::string& id) {
        if (auto it = ids.find(id); it != ids.end()) id = it->second;
    };
    for (auto& [type, stage_id] : wanted.default_stages) remap(stage_id);
    for (auto& service : wanted.services) {
        remap(service.stage_id);
        for (auto& dep : service.depends_on) remap(dep.id);
    }
    return wanted;
}

}  // namespace

std::string definition_fingerprint(const State& state) {
    // The same bytes either way (a unit test compares them); the tree is for what the fast
    // writer refuses (a string that is not UTF-8), whose error stays the library's.
    if (const auto bytes = write_definition_compact(state)) return sha256_hex(*bytes);
    nlohmann::json doc = to_json(state);
    doc["project"].erase("applied_file_sha256");
    for (auto& env : doc["environments"])
        for (auto& service : env["services"]) service.erase("current");
    return sha256_hex(doc.dump());
}

bool in_sync_with_file(const State& state, std::string_view file_bytes) {
    const std::string& mark = state.project.applied_file_sha256;
    const auto colon = mark.find(':');
    if (colon == std::string::npos || mark.compare(0, colon, sha256_hex(file_bytes)) != 0)
        return false;
    return mark.compare(colon + 1, std::string::npos, definition_fingerprint(state)) == 0;
}

State applied_state(const State& current, const PipelineFile& file,
                    const std::optional<std::string>& only_environment) {
    State result = current;
    result.project.applied_file_sha256 = file.sha256;
    if (only_environment) {
        const Environment& wanted = find_environment(file.desired, *only_environment);
        Environment adopted = adopt(wanted, current.find_environment_by_name(wanted.name));
        for (auto& env : result.environments) {
            if (env.id == adopted.id) {
                env = std::move(adopted);
                return result;
            }
        }
        result.environments.push_back(std::move(adopted));
        return result;
    }
    result.project.name = file.desired.project.name;
    result.environments.clear();
    std::unordered_map<std::string, std::string> env_ids;
    for (const auto& wanted : file.desired.environments) {
        result.environments.push_back(adopt(wanted, current.find_environment_by_name(wanted.name)));
        env_ids[wanted.id] = result.environments.back().id;
    }
    result.project.enforced_order.clear();
    for (const auto& id : file.desired.project.enforced_order)
        result.project.enforced_order.push_back(env_ids.at(id));
    // The whole file is now the definition: mark it so, for diff's fast path.
    result.project.applied_file_sha256 = file.sha256 + ":" + definition_fingerprint(result);
    return result;
}

}  // namespace depctl
