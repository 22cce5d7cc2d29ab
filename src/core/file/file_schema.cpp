// `depctl schema`: the table of keys as a JSON Schema (draft 2020-12), for editors.
#include <nlohmann/json.hpp>

#include "core/file/file_keys.hpp"
#include "depctl/pipeline_file.hpp"

namespace depctl {
namespace {

using file::KeySpec;
using file::KeyType;
using nlohmann::json;

json object_schema(const std::vector<KeySpec>& keys, bool type_required);

// The file accepts an enumeration's values in lower and upper case: both are listed.
json enum_values(const KeySpec& key) {
    json values = json::array();
    for (const auto& v : key.values) {
        std::string upper(v);
        for (auto& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
        values.push_back(v);
        values.push_back(upper);
    }
    return values;
}

json value_schema(const KeySpec& key, bool top_level) {
    json s;
    switch (key.type) {
        case KeyType::string:
            s = {{"type", "string"}};
            break;
        case KeyType::integer:
            s = {{"type", "integer"}};
            break;
        case KeyType::number:
            s = {{"type", "number"}, {"exclusiveMinimum", 0}};
            break;
        case KeyType::boolean:
            s = {{"type", "boolean"}};
            break;
        case KeyType::enumeration:
            s = {{"type", "string"}, {"enum", enum_values(key)}};
            break;
        case KeyType::string_list:
            s = {{"type", "array"}, {"items", {{"type", "string"}}}, {"uniqueItems", true}};
            break;
        case KeyType::variables:
            s = {{"type", "object"},
                 {"propertyNames", {{"pattern", "^[A-Za-z_][A-Za-z0-9_]*$"}}},
                 {"additionalProperties", {{"type", {"string", "number", "boolean"}}}}};
            break;
        case KeyType::secrets:
            s = {{"type", "object"},
                 {"propertyNames", {{"pattern", "^[A-Za-z_][A-Za-z0-9_]*$"}}},
                 {"additionalProperties", {{"type", "string"}, {"pattern", "^(env:|file:).+"}}}};
            break;
        case KeyType::object:
            s = object_schema(*key.children, false);
            break;
        case KeyType::named_objects:
            // A shared service needs its type; an environment's override does not.
            s = {{"type", "object"},
                 {"additionalProperties",
                  object_schema(*key.children, top_level && key.name == "services")}};
            break;
        case KeyType::object_list:
            s = {{"type", "array"}, {"items", object_schema(*key.children, false)}};
            break;
        case KeyType::depends_on:
            s = {{"oneOf",
                  {{{"type", "array"}, {"items", {{"type", "string"}}}},
                   {{"type", "object"}, {"additionalProperties", {{"enum", enum_values(key)}}}}}}};
            break;
    }
    if (key.minimum) s["minimum"] = *key.minimum;
    s["description"] = std::string(key.description);
    return s;
}

json object_schema(const std::vector<KeySpec>& keys, bool type_required) {
    json properties = json::object();
    json required = json::array();
    for (const auto& key : keys) {
        properties[std::string(key.name)] = value_schema(key, false);
        if (key.required || (type_required && key.name == "type")) required.push_back(key.name);
    }
    json s = {{"type", "object"}, {"properties", properties}, {"additionalProperties", false}};
    if (!required.empty()) s["required"] = required;
    return s;
}

}  // namespace

nlohmann::json pipeline_file_schema() {
    json properties = json::object();
    json required = json::array();
    for (const auto& key : file::top_level_keys()) {
        properties[std::string(key.name)] = value_schema(key, true);
        if (key.required) required.push_back(key.name);
    }
    return {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
            {"$id", "https://depctl.dev/schema/depctl.schema.json"},
            {"title", "depctl pipeline file (depctl.yaml)"},
            {"type", "object"},
            {"properties", properties},
            {"required", required},
            {"additionalProperties", false}};
}

}  // namespace depctl
