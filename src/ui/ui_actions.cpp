#include "ui/ui_actions.hpp"

#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/status.hpp"
#include "depctl/views.hpp"

namespace depctl::ui {
namespace {
using nlohmann::json;

json service_card(const Environment& env, const Service& s) {
    json deps = json::array();
    for (const Dependency& edge : s.depends_on) {
        if (const Service* d = env.find_service_by_id(edge.id)) deps.push_back(d->name);
    }
    return {
        {"id", s.id},
        {"name", s.name},
        {"type", to_string(s.type)},
        {"skipped", s.skipped},
        {"version", s.current.version},
        {"status", s.current.status.empty() ? std::string(to_string(ServiceStatus::never_deployed))
                                            : s.current.status},
        {"updated_at", s.current.updated_at},
        {"depends_on", deps}};
}

json environment_board(const Environment& env) {
    std::map<std::string, json> cards;  // stage id -> services, in creation order
    for (const auto& s : env.services) cards[s.stage_id].push_back(service_card(env, s));
    json stages = json::array();
    for (std::size_t i = 0; i < env.stages.size(); ++i) {
        const Stage& stage = env.stages[i];
        const auto it = cards.find(stage.id);
        stages.push_back({{"id", stage.id},
                          {"name", stage.name},
                          {"description", stage.description},
                          {"position", i + 1},
                          {"default_for", default_types_of(env, stage.id)},
                          {"services", it == cards.end() ? json::array() : it->second}});
    }
    return {{"id", env.id},
            {"name", env.name},
            {"type", to_string(env.type)},
            {"require_approval", env.require_approval},
            {"stages", stages}};
}

std::string text(const json& request, const char* key) {
    const auto it = request.find(key);
    if (it == request.end() || !it->is_string())
        throw Error(ErrorKind::Usage, std::string("missing \"") + key + "\" in the request");
    return it->get<std::string>();
}

std::optional<std::string> optional_text(const json& request, const char* key) {
    const auto it = request.find(key);
    if (it == request.end() || it->is_null()) return std::nullopt;
    return text(request, key);
}

Placement placement(const json& request) {
    if (auto before = optional_text(request, "before"))
        return {Placement::Kind::before, *before, 0};
    if (auto after = optional_text(request, "after")) return {Placement::Kind::after, *after, 0};
    const auto it = request.find("position");
    if (it != request.end() && it->is_number_integer())
        return {Placement::Kind::position, {}, it->get<int>()};
    return {};
}

using Action = std::function<std::string(Environment&, const json&)>;

// The same calls and messages as `environment stage ...` (src/cli/cmd_stage.cpp).
const std::map<std::string, Action>& actions() {
    static const std::map<std::string, Action> table = {
        {"move",
         [](Environment& env, const json& r) {
             const Stage& stage = move_service(env, text(r, "service"), text(r, "stage"));
             return "Service " + show_name(find_service(env, text(r, "service")).name) +
                    " moved into stage " + show_name(stage.name);
         }},
        {"reorder",
         [](Environment& env, const json& r) {
             const Placement where = placement(r);
             if (where.kind == Placement::Kind::end)
                 throw Error(ErrorKind::Usage,
                             "reorder needs one of --before, --after or --position");
             reorder_stage(env, text(r, "stage"), where);
             const Stage& stage = find_stage(env, text(r, "stage"));
             return "Stage " + show_name(stage.name) + " is now at position " +
                    std::to_string(env.stage_index(stage.id) + 1);
         }},
        {"create_stage",
         [](Environment& env, const json& r) {
             const Stage& stage = create_stage(
                 env, text(r, "name"), optional_text(r, "description").value_or(""), placement(r));
             return "Stage " + show_name(stage.name) + " created at position " +
                    std::to_string(env.stage_index(stage.id) + 1);
         }},
        {"edit_stage",
         [](Environment& env, const json& r) {
             edit_stage(env, text(r, "stage"), optional_text(r, "new_name"),
                        optional_text(r, "new_description"));
             return std::string("Stage updated successfully");
         }},
        {"delete_stage",
         [](Environment& env, const json& r) {
             const std::string name = find_stage(env, text(r, "stage")).name;
             const auto to = optional_text(r, "move_services_to");
             const auto moved = delete_stage(env, text(r, "stage"), to);
             std::string message = "Stage " + show_name(name) + " deleted";
             if (!moved.empty())
                 message += "; " + std::to_string(moved.size()) +
                            (moved.size() == 1 ? " service" : " services") + " moved to " +
                            show_name(find_stage(env, *to).name);
             return message;
         }},
        {"skip",
         [](Environment& env, const json& r) {
             set_skipped(env, text(r, "service"), true);
             return "Service " + show_name(find_service(env, text(r, "service")).name) +
                    " will be skipped by deployments";
         }},
        {"unskip",
         [](Environment& env, const json& r) {
             set_skipped(env, text(r, "service"), false);
             return "Service " + show_name(find_service(env, text(r, "service")).name) +
                    " will be deployed again";
         }},
    };
    return table;
}

Environment& mutable_environment(State& state, const json& request) {
    const Environment& found = environment_of(state, request);
    return *state.find_environment_by_id(found.id);
}

}  // namespace

json board_view(const State& state) {
    json environments = json::array();
    for (const auto& env : state.environments) environments.push_back(environment_board(env));
    return {{"project", state.project.name}, {"environments", environments}};
}

const Environment& environment_of(const State& state, const json& request) {
    const std::string key = text(request, "environment");
    if (const Environment* env = state.find_environment_by_id(key)) return *env;
    return find_environment(state, key);
}

std::string apply_action(StateStore& store, const json& request) {
    if (!request.is_object()) throw Error(ErrorKind::Usage, "the request is not a JSON object");
    const std::string name = text(request, "action");
    const auto it = actions().find(name);
    if (it == actions().end()) throw Error(ErrorKind::Usage, "unknown action " + show_name(name));
    std::string message;
    store.transact(
        [&](State& state) { message = it->second(mutable_environment(state, request), request); });
    return message;
}

}  // namespace depctl::ui
