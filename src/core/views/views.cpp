#include "depctl/views.hpp"

#include <nlohmann/json.hpp>

namespace depctl {
using nlohmann::json;

std::vector<std::string> default_types_of(const Environment& env, const std::string& stage_id) {
    std::vector<std::string> types;
    for (ServiceType type : k_service_types) {
        const auto it = env.default_stages.find(std::string(to_string(type)));
        if (it != env.default_stages.end() && it->second == stage_id)
            types.emplace_back(to_string(type));
    }
    return types;
}

json project_view(const State& state) {
    json order = json::array();
    for (const auto& id : state.project.enforced_order) {
        if (const Environment* env = state.find_environment_by_id(id)) order.push_back(env->name);
    }
    return {{"id", state.project.id},
            {"name", state.project.name},
            {"schema_version", state.schema_version},
            {"enforced_order", order},
            {"environments", state.environments.size()}};
}

json environment_summary_view(const State& state, const Environment& env) {
    (void)state;
    return {{"id", env.id},
            {"name", env.name},
            {"type", to_string(env.type)},
            {"require_approval", env.require_approval},
            {"pre_deploy", env.pre_deploy},
            {"post_deploy", env.post_deploy},
            {"stages", env.stages.size()},
            {"services", env.services.size()}};
}

json environment_list_view(const State& state) {
    json out = json::array();
    for (const auto& env : state.environments) out.push_back(environment_summary_view(state, env));
    return out;
}

json stage_list_view(const Environment& env) {
    json out = json::array();
    for (std::size_t i = 0; i < env.stages.size(); ++i) {
        const Stage& stage = env.stages[i];
        json services = json::array();
        for (const auto& s : env.services) {
            if (s.stage_id != stage.id) continue;
            services.push_back({{"id", s.id},
                                {"name", s.name},
                                {"type", to_string(s.type)},
                                {"skipped", s.skipped}});
        }
        out.push_back({{"position", i + 1},
                       {"id", stage.id},
                       {"name", stage.name},
                       {"description", stage.description},
                       {"max_parallel", stage.max_parallel ? json(*stage.max_parallel) : json()},
                       {"default_for", default_types_of(env, stage.id)},
                       {"services", services}});
    }
    return out;
}

json service_view(const Environment& env, const Service& s) {
    // depends_on stays a list of names (its shape before edge conditions); dependencies
    // adds what each edge waits for, shaped as in deployment records.
    json depends = json::array();
    json dependencies = json::array();
    for (const Dependency& edge : s.depends_on) {
        const Service* dep = env.find_service_by_id(edge.id);
        if (!dep) continue;
        depends.push_back(dep->name);
        dependencies.push_back({{"service", dep->name}, {"condition", to_string(edge.condition)}});
    }
    json secrets = json::array();
    // Only where a secret comes from is shown; its value is never read here.
    for (const auto& secret : s.secrets)
        secrets.push_back({{"key", secret.key}, {"source", secret.source}});
    const Stage* stage = env.find_stage_by_id(s.stage_id);
    const auto optional = [](const auto& value) { return value ? json(*value) : json(nullptr); };
    return {{"id", s.id},
            {"name", s.name},
            {"type", to_string(s.type)},
            {"environment", env.name},
            {"stage", stage ? stage->name : ""},
            {"stage_position", env.stage_index(s.stage_id) + 1},
            {"skipped", s.skipped},
            {"workdir", s.workdir},
            {"version_from", to_string(s.version_from)},
            {"build", s.build},
            {"release", s.release},
            {"deploy", s.deploy},
            {"stop", s.stop},
            {"health",
             {{"http", s.health.http},
              {"cmd", s.health.cmd},
              {"attempts", optional(s.health.attempts)},
              {"interval_s", optional(s.health.interval_s)},
              {"connect_timeout_s", optional(s.health.connect_timeout_s)},
              {"timeout_s", optional(s.health.timeout_s)},
              {"expect", s.health.expect},
              {"start_period_s", optional(s.health.start_period_s)}}},
            {"env", s.env},
            {"secrets", secrets},
            {"build_timeout_s", optional(s.build_timeout_s)},
            {"deploy_timeout_s", optional(s.deploy_timeout_s)},
            {"retries", optional(s.retries)},
            {"depends_on", depends},
            {"dependencies", dependencies},
            {"current",
             {{"version", s.current.version},
              {"status", s.current.status},
              {"updated_at", s.current.updated_at},
              {"deployment_id", s.current.deployment_id}}}};
}

json service_list_view(const Environment& env) {
    json out = json::array();
    for (const auto& s : env.services) {
        const Stage* stage = env.find_stage_by_id(s.stage_id);
        out.push_back({{"id", s.id},
                       {"name", s.name},
                       {"type", to_string(s.type)},
                       {"stage", stage ? stage->name : ""},
                       {"stage_position", env.stage_index(s.stage_id) + 1},
                       {"skipped", s.skipped},
                       {"version", s.current.version},
                       {"status", s.current.status}});
    }
    return out;
}

}  // namespace depctl
