// `init`, `context set/show`, `project show/edit`.
#include <filesystem>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "depctl/context.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/views.hpp"
#include "file_support.hpp"

namespace depctl::cli {

Environment& selected_environment(State& state, const Options& options) {
    const Environment& env = select_environment(state, options.environment);
    return *state.find_environment_by_id(env.id);
}

void register_init(CLI::App& app, Invocation& inv) {
    auto* cmd = app.add_subcommand("init", "Create a depctl project in ./.depctl (or at --state)");
    auto project = std::make_shared<std::string>();
    auto* project_flag = cmd->add_option("--project", *project,
                                         "Project name (default: the current directory's name)")
                             ->type_name("NAME");
    set_examples(*cmd,
                 "  depctl init --project shop\n  depctl --state /srv/deploy/state.json init");
    on_run(*cmd, inv, [&inv, project, project_flag] {
        // An explicit --project "" is a mistake (an unset variable in a script), not a
        // request for the default.
        if (project_flag->count() > 0 && trim(*project).empty()) {
            throw Error(ErrorKind::Refused, "invalid project name \"\": it is empty",
                        "pass a name, or leave --project out to use the directory's name");
        }
        const std::string name =
            project->empty() ? std::filesystem::current_path().filename().string() : *project;
        State state = new_state(name.empty() ? "project" : name);
        auto store = open_state(inv.options, true);
        store->initialize(state);
        if (json_output(inv.options)) {
            print_json({{"project", project_view(state)}, {"state", store->location()}});
        } else {
            say(inv.options, "Initialized depctl project " + show_name(state.project.name) +
                                 " in " + store->location());
        }
        return 0;
    });
}

void register_context(CLI::App& app, Invocation& inv) {
    auto* cmd =
        app.add_subcommand("context", "Remember the environment commands work on (per user)");
    cmd->require_subcommand(1);
    set_examples(*cmd, "  depctl context set -e staging\n  depctl context show");
    auto* set =
        cmd->add_subcommand("set", "Set the current environment: depctl context set -e ENV");
    set_examples(*set, "  depctl context set -e staging");
    on_run(*set, inv, [&inv] {
        if (inv.options.environment.empty()) {
            throw Error(ErrorKind::Usage, "context set needs -e/--environment ENV");
        }
        auto store = open_state(inv.options);
        const State state = store->load();
        const Environment& env = find_environment(state, inv.options.environment);
        set_context_environment(state.project.id, env.id);
        if (json_output(inv.options)) {
            print_json({{"project", state.project.name}, {"environment", env.name}});
        } else {
            say(inv.options, "Current environment is now " + show_name(env.name));
        }
        return 0;
    });
    auto* show =
        cmd->add_subcommand("show", "Show the project, state location and current environment");
    set_examples(*show, "  depctl context show\n  depctl context show -o json");
    on_run(*show, inv, [&inv] {
        auto store = open_state(inv.options);
        const State state = store->load();
        std::string env_name;
        const char* from_env = std::getenv("DEPCTL_ENVIRONMENT");
        const std::string source = !inv.options.environment.empty() ? "flag"
                                   : from_env && *from_env          ? "DEPCTL_ENVIRONMENT"
                                                                    : "context";
        // No environment selected is a normal answer for `show`; a wrong name is not.
        if (source != "context") {
            env_name = select_environment(state, inv.options.environment).name;
        } else if (const auto id = context_environment(state.project.id)) {
            if (const Environment* env = state.find_environment_by_id(*id)) env_name = env->name;
        }
        if (json_output(inv.options)) {
            print_json({{"project", state.project.name},
                        {"state", store->location()},
                        {"environment",
                         env_name.empty() ? nlohmann::json(nullptr) : nlohmann::json(env_name)},
                        {"environment_source", source}});
        } else {
            std::cout << "Project:     " << state.project.name << '\n'
                      << "State:       " << store->location() << '\n'
                      << "Environment: "
                      << (env_name.empty() ? "(none)" : env_name + " (from " + source + ")")
                      << '\n';
        }
        return 0;
    });
}

void register_project(CLI::App& app, Invocation& inv) {
    auto* cmd = app.add_subcommand("project", "Show or edit the project");
    cmd->require_subcommand(1);
    set_examples(*cmd,
                 "  depctl project show\n  depctl project edit --enforced-order "
                 "development,staging,production");
    auto* show = cmd->add_subcommand("show", "Show the project");
    set_examples(*show, "  depctl project show\n  depctl project show -o json");
    on_run(*show, inv, [&inv] {
        auto store = open_state(inv.options);
        const State state = store->load();
        const auto view = project_view(state);
        if (json_output(inv.options)) {
            print_json(view);
            return 0;
        }
        std::string order;
        for (const auto& name : view["enforced_order"])
            order += (order.empty() ? "" : " -> ") + name.get<std::string>();
        std::cout << "Project:        " << state.project.name << " (" << state.project.id << ")\n"
                  << "State:          " << store->location() << '\n'
                  << "Environments:   " << state.environments.size() << '\n'
                  << "Enforced order: " << (order.empty() ? "(none)" : order) << '\n';
        return 0;
    });
    auto* edit =
        cmd->add_subcommand("edit", "Rename the project or set the enforced deployment order");
    auto new_name = std::make_shared<std::optional<std::string>>();
    auto order = std::make_shared<std::optional<std::string>>();
    edit->add_option_function<std::string>(
            "--new-name", [new_name](const std::string& v) { *new_name = v; }, "New project name")
        ->type_name("NAME");
    edit->add_option_function<std::string>(
            "--enforced-order", [order](const std::string& v) { *order = v; },
            "Comma-separated environments a version must pass in order (\"\" clears)")
        ->type_name("ENVS");
    set_examples(*edit,
                 "  depctl project edit --enforced-order development,staging,production\n"
                 "  depctl project edit --enforced-order \"\"");
    on_run(*edit, inv, [&inv, new_name, order] {
        if (!*new_name && !*order)
            throw Error(ErrorKind::Usage, "nothing to change",
                        "pass --new-name or --enforced-order");
        auto store = open_state(inv.options);
        const State state = store->transact([&](State& s) {
            if (*new_name) rename_project(s, **new_name);
            if (*order) {
                std::vector<std::string> names;
                std::stringstream stream(**order);
                for (std::string item; std::getline(stream, item, ',');) {
                    if (!trim(item).empty()) names.push_back(trim(item));
                }
                set_enforced_order(s, names);
            }
        });
        warn_if_file_managed(inv.options, state);
        if (json_output(inv.options)) {
            print_json(project_view(state));
        } else {
            say(inv.options, "Project updated successfully");
        }
        return 0;
    });
}

}  // namespace depctl::cli
