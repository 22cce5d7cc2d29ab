// `service create/edit/delete/list/show/depend/undepend`.
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
#include "table.hpp"

namespace depctl::cli {
namespace {

// `label` names the value in --help and tells shell completion what to offer.
template <typename T>
void add_optional(CLI::App& cmd, const std::string& flag, std::optional<T>& target,
                  const std::string& label, const std::string& help) {
    cmd.add_option_function<T>(
           flag, [&target](const T& value) { target = value; }, help)
        ->type_name(label);
}

// Every option of DESIGN §4, shared by create and edit.
void add_service_options(CLI::App& cmd, ServiceChanges& c) {
    add_optional(cmd, "-s,--stage", c.stage, "STAGE", "Stage (default: the type's default stage)");
    add_optional(cmd, "--workdir", c.workdir, "DIR",
                 "Directory the commands run in (relative to the project)");
    add_optional(cmd, "--build", c.build, "CMD",
                 "Build command (gets no environment variables or secrets)");
    add_optional(cmd, "--release", c.release, "CMD",
                 "Release command run after the build, before deploy (migrations)");
    add_optional(cmd, "--deploy", c.deploy, "CMD", "Deploy command");
    add_optional(cmd, "--stop", c.stop, "CMD", "Stop command (environment stop)");
    add_optional(cmd, "--health-http", c.health_http, "URL",
                 "Health check URL polled after deploy (\"\" clears)");
    add_optional(cmd, "--health-cmd", c.health_cmd, "CMD",
                 "Health check command, healthy on exit 0 (\"\" clears)");
    add_optional(cmd, "--health-attempts", c.health_attempts, "N",
                 "Health check attempts (default 300)");
    add_optional(
        cmd, "--health-interval", c.health_interval_s, "SECONDS",
        "Seconds per health attempt; probes start fast and slow to one per interval (default 0.5)");
    add_optional(cmd, "--health-connect-timeout", c.health_connect_timeout_s, "SECONDS",
                 "HTTP connect timeout (default 0.4)");
    add_optional(cmd, "--health-timeout", c.health_timeout_s, "SECONDS",
                 "HTTP response timeout (default 20)");
    add_optional(cmd, "--health-expect", c.health_expect, "RANGE",
                 "Healthy HTTP status range, e.g. 200-399 (default: anything but 501-599)");
    add_optional(cmd, "--health-start-period", c.health_start_period_s, "SECONDS",
                 "Failures within this many seconds of the first attempt do not count");
    add_optional(cmd, "--build-timeout", c.build_timeout_s, "SECONDS",
                 "Build step timeout (default 1800)");
    add_optional(cmd, "--deploy-timeout", c.deploy_timeout_s, "SECONDS",
                 "Release/deploy step timeout (default 600)");
    add_optional(cmd, "--retries", c.retries, "N",
                 "Retries of a failed build or deploy step (default 0)");
    cmd.add_option_function<std::string>(
           "--version-from",
           [&c](const std::string& v) {
               const auto from = parse_version_from(v);
               if (!from)
                   throw CLI::ValidationError("--version-from", "unknown version source \"" + v +
                                                                    "\" (project or git-tree)");
               c.version_from = *from;
           },
           "Where the version comes from: project (--version, DEPCTL_VERSION or git HEAD; the "
           "default) or git-tree (the git tree hash of the service's workdir as it is on disk)")
        ->type_name("project|git-tree");
    cmd.add_option("--env", c.env_set, "Variable K=V for release/deploy/health/stop (repeatable)")
        ->type_name("K=V");
    cmd.add_option("--secret", c.secret_set,
                   "Secret K=env:VAR or K=file:PATH, read at deploy time (repeatable)")
        ->type_name("K=SOURCE");
}

std::string or_dash(const std::string& text) {
    return text.empty() ? "-" : text;
}

std::string render_service(const Environment& env, const Service& s) {
    const nlohmann::json view = service_view(env, s);
    std::ostringstream out;
    const auto row = [&](const char* label, const std::string& value) {
        out << label << std::string(14 - std::string_view(label).size(), ' ') << value << '\n';
    };
    row("Name:", s.name);
    row("Type:", std::string(to_string(s.type)));
    row("Environment:", env.name);
    row("Stage:", std::to_string(env.stage_index(s.stage_id) + 1) + " " +
                      show_name(view["stage"].get<std::string>()));
    row("Skipped:", s.skipped ? "yes" : "no");
    row("Workdir:", or_dash(s.workdir));
    if (s.version_from != VersionFrom::project)
        row("Version from:", std::string(to_string(s.version_from)));
    row("Build:", or_dash(s.build));
    row("Release:", or_dash(s.release));
    row("Deploy:", or_dash(s.deploy));
    row("Stop:", or_dash(s.stop));
    row("Health:", !s.health.http.empty()  ? "http " + s.health.http
                   : !s.health.cmd.empty() ? "cmd " + s.health.cmd
                                           : "-");
    std::string depends;
    // The default condition goes unsaid, as in the pipeline file's short form.
    for (const auto& dep : view["dependencies"]) {
        const std::string condition = dep["condition"].get<std::string>();
        depends += (depends.empty() ? "" : ", ") + dep["service"].get<std::string>() +
                   (condition == to_string(EdgeCondition::healthy) ? "" : " (" + condition + ")");
    }
    row("Depends on:", or_dash(depends));
    std::string vars;
    for (const auto& [key, value] : s.env) vars += (vars.empty() ? "" : " ") + key + "=" + value;
    row("Env:", or_dash(vars));
    std::string secrets;
    for (const auto& secret : s.secrets)
        secrets += (secrets.empty() ? "" : " ") + secret.key + " <- " + secret.source;
    row("Secrets:", or_dash(secrets));
    row("Version:", or_dash(s.current.version));
    row("Status:", or_dash(s.current.status) +
                       (s.current.updated_at.empty() ? "" : " at " + s.current.updated_at));
    return out.str();
}

// Runs `change` (which returns the id of the service it touched) on the selected
// environment, then prints that service as JSON or the line `message` makes of it.
int mutate_service(Invocation& inv, const std::function<std::string(Environment&)>& change,
                   const std::function<std::string(const Environment&, const Service&)>& message) {
    auto store = open_state(inv.options);
    std::string env_id;
    std::string id;
    const State state = store->transact([&](State& s) {
        Environment& env = selected_environment(s, inv.options);
        env_id = env.id;
        id = change(env);
    });
    warn_if_file_managed(inv.options, state);
    const Environment& env = *state.find_environment_by_id(env_id);
    const Service& service = *env.find_service_by_id(id);
    if (json_output(inv.options)) {
        print_json(service_view(env, service));
    } else {
        say(inv.options, message(env, service));
    }
    return 0;
}

struct ServiceArgs {
    std::string name;
    std::string type;
    std::string on;
    EdgeCondition condition = EdgeCondition::healthy;
    ServiceChanges changes;
};

// --condition of `service depend`: what the dependent waits for (DESIGN §9).
void add_condition_option(CLI::App& dep, ServiceArgs& args) {
    dep.add_option_function<std::string>(
           "--condition",
           [&args](const std::string& v) {
               const auto condition = parse_edge_condition(v);
               if (!condition)
                   throw CLI::ValidationError(
                       "--condition",
                       "unknown condition \"" + v + "\" (healthy, started or completed)");
               args.condition = *condition;
           },
           "What to wait for: healthy (its health step passed; the default), started (its "
           "deploy step succeeded, health not awaited) or completed (every step of it "
           "succeeded: for jobs such as migrations)")
        ->type_name("healthy|started|completed");
}

}  // namespace

void register_service(CLI::App& app, Invocation& inv) {
    auto* cmd = app.add_subcommand("service", "Manage the services of an environment");
    cmd->alias("svc");
    cmd->require_subcommand(1);
    set_examples(
        *cmd,
        "  depctl service create Api --type application --build 'make' --deploy './run.sh'\n"
        "  depctl service list");
    auto args = std::make_shared<ServiceArgs>();

    auto* create =
        cmd->add_subcommand("create", "Create a service in its type's default stage (or --stage)");
    create->add_option("name", args->name, "Name of the new service")
        ->required()
        ->type_name("NAME");
    create->add_option("-t,--type", args->type, "Service type, in any letter case")
        ->required()
        ->type_name("application|container|database|job|helm");
    add_service_options(*create, args->changes);
    set_examples(
        *create,
        "  depctl service create DB --type database --deploy './db.sh start' --stop './db.sh "
        "stop'\n"
        "  depctl service create Backend --type application --build 'make' --deploy './run.sh' \\\n"
        "      --health-http http://127.0.0.1:8080/health --env PORT=8080 --secret "
        "TOKEN=env:API_TOKEN");
    on_run(*create, inv, [&inv, args] {
        const auto type = parse_service_type(args->type);
        if (!type) {
            throw Error(ErrorKind::Usage, "unknown service type " + show_name(args->type),
                        "use APPLICATION, CONTAINER, DATABASE, JOB or HELM");
        }
        return mutate_service(
            inv,
            [&](Environment& env) {
                return create_service(env, args->name, *type, args->changes).id;
            },
            [](const Environment& env, const Service& service) {
                return "Service " + show_name(service.name) + " created in stage " +
                       show_name(env.find_stage_by_id(service.stage_id)->name);
            });
    });

    auto* edit =
        cmd->add_subcommand("edit", "Change a service's options (unset options stay as they are)");
    edit->add_option("name", args->name, "Service to change")->required()->type_name("SERVICE");
    add_optional(*edit, "--new-name", args->changes.new_name, "NAME", "New name");
    edit->add_option_function<std::string>(
            "-t,--type",
            [args](const std::string& v) {
                const auto type = parse_service_type(v);
                if (!type)
                    throw CLI::ValidationError("--type", "unknown service type \"" + v + "\"");
                args->changes.type = type;
            },
            "New type (the service stays in its stage)")
        ->type_name("application|container|database|job|helm");
    add_service_options(*edit, args->changes);
    edit->add_option("--unset-env", args->changes.env_unset, "Remove a variable (repeatable)")
        ->type_name("KEY");
    edit->add_option("--unset-secret", args->changes.secret_unset, "Remove a secret (repeatable)")
        ->type_name("KEY");
    set_examples(
        *edit,
        "  depctl service edit Backend --deploy './run.sh --port 8081' --env PORT=8081\n"
        "  depctl service edit Backend --health-http '' --health-cmd 'curl -fs localhost:8081'");
    on_run(*edit, inv, [&inv, args] {
        return mutate_service(
            inv,
            [&](Environment& env) {
                const std::string id = find_service(env, args->name).id;
                edit_service(env, args->name, args->changes);
                return id;
            },
            [](const Environment&, const Service&) {
                return std::string("Service updated successfully");
            });
    });

    auto* del =
        cmd->add_subcommand("delete", "Delete a service (refused while others depend on it)");
    del->add_option("name", args->name, "Service to delete")->required()->type_name("SERVICE");
    set_examples(*del, "  depctl service delete \"Pablo Backend App\"");
    on_run(*del, inv, [&inv, args] {
        auto store = open_state(inv.options);
        std::string deleted;
        store->transact([&](State& s) {
            Environment& env = selected_environment(s, inv.options);
            deleted = find_service(env, args->name).name;
            delete_service(env, args->name);
        });
        if (json_output(inv.options)) {
            print_json({{"deleted", deleted}});
        } else {
            say(inv.options, "Service " + show_name(deleted) + " deleted");
        }
        return 0;
    });

    auto* list = cmd->add_subcommand("list", "List services with their stage and status");
    add_json_flag(*list, inv.options);
    set_examples(*list,
                 "  depctl service list\n  depctl service list --json | jq -r '.[] | "
                 "select(.skipped) | .name'");
    on_run(*list, inv, [&inv] {
        auto store = open_state(inv.options);
        const State state = store->load();
        const Environment& env = select_environment(state, inv.options.environment);
        if (json_output(inv.options)) {
            print_json(service_list_view(env));
            return 0;
        }
        if (env.services.empty()) {
            std::cout << "<no service>\n";
            return 0;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& s : env.services) {
            rows.push_back({s.name + (s.skipped ? " (skipped)" : ""),
                            std::string(to_string(s.type)),
                            std::to_string(env.stage_index(s.stage_id) + 1) + " " +
                                env.find_stage_by_id(s.stage_id)->name,
                            or_dash(s.current.version), or_dash(s.current.status)});
        }
        std::cout << render_table({"Name", "Type", "Stage", "Version", "Status"}, rows);
        return 0;
    });

    auto* show = cmd->add_subcommand("show", "Show every option of a service");
    show->add_option("name", args->name, "Service to show")->required()->type_name("SERVICE");
    set_examples(*show, "  depctl service show Backend\n  depctl service show Backend -o json");
    on_run(*show, inv, [&inv, args] {
        auto store = open_state(inv.options);
        const State state = store->load();
        const Environment& env = select_environment(state, inv.options.environment);
        const Service& service = find_service(env, args->name);
        if (json_output(inv.options)) {
            print_json(service_view(env, service));
        } else {
            std::cout << render_service(env, service);
        }
        return 0;
    });

    for (const bool add : {true, false}) {
        auto* dep = cmd->add_subcommand(
            add ? "depend" : "undepend",
            add ? "Make a service wait for another (same or earlier stage): for its health by "
                  "default, for its deploy step (--condition started) or for all its steps "
                  "(--condition completed)"
                : "Remove a dependency, whatever its condition");
        dep->add_option("name", args->name, "The service that waits")
            ->required()
            ->type_name("SERVICE");
        dep->add_option("--on", args->on, "The service it waits for")
            ->required()
            ->type_name("SERVICE");
        if (add) add_condition_option(*dep, *args);
        set_examples(*dep, add ? "  depctl service depend nginx --on php-fpm\n"
                                 "  depctl service depend api --on migrate --condition completed\n"
                                 "  depctl service depend worker --on queue --condition started"
                               : "  depctl service undepend nginx --on php-fpm");
        on_run(*dep, inv, [&inv, args, add] {
            return mutate_service(
                inv,
                [&](Environment& env) {
                    add ? add_dependency(env, args->name, args->on, args->condition)
                        : remove_dependency(env, args->name, args->on);
                    return find_service(env, args->name).id;
                },
                [&](const Environment& env, const Service& service) {
                    const std::string other = show_name(find_service(env, args->on).name);
                    if (!add)
                        return "Service " + show_name(service.name) + " no longer depends on " +
                               other;
                    return "Service " + show_name(service.name) + " now depends on " + other +
                           " (" + std::string(to_string(args->condition)) + ")";
                });
        });
    }
}

}  // namespace depctl::cli
