// `context set/show`: the environment commands work on, remembered per user.
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

}  // namespace depctl::cli
