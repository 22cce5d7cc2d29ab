// `environment deploy` and `environment stop` (the same runner, the same flags).
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "depctl/cancel_deployment.hpp"
#include "depctl/context.hpp"
#include "depctl/deploy.hpp"
#include "depctl/error.hpp"
#include "depctl/history.hpp"
#include "depctl/names.hpp"
#include "file_support.hpp"
#include "progress.hpp"
#include "signals.hpp"
#include "table.hpp"

namespace depctl::cli {
namespace {

struct DeployArgs {
    bool dry_run = false;
    std::optional<std::string> services;  // given, even empty, is not the same as absent
    std::optional<std::string> version;
    int parallelism = 4;
    bool yes = false;
    std::string wait;  // "" (not given), "true" (--wait) or "newest" (--wait=newest)
    bool follow = false;
    bool force_build = false;
    bool rollback = false;
    bool apply = false;  // apply depctl.yaml first
    bool only_changed = false;
    std::string on_failure = "stop";    // --on-failure stop|rollback
    bool environment_rollback = false;  // `environment rollback`
    std::optional<std::string> to;      // its --to
    double grace_s = 10;
};

// Reads the answer to the approval question; Ctrl-C (the cancel signal) ends the wait.
bool ask_approval(const DeployPreview& preview, const CancelSignal& cancel) {
    std::cout << preview.to_text(/*dry_run=*/false) << "\nEnvironment \""
              << preview.plan.environment_name << "\" requires approval. Deploy version "
              << preview.version << "?\n"
              << "Only 'yes' will be accepted: " << std::flush;
    std::string answer;
    for (;;) {
        pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {cancel.fd(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (fds[1].revents)
            throw Error(ErrorKind::Canceled, "cancelled at the approval prompt", "nothing was run");
        char c = 0;
        const ssize_t n = ::read(STDIN_FILENO, &c, 1);
        if (n <= 0 || c == '\n') break;
        answer += c;
    }
    std::cout << '\n';
    return trim(answer) == "yes" || trim(answer) == "y";
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::stringstream stream(text);
    for (std::string item; std::getline(stream, item, ',');) {
        if (!trim(item).empty()) items.push_back(trim(item));
    }
    return items;
}

// An environment rollback writes the definitions it restored into the state (DESIGN §9):
// said on stderr, so that nobody is surprised that the next deploy runs them.
void say_definitions_restored(const Invocation& inv, const State& state,
                              const DeploymentRecord& record) {
    std::size_t restored = 0;
    for (const StageRecord& stage : record.stages) {
        for (const ServiceRecord& s : stage.services)
            restored += s.status == ServiceStatus::deployed && s.definition.is_object();
    }
    if (restored == 0 || inv.options.quiet) return;
    std::cerr << "note: the definitions of " << restored
              << (restored == 1 ? " service" : " services") << " as of " << record.rolled_back_to
              << " are the current ones now (the next deploy runs them)\n";
    warn_if_file_managed(inv.options, state);
}

// The request of a deploy, stop or rollback, from its flags.
DeployRequest request_from(const DeployArgs& args, const Environment& env, bool stop) {
    DeployRequest request;
    request.environment_id = env.id;
    request.version = args.version;
    if (args.services) {
        request.services = split_list(*args.services);
        // An empty shell variable must not widen a partial deploy to every service.
        if (request.services.empty()) {
            throw Error(ErrorKind::Refused, "--services names no service",
                        "name at least one service, or leave --services out to " +
                            std::string(stop ? "stop" : "deploy") + " all of them");
        }
    }
    request.parallelism = args.parallelism;
    request.wait = args.wait == "newest" ? LockWait::newest
                   : args.wait.empty()   ? LockWait::no
                                         : LockWait::yes;
    request.grace = std::chrono::milliseconds(static_cast<long long>(args.grace_s * 1000));
    request.trigger = std::getenv("CI") ? "ci" : "cli";
    request.force_build = args.force_build;
    request.assume_yes = args.yes;
    request.rollback = args.rollback;
    request.environment_rollback = args.environment_rollback;
    request.rollback_to = args.to;
    request.only_changed = args.only_changed;
    request.on_failure = args.on_failure == "rollback" ? OnFailure::rollback : OnFailure::stop;
    return request;
}

// --only-changed found every service as it was last deployed: nothing ran or was recorded.
void say_nothing_changed(const Invocation& inv, const Environment& env) {
    if (json_output(inv.options)) {
        // One line, as the events of a deploy's -o json are.
        const nlohmann::json event = {
            {"event", "nothing_changed"}, {"environment", env.name}, {"deployed", 0}};
        std::cout << event.dump() << '\n';
    } else if (!inv.options.quiet) {
        std::cout << "Nothing to deploy: every service of environment " << show_name(env.name)
                  << " runs the version and definition it was last deployed with "
                     "(see --dry-run; deploy without --only-changed to redeploy)\n";
    }
}

// --on-failure rollback whose rollback failed too: said loudly, whatever the output format.
void say_if_rollback_failed(const DeploymentRecord& record) {
    if (!record.on_failure_rollback ||
        record.on_failure_rollback->status == DeploymentStatus::deployed)
        return;
    const FailureRollback& back = *record.on_failure_rollback;
    std::cerr << "error: deployment " << record.id << " failed and its rollback ended "
              << to_string(back.status)
              << (!back.failed_step ? std::string()
                  : back.failed_step->service.empty()
                      ? " (" + back.failed_step->error + ")"
                      : " (" + back.failed_step->service + " " + back.failed_step->step + ")")
              << ": services may run a mix of the new and previous versions\n"
              << "hint: see `depctl deployment show " << record.id
              << "` and `depctl environment status`\n";
}

int run_deploy(Invocation& inv, const DeployArgs& args, bool stop) {
    if (args.apply && !stop) {
        const auto path = find_pipeline_file("");
        if (!path) throw Error(ErrorKind::Refused, "--apply: no depctl.yaml here or above");
        commit_pipeline_file(inv.options, load_pipeline_file(*path), std::nullopt);
    }
    auto store = open_state(inv.options);
    const State state = store->load();
    const Environment& env = select_environment(state, inv.options.environment);
    if (!stop && !args.apply && !args.environment_rollback)
        warn_if_file_differs(inv.options, state, env.name);
    const DeployRequest request = request_from(args, env, stop);

    if (args.dry_run) {
        const DeployPreview preview = preview_deployment(*store, state, request);
        if (json_output(inv.options)) {
            print_json(preview.to_json());
        } else {
            std::cout << preview.to_text();
        }
        return 0;
    }

    // Signals are blocked before the worker threads start, so only the watcher sees them.
    CancelSignal cancel;
    Progress progress(progress_options_for({.json = json_output(inv.options),
                                            .follow = args.follow,
                                            .quiet = inv.options.quiet,
                                            .no_color = inv.options.no_color}));
    SignalWatcher watcher(cancel,
                          [&progress](CancelLevel level) { progress.cancel_requested(level); });
    ApprovalPrompt prompt;
    if (::isatty(STDIN_FILENO) == 1 && !json_output(inv.options)) {
        prompt = [&cancel](const DeployPreview& preview) { return ask_approval(preview, cancel); };
    }
    const DeployOutcome outcome =
        stop ? stop_environment(*store, state, request, cancel, progress)
             : deploy_environment(*store, state, request, cancel, progress, prompt);
    if (outcome.nothing_changed) {
        say_nothing_changed(inv, env);
        return 0;
    }
    progress.deployment_finished(outcome);
    say_if_rollback_failed(outcome.record);
    if (args.environment_rollback) say_definitions_restored(inv, state, outcome.record);
    return outcome.exit_code;
}

// Flags deploy and stop share, declared once so that they read alike. Two groups, since
// deploy's --yes sits between them in its --help.
void add_parallelism(CLI::App& cmd, DeployArgs& args) {
    cmd.add_option("--parallelism,-j", args.parallelism,
                   "Steps running at once, 1 to 1024 (default 4)")
        ->check(CLI::Range(1, 1024).description(""))
        ->type_name("N");
}

void add_wait_follow_grace(CLI::App& cmd, DeployArgs& args, const std::string& follow_help) {
    // A flag with an optional value, as git's --color[=WHEN]: `--wait newest` is refused.
    cmd.add_flag("--wait", args.wait,
                 "Wait for a running deployment of the environment instead of failing, first "
                 "come, first served; --wait=newest: replace the older --wait=newest waiters "
                 "(they exit 4)")
        ->check(CLI::IsMember({"true", "newest"}).description(""));
    cmd.add_flag("--follow,-f", args.follow, follow_help);
    cmd.add_option("--grace", args.grace_s,
                   "Seconds between SIGTERM and SIGKILL on cancel (default 10)")
        ->check(seconds_range(0, 3600))
        ->type_name("SECONDS");
}

// `environment rollback` (DESIGN §9): the deploy pipeline with every service's version and
// definition of an earlier successful deployment.
void register_rollback(CLI::App& environment, Invocation& inv) {
    auto args = std::make_shared<DeployArgs>();
    args->environment_rollback = true;
    auto* cmd = environment.add_subcommand(
        "rollback",
        "Return every service to the version and definition of the last successful deployment "
        "before the current one (or --to)");
    cmd->add_option_function<std::string>(
           "--to", [args](const std::string& v) { args->to = v; },
           "A DEPLOYED deployment (id, unique prefix, `latest`) or a version (its newest "
           "DEPLOYED deployment)")
        ->type_name("DEPLOYMENT|latest");
    cmd->add_flag("--dry-run", args->dry_run,
                  "Print what each service goes back to (version, changed fields); run and "
                  "write nothing");
    add_parallelism(*cmd, *args);
    cmd->add_flag("--yes,-y", args->yes,
                  "Approve up front (needed without a TTY when approval is required)");
    add_wait_follow_grace(*cmd, *args, "Stream every step's output, prefixed by service and step");
    cmd->add_flag("--force-build", args->force_build,
                  "Build again even when the restored version was built before");
    set_examples(*cmd,
                 "  depctl environment rollback --dry-run\n"
                 "  depctl environment rollback --yes\n"
                 "  depctl environment rollback --to 1.4.2 -o json\n"
                 "  depctl environment rollback --to dep_k2j4h5g6f7d8 --wait");
    on_run(*cmd, inv, [&inv, args] { return run_deploy(inv, *args, false); });
}

}  // namespace

void register_deploy(CLI::App& environment, Invocation& inv) {
    auto args = std::make_shared<DeployArgs>();
    auto* deploy = environment.add_subcommand(
        "deploy", "Deploy the environment: stage after stage, builds ahead");
    deploy->add_flag("--dry-run", args->dry_run, "Print the plan; run and write nothing");
    deploy
        ->add_option_function<std::string>(
            "--services", [args](const std::string& v) { args->services = v; },
            "Deploy only these services (comma-separated); a skipped one named here is deployed")
        ->type_name("SERVICES");
    deploy
        ->add_option_function<std::string>(
            "--version", [args](const std::string& v) { args->version = v; },
            "Version to deploy (default: DEPCTL_VERSION, else git HEAD)")
        ->type_name("VERSION");
    add_parallelism(*deploy, *args);
    deploy->add_flag("--yes,-y", args->yes,
                     "Approve up front (needed without a TTY when approval is required)");
    add_wait_follow_grace(*deploy, *args,
                          "Stream every step's output, prefixed by service and step");
    set_examples(
        *deploy,
        "  depctl environment deploy --version 1.4.2\n"
        "  depctl environment deploy --dry-run -o json\n"
        "  depctl environment deploy --version 1.4.3 --on-failure rollback\n"
        "  depctl environment deploy -e staging --services Backend,Frontend --follow --yes");
    deploy->add_flag("--apply", args->apply,
                     "Apply depctl.yaml (the nearest one) before deploying");
    deploy->add_flag("--force-build", args->force_build,
                     "Build again even when this version was built before");
    auto* rollback = deploy->add_flag(
        "--rollback", args->rollback,
        "Redeploy the previous successful version (or --version V it had); skips the "
        "enforced order");
    deploy
        ->add_flag("--only-changed", args->only_changed,
                   "Leave out services whose version and definition are those of their last "
                   "successful deployment (the plan says `unchanged`)")
        ->excludes(rollback);
    deploy
        ->add_option("--on-failure", args->on_failure,
                     "When the deployment fails: stop (leave what deployed on the new version) "
                     "or rollback (the services that ran go back to their previous version "
                     "and definition, dependents first; cancelling it exits 130)")
        ->type_name("stop|rollback")
        ->check(CLI::IsMember({"stop", "rollback"}).description(""));
    on_run(*deploy, inv, [&inv, args] { return run_deploy(inv, *args, false); });

    auto* stop =
        environment.add_subcommand("stop", "Run every service's stop command, last stage first");
    stop->add_option_function<std::string>(
            "--services", [args](const std::string& v) { args->services = v; },
            "Stop only these services (comma-separated)")
        ->type_name("SERVICES");
    add_parallelism(*stop, *args);
    add_wait_follow_grace(*stop, *args, "Stream every stop command's output");
    set_examples(
        *stop, "  depctl environment stop\n  depctl environment stop -e preview-42 --services Api");
    on_run(*stop, inv, [&inv, args] { return run_deploy(inv, *args, true); });
    register_rollback(environment, inv);
}

}  // namespace depctl::cli
