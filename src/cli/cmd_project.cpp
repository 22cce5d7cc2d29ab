// `project show/edit`.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "depctl/context.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/views.hpp"
#include "file_support.hpp"

namespace depctl::cli {

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
