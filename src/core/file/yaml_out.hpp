// A small ordered YAML tree and its writer, for export and compose import: keys stay in
// the order they were put, strings are quoted only where YAML needs it.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace depctl::file {

struct YamlValue {
    enum class Kind { scalar, text, list, map } kind = Kind::map;
    std::string value;  // scalar: written as is (numbers, booleans); text: quoted if needed
    std::vector<YamlValue> items;
    std::vector<std::pair<std::string, YamlValue>> entries;
    std::vector<std::string> comments;  // written above the value (map entries only)

    static YamlValue raw(std::string v) { return {Kind::scalar, std::move(v), {}, {}, {}}; }
    static YamlValue text(std::string v) { return {Kind::text, std::move(v), {}, {}, {}}; }
    static YamlValue list() { return {Kind::list, {}, {}, {}, {}}; }
    static YamlValue map() { return {Kind::map, {}, {}, {}, {}}; }

    YamlValue& put(const std::string& key, YamlValue v) {
        entries.emplace_back(key, std::move(v));
        return entries.back().second;
    }
    const YamlValue* find(const std::string& key) const {
        for (const auto& [k, v] : entries)
            if (k == key) return &v;
        return nullptr;
    }
    bool operator==(const YamlValue& o) const {
        return kind == o.kind && value == o.value && items == o.items && entries == o.entries;
    }
};

// A string as a YAML scalar: plain when that reads back as the same string, else quoted.
std::string yaml_scalar(const std::string& text);
// The document, block style; lists of scalars and empty maps in flow style.
std::string write_yaml(const YamlValue& root);

}  // namespace depctl::file
