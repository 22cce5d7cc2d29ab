// Project and environment operations.
#include <unordered_map>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"

namespace depctl {
namespace {

void require_unique_environment(const State& state, const std::string& name,
                                const Environment* self) {
    for (const auto& env : state.environments) {
        if (&env != self && iequals(env.name, name)) {
            throw Error(ErrorKind::Refused,
                        "an environment named " + show_name(env.name) + " already exists",
                        "names are compared without regard to letter case");
        }
    }
}

void add_default_stages(Environment& env) {
    // Order and names follow Qovery's defaults (seed 000).
    for (ServiceType type : {ServiceType::database, ServiceType::job, ServiceType::container,
                             ServiceType::application}) {
        Stage stage{new_id("stg_"), std::string(to_string(type)) + " DEFAULT",
                    k_default_stage_description, std::nullopt};
        env.default_stages[std::string(to_string(type))] = stage.id;
        env.stages.push_back(std::move(stage));
    }
}

// Copies stages, services and their edges with fresh ids; deploy status is not copied.
void clone_into(Environment& target, const Environment& source) {
    std::unordered_map<std::string, std::string> new_ids;
    for (const auto& stage : source.stages) {
        Stage copy = stage;
        copy.id = new_id("stg_");
        new_ids[stage.id] = copy.id;
        target.stages.push_back(std::move(copy));
    }
    for (const auto& [type, stage_id] : source.default_stages)
        target.default_stages[type] = new_ids.at(stage_id);
    for (const auto& service : source.services) new_ids[service.id] = new_id("svc_");
    for (const auto& service : source.services) {
        Service copy = service;
        copy.id = new_ids.at(service.id);
        copy.stage_id = new_ids.at(service.stage_id);
        for (auto& dep : copy.depends_on) dep.id = new_ids.at(dep.id);
        copy.current = {};
        target.services.push_back(std::move(copy));
    }
    target.require_approval = source.require_approval;
    target.pre_deploy = source.pre_deploy;
    target.post_deploy = source.post_deploy;
}

}  // namespace

State new_state(std::string_view project_name) {
    State state;
    state.project.id = new_id("prj_");
    state.project.name = checked_name(project_name, "project");
    return state;
}

void rename_project(State& state, std::string_view new_name) {
    state.project.name = checked_name(new_name, "project");
}

void set_enforced_order(State& state, const std::vector<std::string>& environment_names) {
    std::vector<std::string> ids;
    for (const auto& name : environment_names) {
        const Environment& env = find_environment(state, name);
        for (const auto& id : ids) {
            if (id == env.id)
                throw Error(ErrorKind::Refused,
                            "environment " + show_name(env.name) + " is listed twice");
        }
        ids.push_back(env.id);
    }
    state.project.enforced_order = std::move(ids);
}

Environment& create_environment(State& state, const EnvironmentCreate& request) {
    Environment env;
    env.id = new_id("env_");
    env.name = checked_name(request.name, "environment");
    env.type = request.type;
    require_unique_environment(state, env.name, nullptr);
    if (request.clone_from) {
        clone_into(env, find_environment(state, *request.clone_from));
    } else {
        add_default_stages(env);
    }
    state.environments.push_back(std::move(env));
    return state.environments.back();
}

void edit_environment(State& state, std::string_view name, const EnvironmentEdit& edit) {
    Environment& env = find_environment(state, name);
    if (edit.new_name) {
        const std::string new_name = checked_name(*edit.new_name, "environment");
        require_unique_environment(state, new_name, &env);
        env.name = new_name;
    }
    if (edit.type) env.type = *edit.type;
    if (edit.require_approval) env.require_approval = *edit.require_approval;
    if (edit.pre_deploy) env.pre_deploy = *edit.pre_deploy;
    if (edit.post_deploy) env.post_deploy = *edit.post_deploy;
}

void delete_environment(State& state, std::string_view name) {
    const Environment& env = find_environment(state, name);
    const std::string id = env.id;
    // A deleted environment leaves the enforced order: the order is about environments
    // that exist, and keeping a dangling id would block every later promotion.
    auto& order = state.project.enforced_order;
    std::erase(order, id);
    std::erase_if(state.environments, [&](const Environment& e) { return e.id == id; });
}

}  // namespace depctl
