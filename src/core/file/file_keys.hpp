// The one table of the pipeline file's keys. The parser checks a document against it and
// `depctl schema` prints it as a JSON Schema, so the two cannot drift apart.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace depctl::file {

enum class KeyType {
    string,
    integer,
    number,         // seconds, may have a fraction
    boolean,        // true / false
    enumeration,    // one of `values`, any letter case
    string_list,    // [a, b]
    variables,      // { KEY: value }: a scalar value
    secrets,        // { KEY: env:VAR | file:PATH }
    object,         // `children`
    named_objects,  // { name: object of `children` }
    object_list,    // [ object of `children` ]
    depends_on,     // [name] or { name: condition }, a condition one of `values`
};

struct KeySpec {
    std::string_view name;
    KeyType type;
    std::string_view description;
    std::vector<std::string_view> values = {};       // enumeration
    const std::vector<KeySpec>* children = nullptr;  // object, named_objects, object_list
    bool required = false;
    std::optional<double> minimum = std::nullopt;
};

// The document's top level: project, enforced_order, stages, services, environments.
const std::vector<KeySpec>& top_level_keys();
// The keys of one service (in the order export writes them).
const std::vector<KeySpec>& service_keys();
const std::vector<KeySpec>& health_keys();
const std::vector<KeySpec>& stage_keys();
const std::vector<KeySpec>& environment_keys();

const KeySpec* find_key(const std::vector<KeySpec>& keys, std::string_view name);

}  // namespace depctl::file
