// diff: what apply would change, object by object, named the way the file names things.
#include <nlohmann/json.hpp>
#include <sstream>

#include "depctl/name_index.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline_file.hpp"

namespace depctl {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string quoted(const std::string& text) {
    return nlohmann::json(text).dump();
}

template <typename T>
std::string number(const std::optional<T>& value) {
    return value ? nlohmann::json(*value).dump() : std::string();
}

// A service's definition as file keys and shown values; unset keys are left out.
Fields service_fields(const Environment& env, const Service& s) {
    Fields f;
    const auto put = [&](const std::string& key, const std::string& value) {
        if (!value.empty()) f.emplace_back(key, value);
    };
    put("type", to_lower(to_string(s.type)));
    const Stage* stage = env.find_stage_by_id(s.stage_id);
    put("stage", stage ? quoted(stage->name) : "");
    put("workdir", s.workdir.empty() ? "" : quoted(s.workdir));
    put("version_from",
        s.version_from == VersionFrom::project ? "" : std::string(to_string(s.version_from)));
    put("build", s.build.empty() ? "" : quoted(s.build));
    put("release", s.release.empty() ? "" : quoted(s.release));
    put("deploy", s.deploy.empty() ? "" : quoted(s.deploy));
    put("stop", s.stop.empty() ? "" : quoted(s.stop));
    put("health.http", s.health.http.empty() ? "" : quoted(s.health.http));
    put("health.cmd", s.health.cmd.empty() ? "" : quoted(s.health.cmd));
    put("health.attempts", number(s.health.attempts));
    put("health.interval", number(s.health.interval_s));
    put("health.connect_timeout", number(s.health.connect_timeout_s));
    put("health.timeout", number(s.health.timeout_s));
    put("health.expect", s.health.expect.empty() ? "" : quoted(s.health.expect));
    put("health.start_period", number(s.health.start_period_s));
    for (const auto& [key, value] : s.env) put("env." + key, quoted(value));
    for (const auto& secret : s.secrets) put("secrets." + secret.key, quoted(secret.source));
    std::string deps;
    bool all_healthy = true;
    for (const Dependency& edge : s.depends_on) {
        const Service* dep = env.find_service_by_id(edge.id);
        deps += (deps.empty() ? "" : ", ") + (dep ? dep->name : edge.id);
        if (edge.condition != EdgeCondition::healthy) {
            all_healthy = false;
            deps += ": " + std::string(to_string(edge.condition));
        }
    }
    put("depends_on", deps.empty() ? "" : all_healthy ? "[" + deps + "]" : "{" + deps + "}");
    put("build_timeout", number(s.build_timeout_s));
    put("deploy_timeout", number(s.deploy_timeout_s));
    put("retries", number(s.retries));
    put("skip", s.skipped ? "true" : "");
    return f;
}

void diff_fields(std::vector<DefinitionChange>& out, const DefinitionChange& base,
                 const Fields& from, const Fields& to) {
    const auto find = [](const Fields& f, const std::string& key) -> const std::string* {
        for (const auto& [k, v] : f)
            if (k == key) return &v;
        return nullptr;
    };
    const auto emit = [&](const std::string& key, const std::string* a, const std::string* b) {
        DefinitionChange c = base;
        c.field = key;
        c.from = a ? *a : "(unset)";
        c.to = b ? *b : "(unset)";
        out.push_back(std::move(c));
    };
    for (const auto& [key, value] : from) {
        const std::string* other = find(to, key);
        if (!other || *other != value) emit(key, &value, other);
    }
    for (const auto& [key, value] : to)
        if (!find(from, key)) emit(key, nullptr, &value);
}

Fields stage_fields(const Stage& stage) {
    Fields f{{"description", quoted(stage.description)}};
    if (stage.max_parallel) f.emplace_back("max_parallel", number(stage.max_parallel));
    return f;
}

Fields environment_fields(const Environment& e) {
    Fields f{{"type", std::string(to_lower(to_string(e.type)))}};
    if (e.require_approval) f.emplace_back("require_approval", "true");
    if (!e.pre_deploy.empty()) f.emplace_back("pre_deploy", quoted(e.pre_deploy));
    if (!e.post_deploy.empty()) f.emplace_back("post_deploy", quoted(e.post_deploy));
    return f;
}

void diff_stages(std::vector<DefinitionChange>& out, const Environment& a, const Environment& b) {
    const NameIndex<Stage> in_a(a.stages), in_b(b.stages);
    std::vector<std::string> common_a, common_b;
    for (const auto& stage : a.stages) {
        const Stage* other = in_b.find(stage.name);
        if (!other) {
            out.push_back({'-', "stage", b.name, stage.name, "", "", ""});
            continue;
        }
        common_a.push_back(to_lower(stage.name));
        diff_fields(out, {'~', "stage", b.name, other->name, "", "", ""}, stage_fields(stage),
                    stage_fields(*other));
    }
    for (const auto& stage : b.stages) {
        if (!in_a.find(stage.name))
            out.push_back({'+', "stage", b.name, stage.name, "", "", ""});
        else
            common_b.push_back(to_lower(stage.name));
    }
    if (common_a == common_b) return;
    for (std::size_t i = 0; i < b.stages.size(); ++i) {
        const Stage* old = in_a.find(b.stages[i].name);
        if (!old) continue;
        const std::size_t was = a.stage_index(old->id);
        if (was != i)
            out.push_back({'^', "stage", b.name, b.stages[i].name, "position",
                           std::to_string(was + 1), std::to_string(i + 1)});
    }
}

void diff_environment(std::vector<DefinitionChange>& out, const Environment& a,
                      const Environment& b) {
    diff_fields(out, {'~', "environment", b.name, b.name, "", "", ""}, environment_fields(a),
                environment_fields(b));
    diff_stages(out, a, b);
    const NameIndex<Service> in_a(a.services), in_b(b.services);
    for (const auto& service : a.services) {
        const Service* other = in_b.find(service.name);
        if (!other)
            out.push_back({'-', "service", b.name, service.name, "", "", ""});
        else
            diff_fields(out, {'~', "service", b.name, other->name, "", "", ""},
                        service_fields(a, service), service_fields(b, *other));
    }
    for (const auto& service : b.services)
        if (!in_a.find(service.name))
            out.push_back({'+', "service", b.name, service.name, "", "", ""});
}

std::string names_of(const State& s, const std::vector<std::string>& ids) {
    std::string text;
    for (const auto& id : ids) {
        const Environment* env = s.find_environment_by_id(id);
        text += (text.empty() ? "" : ", ") + (env ? env->name : id);
    }
    return "[" + text + "]";
}

}  // namespace

