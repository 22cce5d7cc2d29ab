// Reading a docker compose file for `import compose`: services, depends_on in every form,
// healthchecks, profiles; YAML anchors and merge keys (`<<: *defaults`) resolved, `x-`
// extensions ignored as compose ignores them, `include`/`extends` refused by name.
#include <algorithm>
#include <cmath>
#include <optional>

#include "core/file/compose_model.hpp"
#include "core/file/file_check.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"

namespace depctl::file {
namespace {

const char* k_flatten_hint =
    "`docker compose config > flat.yaml` resolves it; then import flat.yaml";

bool is_extension(const std::string& key) {
    return key.rfind("x-", 0) == 0;
}

// A map with its merge keys (`<<: *anchor` or `<<: [*a, *b]`) resolved: its own keys win,
// then the merged maps in order. yaml-cpp 0.7 keeps `<<` as a plain key.
YAML::Node merged(const YAML::Node& map) {
    if (!map.IsMap() || !map["<<"]) return map;
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& kv : map)
        if (kv.first.Scalar() != "<<") out[kv.first] = kv.second;
    const YAML::Node sources = map["<<"];
    std::vector<YAML::Node> list;
    if (sources.IsSequence())
        for (const auto& s : sources) list.push_back(s);
    else
        list.push_back(sources);
    for (const auto& source : list) {
        const YAML::Node resolved = merged(source);
        if (!resolved.IsMap()) continue;
        for (const auto& kv : resolved) {
            const YAML::Node& lookup = out;  // const: operator[] must not add the key
            if (!lookup[kv.first.Scalar()]) out[kv.first] = kv.second;
        }
    }
    return out;
}

std::string service_path(const ComposeService& s, const std::string& key) {
    return "services." + s.name + (key.empty() ? "" : "." + key);
}

double duration_at(const Where& w, const YAML::Node& node, const std::string& path) {
    const auto seconds = node.IsScalar() ? compose_duration(node.Scalar()) : std::nullopt;
    if (!seconds)
        refuse_at(w, node, path, "expected a duration like 10s, 1m30s or 500ms",
                  "compose's durations: a number with a unit (us, ms, s, m, h), repeated");
    return *seconds;
}

void read_healthcheck(const Where& w, const YAML::Node& node, ComposeService& s) {
    const std::string path = service_path(s, "healthcheck");
    if (!node.IsMap()) refuse_at(w, node, path, "expected a map (test, interval, retries, ...)");
    ComposeHealth& h = s.health;
    h.present = true;
    for (const auto& kv : node) {
        const std::string key = kv.first.Scalar();
        const std::string p = path + "." + key;
        if (key == "disable") {
            if (yaml_bool(kv.second).value_or(false)) h.disabled = true;
        } else if (key == "test") {
            if (kv.second.IsScalar()) {
                h.test = "CMD-SHELL " + kv.second.Scalar();
            } else if (kv.second.IsSequence() && kv.second.size() > 0) {
                const std::string form = kv.second[0].Scalar();
                if (form == "NONE") {
                    h.disabled = true;
                } else if (form == "CMD" || form == "CMD-SHELL") {
                    h.test = form;
                    for (std::size_t i = 1; i < kv.second.size(); ++i)
                        h.test += " " + kv.second[i].Scalar();
                } else {
                    refuse_at(w, kv.second[0], p, "unknown test form " + show_name(form),
                              "compose's forms: [CMD, ...], [CMD-SHELL, ...], [NONE] or a string");
                }
            } else {
                refuse_at(w, kv.second, p, "expected a string or a list like [CMD, ...]");
            }
        } else if (key == "interval") {
            h.interval_s = duration_at(w, kv.second, p);
        } else if (key == "timeout") {
            h.timeout_s = duration_at(w, kv.second, p);
        } else if (key == "start_period") {
            h.start_period_s = duration_at(w, kv.second, p);
        } else if (key == "start_interval") {
            duration_at(w, kv.second, p);  // docker's own probe rhythm; checked, kept by compose
        } else if (key == "retries") {
            const long long n = std::strtoll(kv.second.Scalar().c_str(), nullptr, 10);
            if (!kv.second.IsScalar() || n < 1 || std::to_string(n) != kv.second.Scalar())
                refuse_at(w, kv.second, p, "expected a whole number of at least 1");
            h.retries = int(std::min<long long>(n, 1'000'000));
        } else if (!is_extension(key)) {
            refuse_at(w, kv.first, p, "unknown healthcheck key " + show_name(key),
                      suggestion_hint(key, {"test", "interval", "timeout", "retries",
                                            "start_period", "start_interval", "disable"}));
        }
    }
    if (h.disabled) h.present = false;
}

void read_edge(const Where& w, const YAML::Node& name, const YAML::Node& body, ComposeService& s) {
    ComposeEdge edge{name.Scalar(), "service_started", true, false, name};
    const std::string p = service_path(s, "depends_on." + edge.name);
    const YAML::Node map = merged(body);
    if (map.IsDefined() && !map.IsNull() && !map.IsMap())
        refuse_at(w, body, p, "expected a map (condition, required, restart)");
    if (map.IsMap()) {
        for (const auto& kv : map) {
            const std::string key = kv.first.Scalar();
            if (key == "condition") {
                edge.condition = kv.second.Scalar();
                static const std::vector<std::string> known = {"service_started", "service_healthy",
                                                               "service_completed_successfully"};
                if (std::find(known.begin(), known.end(), edge.condition) == known.end())
                    refuse_at(w, kv.second, p + ".condition",
                              "unknown condition " + show_name(edge.condition),
                              suggestion_hint(edge.condition, known));
            } else if (key == "required" || key == "restart") {
                const auto flag = yaml_bool(kv.second);
                if (!flag) refuse_at(w, kv.second, p + "." + key, "expected true or false");
                (key == "required" ? edge.required : edge.restart) = *flag;
            } else if (!is_extension(key)) {
                refuse_at(w, kv.first, p + "." + key, "unknown depends_on key " + show_name(key),
                          suggestion_hint(key, {"condition", "required", "restart"}));
            }
        }
    }
    s.depends_on.push_back(std::move(edge));
}

void read_depends_on(const Where& w, const YAML::Node& node, ComposeService& s) {
    if (node.IsSequence()) {
        for (const auto& item : node) {
            if (!item.IsScalar())
                refuse_at(w, item, service_path(s, "depends_on"), "expected a service name");
            read_edge(w, item, YAML::Node(), s);
        }
    } else if (node.IsMap()) {
        for (const auto& kv : node) read_edge(w, kv.first, kv.second, s);
    } else if (!node.IsNull()) {
        refuse_at(w, node, service_path(s, "depends_on"),
                  "expected a list of services or a map of service: {condition: ...}");
    }
}

// "environment (A, B)": the variable names, never their values.
std::string variable_names(const YAML::Node& node) {
    std::string names;
    auto add = [&names](std::string name) {
        name = name.substr(0, name.find('='));
        names += (names.empty() ? "" : ", ") + name;
    };
    if (node.IsSequence())
        for (const auto& item : node) add(item.Scalar());
    else if (node.IsMap())
        for (const auto& kv : node) add(kv.first.Scalar());
    return names.empty() ? "environment" : "environment (" + names + ")";
}

std::string env_files(const YAML::Node& node) {
    std::string files;
    auto add = [&files](const std::string& f) { files += (files.empty() ? "" : ", ") + f; };
    if (node.IsScalar()) add(node.Scalar());
    if (node.IsSequence())
        for (const auto& item : node) add(item.IsMap() ? item["path"].Scalar() : item.Scalar());
    return files.empty() ? "env_file" : "env_file (" + files + ")";
}

ComposeService read_service(const Where& w, const YAML::Node& name, const YAML::Node& raw) {
    ComposeService s;
    s.name = name.Scalar();
    s.name_node = name;
    const YAML::Node body = merged(raw);
    if (!body.IsMap() && !body.IsNull())
        refuse_at(w, raw, service_path(s, ""), "expected a map of compose keys");
    if (!body.IsMap()) return s;
    for (const auto& kv : body) {
        const std::string key = kv.first.Scalar();
        if (key == "extends")
            refuse_at(w, kv.first, service_path(s, key),
                      "`extends` is not supported by import compose", k_flatten_hint);
        if (key == "image")
            s.image = kv.second.Scalar();
        else if (key == "build")
            s.build = true;
        else if (key == "depends_on")
            read_depends_on(w, kv.second, s);
        else if (key == "healthcheck")
            read_healthcheck(w, merged(kv.second), s);
        else if (key == "profiles")
            for (const auto& p : kv.second) s.profiles.push_back(p.Scalar());
        else if (key == "environment")
            s.left_to_compose.push_back(variable_names(kv.second));
        else if (key == "env_file")
            s.left_to_compose.push_back(env_files(kv.second));
        else if (!is_extension(key))
            s.left_to_compose.push_back(key);
    }
    return s;
}

void check_references(const Where& w, const ComposeFile& file) {
    std::vector<std::string> names;
    for (const auto& s : file.services) names.push_back(s.name);
    for (const auto& s : file.services)
        for (const auto& edge : s.depends_on)
            if (std::find(names.begin(), names.end(), edge.name) == names.end())
                refuse_at(w, edge.node, service_path(s, "depends_on"),
                          "service " + show_name(s.name) + " depends on undefined service " +
                              show_name(edge.name),
                          suggestion_hint(edge.name, names));
}

}  // namespace

