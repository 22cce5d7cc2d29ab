// A small ordered YAML tree and its writer, for export and compose import: keys stay in
// the order they were put, strings are quoted only where YAML needs it.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace depctl::file {

struct YamlEntry;

struct YamlValue {
    enum class Kind { scalar, text, list, map } kind = Kind::map;
    std::string value;  // scalar: written as is (numbers, booleans); text: quoted if needed
    std::vector<YamlValue> items;
    std::vector<YamlEntry> entries;     // a struct, not std::pair: see YamlEntry
    std::vector<std::string> comments;  // written above the value (map entries only)

    // Defined below the class, where YamlEntry is complete.
    static YamlValue raw(std::string v);
    static YamlValue text(std::string v);
    static YamlValue list();
    static YamlValue map();

    YamlValue& put(const std::string& key, YamlValue v);
    const YamlValue* find(const std::string& key) const;
    bool operator==(const YamlValue& o) const;
};

// One key of a map. Not a std::pair: clang 14 with libstdc++ 12 refuses
// std::pair<std::string, YamlValue> while YamlValue is still incomplete.
struct YamlEntry {
    std::string first;
    YamlValue second;
    bool operator==(const YamlEntry& o) const { return first == o.first && second == o.second; }
};

inline YamlValue YamlValue::raw(std::string v) {
    YamlValue out;
    out.kind = Kind::scalar;
    out.value = std::move(v);
    return out;
}
inline YamlValue YamlValue::text(std::string v) {
    YamlValue out;
    out.kind = Kind::text;
    out.value = std::move(v);
    return out;
}
inline YamlValue YamlValue::list() {
    YamlValue out;
    out.kind = Kind::list;
    return out;
}
inline YamlValue YamlValue::map() {
    return YamlValue{};
}

inline YamlValue& YamlValue::put(const std::string& key, YamlValue v) {
    entries.push_back(YamlEntry{key, std::move(v)});
    return entries.back().second;
}
inline const YamlValue* YamlValue::find(const std::string& key) const {
    for (const auto& entry : entries)
        if (entry.first == key) return &entry.second;
    return nullptr;
}
inline bool YamlValue::operator==(const YamlValue& o) const {
    return kind == o.kind && value == o.value && items == o.items && entries == o.entries;
}

// A string as a YAML scalar: plain when that reads back as the same string, else quoted.
std::string yaml_scalar(const std::string& text);
// The document, block style; lists of scalars and empty maps in flow style.
std::string write_yaml(const YamlValue& root);

}  // namespace depctl::file