std::vector<DefinitionChange> diff_definitions(const State& current, const State& target,
                                               const std::optional<std::string>& only) {
    std::vector<DefinitionChange> out;
    if (!only) {
        diff_fields(out, {'~', "project", "", target.project.name, "", "", ""},
                    {{"name", quoted(current.project.name)},
                     {"enforced_order", names_of(current, current.project.enforced_order)}},
                    {{"name", quoted(target.project.name)},
                     {"enforced_order", names_of(target, target.project.enforced_order)}});
    }
    for (const auto& env : current.environments) {
        if (only && !iequals(env.name, *only)) continue;
        const Environment* other = target.find_environment_by_name(env.name);
        if (!other)
            out.push_back({'-', "environment", env.name, env.name, "", "", ""});
        else
            diff_environment(out, env, *other);
    }
    for (const auto& env : target.environments) {
        if (only && !iequals(env.name, *only)) continue;
        if (!current.find_environment_by_name(env.name)) {
            out.push_back({'+', "environment", env.name, env.name, "", "", ""});
            Environment empty;
            empty.name = env.name;
            empty.type = env.type;
            diff_stages(out, empty, env);
            for (const auto& service : env.services)
                out.push_back({'+', "service", env.name, service.name, "", "", ""});
        }
    }
    return out;
}

std::string render_diff(const std::vector<DefinitionChange>& changes) {
    std::ostringstream text;
    for (const auto& c : changes) {
        const char* symbol = c.action == '^'   ? "\u2195"
                             : c.action == '+' ? "+"
                             : c.action == '-' ? "-"
                                               : "~";
        text << symbol << ' ' << c.kind << ' ' << show_name(c.name);
        if (c.kind == "stage" || c.kind == "service")
            text << " (in " << show_name(c.environment) << ")";
        if (!c.field.empty()) text << ": " << c.field << ' ' << c.from << " \u2192 " << c.to;
        text << '\n';
    }
    return text.str();
}

nlohmann::json diff_to_json(const std::vector<DefinitionChange>& changes) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : changes) {
        const char* action = c.action == '+'   ? "add"
                             : c.action == '-' ? "remove"
                             : c.action == '^' ? "move"
                                               : "change";
        nlohmann::json item = {{"action", action}, {"kind", c.kind}, {"name", c.name}};
        if (c.kind != "project") item["environment"] = c.environment;
        if (!c.field.empty()) {
            item["field"] = c.field;
            item["from"] = c.from;
            item["to"] = c.to;
        }
        list.push_back(std::move(item));
    }
    return {{"in_sync", changes.empty()}, {"changes", list}};
}

}  // namespace depctl
