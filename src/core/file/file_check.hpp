// Checking a YAML document against the table of keys, with positions for messages.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "core/file/file_keys.hpp"
#include "depctl/error.hpp"

namespace depctl::file {

// Where a node is, for messages: "depctl.yaml:12:5".
struct Where {
    const std::string* path;
    std::string at(const YAML::Node& node, const YAML::Node& fallback = {}) const;
};

// Throws Error{Refused} "WHERE: KEYPATH: what" with `hint`.
[[noreturn]] void refuse_at(const Where& where, const YAML::Node& node, const std::string& key_path,
                            const std::string& what, const std::string& hint = {});

// Checks `root` against top_level_keys(): unknown keys (with a did-you-mean), wrong types,
// missing required keys.
void check_document(const Where& where, const YAML::Node& root);

// A YAML 1.2 boolean: true/True/TRUE/false/False/FALSE.
std::optional<bool> yaml_bool(const YAML::Node& node);

}  // namespace depctl::file
