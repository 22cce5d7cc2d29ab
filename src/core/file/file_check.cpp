// The schema check of a pipeline file: the document against the table of keys.
#include "core/file/file_check.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "depctl/names.hpp"

namespace depctl::file {
namespace {

std::string join_path(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
}

bool is_null(const YAML::Node& node) {
    return !node.IsDefined() || node.IsNull();
}

bool is_integer(const std::string& text) {
    long long value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    return ec == std::errc() && ptr == end && !text.empty();
}

bool is_number(const std::string& text) {
    if (text.empty()) return false;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    return end && *end == '\0' && std::isfinite(value) && text.find_first_of("xXnN") == text.npos;
}

const char* type_words(KeyType type) {
    switch (type) {
        case KeyType::string:
            return "a string";
        case KeyType::integer:
            return "a whole number";
        case KeyType::number:
            return "a number";
        case KeyType::boolean:
            return "true or false";
        case KeyType::enumeration:
            return "one of the listed values";
        case KeyType::string_list:
            return "a list of names";
        case KeyType::variables:
        case KeyType::secrets:
            return "a map of KEY: value";
        case KeyType::object:
        case KeyType::named_objects:
            return "a map";
        case KeyType::object_list:
            return "a list";
        case KeyType::depends_on:
            return "a list of service names or a map of name: condition";
    }
    return "a value";
}

void check_value(const Where& w, const YAML::Node& node, const KeySpec& spec,
                 const std::string& path);

void check_object(const Where& w, const YAML::Node& node, const std::vector<KeySpec>& keys,
                  const std::string& path) {
    if (is_null(node)) return;  // `development:` is an empty map
    if (!node.IsMap()) refuse_at(w, node, path, "expected a map of keys");
    std::vector<std::string> known;
    for (const auto& key : keys) known.emplace_back(key.name);
    for (const auto& entry : node) {
        if (!entry.first.IsScalar()) refuse_at(w, entry.first, path, "a key must be a plain name");
        const std::string name = entry.first.Scalar();
        const KeySpec* spec = find_key(keys, name);
        if (!spec) {
            refuse_at(w, entry.first, join_path(path, name), "unknown key " + show_name(name),
                      suggestion_hint(name, known));
        }
        check_value(w, entry.second, *spec, join_path(path, name));
    }
    for (const auto& key : keys) {
        if (key.required && !node[std::string(key.name)])
            refuse_at(w, node, path, "missing key \"" + std::string(key.name) + "\"");
    }
}

void check_scalar(const Where& w, const YAML::Node& node, const KeySpec& spec,
                  const std::string& path) {
    const auto wrong = [&] {
        refuse_at(w, node, path, std::string("expected ") + type_words(spec.type));
    };
    if (!node.IsScalar()) wrong();
    const std::string& text = node.Scalar();
    const bool plain = node.Tag() == "?";
    switch (spec.type) {
        case KeyType::string:
            if (plain && is_null(node)) wrong();
            break;
        case KeyType::integer:
            if (!is_integer(text)) wrong();
            if (spec.minimum && std::strtoll(text.c_str(), nullptr, 10) < *spec.minimum)
                refuse_at(w, node, path, text + " is out of range",
                          "the least allowed is " + std::to_string(int(*spec.minimum)));
            break;
        case KeyType::number:
            if (!is_number(text)) wrong();
            break;
        case KeyType::boolean:
            if (!yaml_bool(node)) wrong();
            break;
        case KeyType::enumeration: {
            for (const auto& value : spec.values)
                if (iequals(value, text)) return;
            std::vector<std::string> values(spec.values.begin(), spec.values.end());
            std::string list;
            for (const auto& v : values) list += (list.empty() ? "" : ", ") + v;
            refuse_at(
                w, node, path, "unknown value " + show_name(text),
                suggestion_hint(text, values) + (list.empty() ? "" : " (allowed: " + list + ")"));
        }
        default:
            break;
    }
}

void check_scalar_map(const Where& w, const YAML::Node& node, const KeySpec& spec,
                      const std::string& path) {
    if (is_null(node)) return;
    if (!node.IsMap()) refuse_at(w, node, path, std::string("expected ") + type_words(spec.type));
    for (const auto& entry : node) {
        if (!entry.first.IsScalar()) refuse_at(w, entry.first, path, "a key must be a plain name");
        const std::string sub = join_path(path, entry.first.Scalar());
        if (!entry.second.IsScalar() || is_null(entry.second))
            refuse_at(w, entry.second, sub, "expected a text value", "quote it: \"...\"");
        if (spec.type == KeyType::depends_on) {
            // A condition is an enumeration of the key's values (healthy, started, completed).
            check_scalar(w, entry.second, KeySpec{spec.name, KeyType::enumeration, {}, spec.values},
                         sub);
        }
    }
}

void check_value(const Where& w, const YAML::Node& node, const KeySpec& spec,
                 const std::string& path) {
    switch (spec.type) {
        case KeyType::object:
            return check_object(w, node, *spec.children, path);
        case KeyType::named_objects:
            if (is_null(node)) return;
            if (!node.IsMap()) refuse_at(w, node, path, "expected a map of name: {...}");
            for (const auto& entry : node) {
                if (!entry.first.IsScalar()) refuse_at(w, entry.first, path, "a name must be text");
                check_object(w, entry.second, *spec.children,
                             join_path(path, entry.first.Scalar()));
            }
            return;
        case KeyType::object_list:
        case KeyType::string_list: {
            if (is_null(node)) return;
            if (!node.IsSequence())
                refuse_at(w, node, path, std::string("expected ") + type_words(spec.type));
            std::size_t i = 0;
            for (const auto& item : node) {
                const std::string sub = path + "[" + std::to_string(i++) + "]";
                if (spec.type == KeyType::object_list) {
                    if (!item.IsMap()) refuse_at(w, item, sub, "expected a map of keys");
                    check_object(w, item, *spec.children, sub);
                } else if (!item.IsScalar() || is_null(item)) {
                    refuse_at(w, item, sub, "expected a name");
                }
            }
            return;
        }
        case KeyType::depends_on:
            if (node.IsSequence()) {
                return check_value(w, node, KeySpec{spec.name, KeyType::string_list, {}}, path);
            }
            [[fallthrough]];
        case KeyType::variables:
        case KeyType::secrets:
            return check_scalar_map(w, node, spec, path);
        default:
            return check_scalar(w, node, spec, path);
    }
}

}  // namespace

std::string Where::at(const YAML::Node& node, const YAML::Node& fallback) const {
    YAML::Mark mark = node.IsDefined() ? node.Mark() : YAML::Mark::null_mark();
    if (mark.is_null() && fallback.IsDefined()) mark = fallback.Mark();
    if (mark.is_null()) return *path;
    return *path + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

void refuse_at(const Where& where, const YAML::Node& node, const std::string& key_path,
               const std::string& what, const std::string& hint) {
    throw Error(ErrorKind::Refused,
                where.at(node) + ": " + (key_path.empty() ? "" : key_path + ": ") + what, hint);
}

void check_document(const Where& where, const YAML::Node& root) {
    if (!root.IsMap()) refuse_at(where, root, "", "expected a map with project, stages, services");
    check_object(where, root, top_level_keys(), "");
}

std::optional<bool> yaml_bool(const YAML::Node& node) {
    if (!node.IsScalar()) return std::nullopt;
    const std::string& t = node.Scalar();
    if (t == "true" || t == "True" || t == "TRUE") return true;
    if (t == "false" || t == "False" || t == "FALSE") return false;
    return std::nullopt;
}

}  // namespace depctl::file
