// export: the state as a pipeline file that reads like a hand-written one. Stages and
// services shared by every environment are written once; what differs goes into the
// environment as overrides; defaults are left out.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "core/file/yaml_out.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/pipeline_file.hpp"

namespace depctl {
namespace {

using file::YamlValue;

// An environment's services by id and by exact name: one lookup each instead of a scan per
// dependency and per shared name (export of 1,000 services was quadratic).
struct ServiceIndex {
    std::unordered_map<std::string_view, const Service*> by_id;
    std::unordered_map<std::string_view, const Service*> by_name;

    explicit ServiceIndex(const Environment& env) {
        by_id.reserve(env.services.size());
        by_name.reserve(env.services.size());
        for (const auto& service : env.services) {
            by_id.emplace(service.id, &service);
            by_name.emplace(service.name, &service);
        }
    }
    static const Service* find(const std::unordered_map<std::string_view, const Service*>& map,
                               std::string_view key) {
        const auto it = map.find(key);
        return it == map.end() ? nullptr : it->second;
    }
};

template <typename T>
void put_number(YamlValue& map, const char* key, const std::optional<T>& value) {
    if (value) map.put(key, YamlValue::raw(nlohmann::json(*value).dump()));
}
void put_text(YamlValue& map, const char* key, const std::string& value) {
    if (!value.empty()) map.put(key, YamlValue::text(value));
}

// The stage a service lands in when the file does not say: the stage named after its
// type's default ("APPLICATION DEFAULT" for HELM too), else the last one (as apply does).
const Stage* file_default_stage(const Environment& env, ServiceType type) {
    if (type == ServiceType::helm) type = ServiceType::application;
    const std::string wanted = std::string(to_string(type)) + " DEFAULT";
    for (const auto& stage : env.stages)
        if (iequals(stage.name, wanted)) return &stage;
    return env.stages.empty() ? nullptr : &env.stages.back();
}

YamlValue health_of(const HealthCheck& h) {
    YamlValue m = YamlValue::map();
    put_text(m, "http", h.http);
    put_text(m, "cmd", h.cmd);
    put_number(m, "attempts", h.attempts);
    put_number(m, "interval", h.interval_s);
    put_number(m, "connect_timeout", h.connect_timeout_s);
    put_number(m, "timeout", h.timeout_s);
    put_text(m, "expect", h.expect);
    put_number(m, "start_period", h.start_period_s);
    return m;
}

YamlValue service_of(const Environment& env, const ServiceIndex& index, const Service& s) {
    YamlValue m = YamlValue::map();
    m.put("type", YamlValue::raw(to_lower(to_string(s.type))));
    const Stage* stage = env.find_stage_by_id(s.stage_id);
    if (stage && stage != file_default_stage(env, s.type))
        m.put("stage", YamlValue::text(stage->name));
    put_text(m, "workdir", s.workdir);
    if (s.version_from != VersionFrom::project)
        m.put("version_from", YamlValue::raw(std::string(to_string(s.version_from))));
    put_text(m, "build", s.build);
    put_text(m, "release", s.release);
    put_text(m, "deploy", s.deploy);
    put_text(m, "stop", s.stop);
    if (YamlValue health = health_of(s.health); !health.entries.empty()) m.put("health", health);
    YamlValue vars = YamlValue::map();
    for (const auto& [key, value] : s.env) vars.put(key, YamlValue::text(value));
    if (!vars.entries.empty()) m.put("env", vars);
    YamlValue secrets = YamlValue::map();
    for (const auto& secret : s.secrets) secrets.put(secret.key, YamlValue::text(secret.source));
    if (!secrets.entries.empty()) m.put("secrets", secrets);
    // The short form (a list) while every edge is healthy, else a map name: condition.
    const bool all_healthy =
        std::all_of(s.depends_on.begin(), s.depends_on.end(),
                    [](const Dependency& d) { return d.condition == EdgeCondition::healthy; });
    YamlValue deps = all_healthy ? YamlValue::list() : YamlValue::map();
    for (const Dependency& edge : s.depends_on) {
        const Service* dep = ServiceIndex::find(index.by_id, edge.id);
        if (!dep) continue;
        if (all_healthy)
            deps.items.push_back(YamlValue::text(dep->name));
        else
            deps.put(dep->name, YamlValue::raw(std::string(to_string(edge.condition))));
    }
    if (!deps.items.empty() || !deps.entries.empty()) m.put("depends_on", deps);
    put_number(m, "build_timeout", s.build_timeout_s);
    put_number(m, "deploy_timeout", s.deploy_timeout_s);
    put_number(m, "retries", s.retries);
    if (s.skipped) m.put("skip", YamlValue::raw("true"));
    return m;
}

bool nested(const std::string& key) {
    return key == "health" || key == "env" || key == "secrets";
}

// The keys every definition agrees on (nested maps key by key).
YamlValue common_of(const std::vector<YamlValue>& defs) {
    YamlValue base = YamlValue::map();
    for (const auto& [key, value] : defs.front().entries) {
        if (nested(key)) {
            std::vector<YamlValue> subs;
            for (const auto& d : defs)
                subs.push_back(d.find(key) ? *d.find(key) : YamlValue::map());
            if (YamlValue sub = common_of(subs); !sub.entries.empty()) base.put(key, sub);
            continue;
        }
        bool same = true;
        for (const auto& d : defs) same = same && d.find(key) && *d.find(key) == value;
        if (same) base.put(key, value);
    }
    return base;
}

YamlValue override_of(const YamlValue& def, const YamlValue& base) {
    YamlValue out = YamlValue::map();
    for (const auto& [key, value] : def.entries) {
        const YamlValue* shared = base.find(key);
        if (nested(key)) {
            YamlValue sub = override_of(value, shared ? *shared : YamlValue::map());
            if (!sub.entries.empty()) out.put(key, sub);
        } else if (!shared || !(*shared == value)) {
            out.put(key, value);
        }
    }
    return out;
}

YamlValue stages_of(const Environment& env) {
    YamlValue list = YamlValue::list();
    for (const auto& stage : env.stages) {
        YamlValue m = YamlValue::map();
        m.put("name", YamlValue::text(stage.name));
        put_text(m, "description", stage.description);
        put_number(m, "max_parallel", stage.max_parallel);
        list.items.push_back(m);
    }
    return list;
}

YamlValue default_stages() {
    State scratch = new_state("x");
    return stages_of(create_environment(scratch, {"x", EnvironmentType::development, {}}));
}

// Services every environment has are shared; the rest belong to their environment.
std::vector<std::string> shared_service_names(const std::vector<const Environment*>& envs,
                                              const std::vector<ServiceIndex>& indexes) {
    std::vector<std::string> shared;
    std::unordered_set<std::string_view> seen;
    for (const Environment* env : envs) {
        for (const auto& service : env->services) {
            bool everywhere = true;
            for (const auto& other : indexes)
                everywhere = everywhere && ServiceIndex::find(other.by_name, service.name);
            if (everywhere && seen.insert(service.name).second) shared.push_back(service.name);
        }
    }
    return shared;
}

}  // namespace

std::string export_pipeline_file(const State& state, const std::optional<std::string>& only) {
    std::vector<const Environment*> envs;
    for (const auto& env : state.environments)
        if (!only || iequals(env.name, *only)) envs.push_back(&env);
    if (only && envs.empty()) find_environment(state, *only);  // refuses with did-you-mean
    YamlValue root = YamlValue::map();
    root.put("project", YamlValue::text(state.project.name));
    if (!only && !state.project.enforced_order.empty()) {
        YamlValue order = YamlValue::list();
        for (const auto& id : state.project.enforced_order)
            order.items.push_back(YamlValue::text(state.find_environment_by_id(id)->name));
        root.put("enforced_order", order);
    }
    const YamlValue shared_stages = envs.empty() ? default_stages() : stages_of(*envs.front());
    if (!(shared_stages == default_stages())) root.put("stages", shared_stages);
    std::vector<ServiceIndex> indexes;
    for (const Environment* env : envs) indexes.emplace_back(*env);
    const std::vector<std::string> shared = shared_service_names(envs, indexes);
    const std::unordered_set<std::string_view> is_shared(shared.begin(), shared.end());
    std::vector<YamlValue> env_bodies(envs.size(), YamlValue::map());
    std::vector<YamlValue> env_services(envs.size(), YamlValue::map());
    YamlValue services = YamlValue::map();
    for (const auto& name : shared) {
        std::vector<YamlValue> defs;
        for (std::size_t i = 0; i < envs.size(); ++i)
            defs.push_back(
                service_of(*envs[i], indexes[i], *ServiceIndex::find(indexes[i].by_name, name)));
        YamlValue base = common_of(defs);
        if (!base.find("type"))
            base.entries.insert(base.entries.begin(), defs.front().entries.front());
        for (std::size_t i = 0; i < envs.size(); ++i)
            if (YamlValue o = override_of(defs[i], base); !o.entries.empty())
                env_services[i].put(name, o);
        services.put(name, base);
    }
    if (!services.entries.empty()) root.put("services", services);
    YamlValue environments = YamlValue::map();
    for (std::size_t i = 0; i < envs.size(); ++i) {
        const Environment& env = *envs[i];
        YamlValue& body = env_bodies[i];
        if (env.type != EnvironmentType::development)
            body.put("type", YamlValue::raw(to_lower(to_string(env.type))));
        if (env.require_approval) body.put("require_approval", YamlValue::raw("true"));
        put_text(body, "pre_deploy", env.pre_deploy);
        put_text(body, "post_deploy", env.post_deploy);
        if (!(stages_of(env) == shared_stages)) body.put("stages", stages_of(env));
        for (const auto& service : env.services)
            if (!is_shared.count(service.name))
                env_services[i].put(service.name, service_of(env, indexes[i], service));
        if (!env_services[i].entries.empty()) body.put("services", env_services[i]);
        environments.put(env.name, body);
    }
    if (!environments.entries.empty()) root.put("environments", environments);
    return file::write_yaml(root);
}

}  // namespace depctl
