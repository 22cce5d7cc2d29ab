#include "core/file/yaml_out.hpp"

#include <nlohmann/json.hpp>

#include "depctl/names.hpp"

namespace depctl::file {
namespace {

bool plain_safe(const std::string& t) {
    if (t.empty() || t.size() > 200) return false;
    static const char* words[] = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"};
    for (const char* w : words)
        if (iequals(t, w)) return false;
    const unsigned char first = static_cast<unsigned char>(t[0]);
    if (!(std::isalpha(first) || first == '_' || first == '/' || first == '.' || first == '$'))
        return false;
    if (t.back() == ' ' || t.back() == ':') return false;
    for (std::size_t i = 0; i < t.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(t[i]);
        if (c < 0x20 || c >= 0x7f) return false;
        if (std::string_view("#,[]{}&*!|>'\"%@`").find(char(c)) != std::string_view::npos)
            return false;
        if (c == ':' && i + 1 < t.size() && t[i + 1] == ' ') return false;
    }
    return true;
}

bool is_flow(const YamlValue& v) {
    if (v.kind == YamlValue::Kind::map) return v.entries.empty();
    if (v.kind != YamlValue::Kind::list) return true;
    for (const auto& item : v.items)
        if (item.kind == YamlValue::Kind::map || item.kind == YamlValue::Kind::list) return false;
    return true;
}

std::string flow(const YamlValue& v) {
    switch (v.kind) {
        case YamlValue::Kind::scalar:
            return v.value;
        case YamlValue::Kind::text:
            return yaml_scalar(v.value);
        case YamlValue::Kind::map:
            return "{}";
        case YamlValue::Kind::list: {
            std::string out = "[";
            for (std::size_t i = 0; i < v.items.size(); ++i)
                out += (i ? ", " : "") + flow(v.items[i]);
            return out + "]";
        }
    }
    return {};
}

void write(std::string& out, const YamlValue& v, int indent);

// A comment stays on its line: control characters (a multi-line command) become spaces.
std::string one_line(std::string text) {
    for (char& c : text)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return text;
}

void write_entries(std::string& out, const YamlValue& v, int indent, bool first_inline) {
    const std::string pad(indent, ' ');
    bool first = true;
    for (const auto& [key, value] : v.entries) {
        if (!(first && first_inline))
            for (const auto& comment : value.comments) out += pad + "# " + one_line(comment) + "\n";
        out += (first && first_inline ? "" : pad) + yaml_scalar(key) + ":";
        first = false;
        if (is_flow(value)) {
            out += " " + flow(value) + "\n";
        } else {
            out += "\n";
            write(out, value, indent + 2);
        }
    }
}

void write(std::string& out, const YamlValue& v, int indent) {
    if (v.kind == YamlValue::Kind::map) return write_entries(out, v, indent, false);
    const std::string pad(indent, ' ');
    for (const auto& item : v.items) {
        if (item.kind == YamlValue::Kind::map && !item.entries.empty()) {
            out += pad + "- ";
            write_entries(out, item, indent + 2, true);
        } else {
            out += pad + "- " + flow(item) + "\n";
        }
    }
}

}  // namespace

std::string yaml_scalar(const std::string& text) {
    return plain_safe(text) ? text : nlohmann::json(text).dump();
}

std::string write_yaml(const YamlValue& root) {
    std::string out;
    write(out, root, 0);
    return out;
}

}  // namespace depctl::file
