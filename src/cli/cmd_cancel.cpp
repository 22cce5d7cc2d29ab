// `environment cancel`: ends the running deployment of an environment (core/deploy/
// cancel_deployment.cpp), from any shell.
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "depctl/cancel_deployment.hpp"
#include "depctl/context.hpp"
#include "depctl/names.hpp"

namespace depctl::cli {
namespace {

struct CancelArgs {
    bool force = false;
    double timeout_s = 60;  // how long to wait for the deployer to finish
};

int run_cancel(Invocation& inv, const CancelArgs& args) {
    auto store = open_state(inv.options);
    const State state = store->load();
    const Environment& env = select_environment(state, inv.options.environment);
    CancelRequest request{env.id, args.force,
                          std::chrono::milliseconds(static_cast<long long>(args.timeout_s * 1000))};
    const CancelOutcome outcome = cancel_deployment(*store, request);
    if (json_output(inv.options)) {
        print_json(outcome.to_json());
    } else if (!outcome.was_running) {
        say(inv.options, "No deployment of " + show_name(env.name) + " is running");
    } else {
        say(inv.options, "Deployment " + outcome.deployment_id + " of " + show_name(env.name) +
                             " (" + outcome.holder.describe() + ") ended with status " +
                             outcome.final_status_text());
    }
    return 0;
}

}  // namespace

void register_cancel(CLI::App& environment, Invocation& inv) {
    auto args = std::make_shared<CancelArgs>();
    auto* cancel =
        environment.add_subcommand("cancel", "Cancel the running deployment of the environment");
    cancel->add_flag("--force", args->force,
                     "Kill its steps at once instead of SIGTERM and the grace period");
    cancel
        ->add_option("--timeout", args->timeout_s,
                     "Seconds to wait for it to record CANCELED (default 60)")
        ->check(seconds_range(0, 86400))
        ->type_name("SECONDS");
    set_examples(*cancel,
                 "  depctl environment cancel -e staging\n  depctl environment cancel --force");
    on_run(*cancel, inv, [&inv, args] { return run_cancel(inv, *args); });
}

}  // namespace depctl::cli
