// `init` (and selected_environment, which the command files share).
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

}  // namespace depctl::cli