std::optional<double> compose_duration(std::string_view text) {
    if (text == "0") return 0.0;
    double total = 0;
    std::size_t i = 0;
    if (text.empty()) return std::nullopt;
    while (i < text.size()) {
        const std::size_t start = i;
        while (i < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
            ++i;
        if (i == start) return std::nullopt;
        const std::string number(text.substr(start, i - start));
        if (number.find('.') != number.rfind('.')) return std::nullopt;
        const std::size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        const std::string_view unit = text.substr(unit_start, i - unit_start);
        double scale = 0;
        if (unit == "h")
            scale = 3600;
        else if (unit == "m")
            scale = 60;
        else if (unit == "s")
            scale = 1;
        else if (unit == "ms")
            scale = 1e-3;
        else if (unit == "us")
            scale = 1e-6;
        else if (unit == "ns")
            scale = 1e-9;
        else
            return std::nullopt;
        total += std::strtod(number.c_str(), nullptr) * scale;
    }
    if (!std::isfinite(total)) return std::nullopt;
    return total;
}

ComposeFile read_compose(const std::string& path, std::string_view text,
                         const std::string& default_project) {
    const Where w{&path};
    YAML::Node loaded;
    try {
        loaded = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        throw Error(ErrorKind::Refused, path + ":" + std::to_string(e.mark.line + 1) + ":" +
                                            std::to_string(e.mark.column + 1) +
                                            ": not valid YAML: " + e.msg);
    }
    const YAML::Node& root = loaded;
    if (!root.IsMap()) refuse_at(w, root, "", "expected a compose file (a map with `services`)");
    ComposeFile file;
    file.project = root["name"] ? root["name"].Scalar() : default_project;
    for (const auto& kv : root) {
        const std::string key = kv.first.Scalar();
        if (key == "include")
            refuse_at(w, kv.first, key, "`include` is not supported by import compose",
                      k_flatten_hint);
        if (key == "version")
            file.notes.push_back("top-level `version` is obsolete in compose; ignored");
        else if (key != "services" && key != "name" && !is_extension(key))
            file.notes.push_back("top-level `" + key + "` is left to docker compose");
    }
    const YAML::Node services = root["services"];
    if (!services || !services.IsMap() || services.size() == 0)
        refuse_at(w, services ? services : root, "services", "no services to import",
                  "a compose file lists its containers under `services:`");
    for (const auto& kv : services) file.services.push_back(read_service(w, kv.first, kv.second));
    check_references(w, file);
    return file;
}

}  // namespace depctl::file
