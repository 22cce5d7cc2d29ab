// `environment list/create/edit/delete`.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "depctl/context.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/views.hpp"
#include "file_support.hpp"
#include "table.hpp"

namespace depctl::cli {
namespace {

std::optional<bool> parse_on_off(const std::string& text) {
    if (iequals(text, "on") || iequals(text, "true") || iequals(text, "yes")) return true;
    if (iequals(text, "off") || iequals(text, "false") || iequals(text, "no")) return false;
    return std::nullopt;
}

EnvironmentType checked_environment_type(const std::string& text) {
    const auto type = parse_environment_type(text);
    if (!type) {
        throw Error(ErrorKind::Usage, "unknown environment type " + show_name(text),
                    "use development, staging or production");
    }
    return *type;
}

void add_list(CLI::App& env_cmd, Invocation& inv) {
    auto* list = env_cmd.add_subcommand("list", "List the project's environments");
    add_json_flag(*list, inv.options);
    set_examples(*list,
                 "  depctl environment list\n  depctl environment list --json | jq -r '.[].name'");
    on_run(*list, inv, [&inv] {
        auto store = open_state(inv.options);
        const State state = store->load();
        if (json_output(inv.options)) {
            print_json(environment_list_view(state));
            return 0;
        }
        if (state.environments.empty()) {
            std::cout << "<no environment>\n";
            return 0;
        }
        const auto current = context_environment(state.project.id);
        std::vector<std::vector<std::string>> rows;
        for (const auto& env : state.environments) {
            rows.push_back({env.name + (current && *current == env.id ? " *" : ""),
                            std::string(to_string(env.type)), std::to_string(env.stages.size()),
                            std::to_string(env.services.size()),
                            env.require_approval ? "required" : "-"});
        }
        std::cout << render_table({"Name", "Type", "Stages", "Services", "Approval"}, rows);
        return 0;
    });
}

void add_create(CLI::App& env_cmd, Invocation& inv) {
    auto* create =
        env_cmd.add_subcommand("create", "Create an environment with the four default stages");
    auto request = std::make_shared<EnvironmentCreate>();
    auto type = std::make_shared<std::string>("development");
    create->add_option("name", request->name, "Name of the new environment")
        ->required()
        ->type_name("NAME");
    create->add_option("--type", *type, "Environment type, in any letter case")
        ->type_name("development|staging|production")
        ->default_str("development");
    create
        ->add_option_function<std::string>(
            "--clone-from", [request](const std::string& v) { request->clone_from = v; },
            "Copy stages, services and settings of this environment (not what was deployed)")
        ->type_name("ENV");
    set_examples(*create,
                 "  depctl environment create staging --type staging\n"
                 "  depctl environment create production --type production --clone-from staging");
    on_run(*create, inv, [&inv, request, type] {
        request->type = checked_environment_type(*type);
        auto store = open_state(inv.options);
        std::string id;
        const State state =
            store->transact([&](State& s) { id = create_environment(s, *request).id; });
        const Environment& env = *state.find_environment_by_id(id);
        if (json_output(inv.options)) {
            print_json(environment_summary_view(state, env));
        } else {
            say(inv.options, "Environment " + show_name(env.name) + " created with " +
                                 std::to_string(env.stages.size()) + " stages and " +
                                 std::to_string(env.services.size()) + " services");
        }
        return 0;
    });
}

void add_edit(CLI::App& env_cmd, Invocation& inv) {
    auto* edit = env_cmd.add_subcommand("edit", "Rename an environment or change its settings");
    auto name = std::make_shared<std::string>();
    auto request = std::make_shared<EnvironmentEdit>();
    auto approval = std::make_shared<std::string>();
    auto type = std::make_shared<std::string>();
    edit->add_option("name", *name, "Environment to change")->required()->type_name("ENV");
    edit->add_option_function<std::string>(
            "--new-name", [request](const std::string& v) { request->new_name = v; }, "New name")
        ->type_name("NAME");
    edit->add_option("--type", *type, "New environment type")
        ->type_name("development|staging|production");
    edit->add_option("--require-approval", *approval,
                     "Ask before every deploy (--yes approves up front)")
        ->type_name("on|off");
    edit->add_option_function<std::string>(
            "--pre-deploy", [request](const std::string& v) { request->pre_deploy = v; },
            "Command run before any step of a deploy (\"\" clears)")
        ->type_name("CMD");
    edit->add_option_function<std::string>(
            "--post-deploy", [request](const std::string& v) { request->post_deploy = v; },
            "Command run after the last step of a deploy (\"\" clears)")
        ->type_name("CMD");
    set_examples(
        *edit,
        "  depctl environment edit staging --new-name qa\n"
        "  depctl environment edit production --require-approval on --pre-deploy './notify.sh'");
    on_run(*edit, inv, [&inv, name, request, approval, type] {
        if (!approval->empty()) {
            request->require_approval = parse_on_off(*approval);
            if (!request->require_approval)
                throw Error(ErrorKind::Usage, "--require-approval takes on or off");
        }
        if (!type->empty()) request->type = checked_environment_type(*type);
        if (!request->new_name && !request->type && !request->require_approval &&
            !request->pre_deploy && !request->post_deploy) {
            throw Error(
                ErrorKind::Usage, "nothing to change",
                "pass --new-name, --type, --require-approval, --pre-deploy or --post-deploy");
        }
        auto store = open_state(inv.options);
        std::string id;
        const State state = store->transact([&](State& s) {
            edit_environment(s, *name, *request);
            id = find_environment(s, request->new_name ? *request->new_name : *name).id;
        });
        warn_if_file_managed(inv.options, state);
        if (json_output(inv.options)) {
            print_json(environment_summary_view(state, *state.find_environment_by_id(id)));
        } else {
            say(inv.options, "Environment updated successfully");
        }
        return 0;
    });
}

void add_delete(CLI::App& env_cmd, Invocation& inv) {
    auto* del =
        env_cmd.add_subcommand("delete", "Delete an environment and its stages and services");
    auto name = std::make_shared<std::string>();
    del->add_option("name", *name, "Environment to delete")->required()->type_name("ENV");
    set_examples(*del, "  depctl environment delete preview-42");
    on_run(*del, inv, [&inv, name] {
        auto store = open_state(inv.options);
        std::string deleted;
        store->transact([&](State& s) {
            const Environment& env = find_environment(s, *name);
            // Deleting what is being deployed would strand the deployer's records.
            if (auto holder = store->environment_lock_holder(env.id)) {
                throw Error(ErrorKind::Busy,
                            "environment " + show_name(env.name) + " is being deployed by " +
                                holder->describe(),
                            "wait for it to finish or cancel it with `depctl environment cancel`");
            }
            deleted = env.name;
            delete_environment(s, *name);
        });
        if (json_output(inv.options)) {
            print_json({{"deleted", deleted}});
        } else {
            say(inv.options, "Environment " + show_name(deleted) + " deleted");
        }
        return 0;
    });
}

}  // namespace

CLI::App& register_environment(CLI::App& app, Invocation& inv) {
    auto* env_cmd =
        app.add_subcommand("environment", "Manage environments, their stages and deployments");
    env_cmd->alias("env");
    env_cmd->require_subcommand(1);
    set_examples(*env_cmd,
                 "  depctl environment create staging --type staging\n"
                 "  depctl environment deploy -e staging --version 1.4.2");
    add_list(*env_cmd, inv);
    add_create(*env_cmd, inv);
    add_edit(*env_cmd, inv);
    add_delete(*env_cmd, inv);
    return *env_cmd;
}

}  // namespace depctl::cli
