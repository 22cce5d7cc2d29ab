// One registration function per command group, all wired in depctl_main.cpp.
#pragma once

#include "common.hpp"
#include "depctl/record.hpp"

namespace depctl::cli {

void register_init(CLI::App& app, Invocation& invocation);
void register_context(CLI::App& app, Invocation& invocation);
void register_project(CLI::App& app, Invocation& invocation);
// Returns the `environment` command so that stage (and deploy) commands nest under it.
CLI::App& register_environment(CLI::App& app, Invocation& invocation);
void register_stage(CLI::App& environment, Invocation& invocation);
void register_service(CLI::App& app, Invocation& invocation);
// `environment deploy` and `environment stop` (under the environment command).
void register_deploy(CLI::App& environment, Invocation& invocation);
// `environment cancel` (cmd_cancel.cpp) and `environment status` (cmd_status.cpp).
void register_cancel(CLI::App& environment, Invocation& invocation);
void register_status(CLI::App& environment, Invocation& invocation);
void register_deployment(CLI::App& app, Invocation& invocation);
// `environment graph`, `deployment timeline` and `deployment explain`: after the
// environment and deployment groups exist.
void register_pictures(CLI::App& app, Invocation& invocation);
// A history record by id, id prefix, or `latest` (the newest of the selected environment).
DeploymentRecord load_deployment(StateStore& store, const State& state, const Options& options,
                                 const std::string& id);
// `state migrate` between the file and etcd backends.
void register_state(CLI::App& app, Invocation& invocation);
// `completion bash|zsh|fish` and the hidden `__complete` its scripts call.
void register_completion(CLI::App& app, Invocation& invocation);
// `ui`: the local web console (src/ui).
void register_ui(CLI::App& app, Invocation& invocation);
// `diff`, `apply`, `export`, `schema`, `import compose`: the pipeline file.
void register_file_commands(CLI::App& app, Invocation& invocation);
// `import compose`: a depctl.yaml drafted from a docker compose file (cmd_import.cpp).
void register_import(CLI::App& app, Invocation& invocation);
// The hidden `__man`: the man page, generated from the command tree.
void register_man(CLI::App& app, Invocation& invocation);

// The selected environment of a mutable state (-e, DEPCTL_ENVIRONMENT, context).
Environment& selected_environment(State& state, const Options& options);

}  // namespace depctl::cli
