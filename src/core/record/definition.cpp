#include "core/record/definition.hpp"

#include <nlohmann/json.hpp>
#include <set>

namespace depctl {
namespace {

// What is not the definition: recorded beside it, or the environment's layout.
constexpr const char* k_not_definition[] = {"id",      "name",       "type",   "stage_id",
                                            "skipped", "depends_on", "current"};

}  // namespace

nlohmann::json definition_snapshot(const Service& service) {
    nlohmann::json snapshot = to_json(service);
    for (const char* key : k_not_definition) snapshot.erase(key);
    return snapshot;
}

Service restore_definition(const Service& now, const nlohmann::json& snapshot) {
    nlohmann::json merged = snapshot.is_object() ? snapshot : nlohmann::json::object();
    const nlohmann::json today = to_json(now);
    for (const char* key : k_not_definition) {
        merged.erase(key);
        if (today.contains(key)) merged[key] = today[key];
    }
    return parse_service(merged);
}

std::vector<std::string> definition_changes(const nlohmann::json& from, const nlohmann::json& to) {
    std::set<std::string> keys;
    for (const auto& item : from.items()) keys.insert(item.key());
    for (const auto& item : to.items()) keys.insert(item.key());
    std::vector<std::string> changed;
    for (const std::string& key : keys) {
        const auto a = from.find(key);
        const auto b = to.find(key);
        const bool in_a = a != from.end();
        const bool in_b = b != to.end();
        if (in_a != in_b || (in_a && *a != *b)) changed.push_back(key);
    }
    return changed;
}

}  // namespace depctl
