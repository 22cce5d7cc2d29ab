// `deployment list/show/logs`.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "depctl/context.hpp"
#include "depctl/error.hpp"
#include "depctl/history.hpp"
#include "depctl/names.hpp"
#include "depctl/plan.hpp"
#include "table.hpp"
#include "util/files.hpp"

namespace depctl::cli {
namespace {

std::string ms_text(long long ms) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1fs", static_cast<double>(ms) / 1000.0);
    return buffer;
}

void print_record(const DeploymentRecord& r) {
    std::cout << "Deployment:  " << r.id << '\n'
              << "Environment: " << r.environment << '\n'
              << "Version:     " << r.version << '\n'
              << "Status:      " << to_string(r.status) << '\n'
              << "By:          " << r.user << '@' << r.host << " (" << r.trigger << ")\n"
              << "Started:     " << r.started_at << '\n'
              << "Finished:    " << r.finished_at << " (" << ms_text(r.duration_ms) << ")\n";
    if (!r.rolled_back_to.empty())
        std::cout << "Rollback:    of the environment to " << r.rolled_back_to
                  << " (each service at the version it had then)\n";
    if (r.failed_step) {
        const FailedStep& f = *r.failed_step;
        std::cout << "Failed step: " << f.service << ' ' << f.step << ", exit code " << f.exit_code
                  << " (log " << f.log << ")\n";
    }
    if (r.on_failure_rollback) {  // --on-failure rollback: who went back to what
        std::string back;
        for (const StageRecord& stage : r.on_failure_rollback->stages) {
            for (const ServiceRecord& svc : stage.services)
                back += ", " + svc.name + " " + std::string(to_string(svc.status)) + " at " +
                        r.version_of(svc);
        }
        std::cout << "On failure:  rollback " << to_string(r.on_failure_rollback->status)
                  << (back.empty() ? std::string() : ":" + back.substr(1)) << '\n';
    }
    for (const StageRecord& stage : r.stages) {
        std::cout << "\n# deployment stage " << stage.position << ": \"" << stage.name << "\"\n";
        if (stage.services.empty()) std::cout << "<no service>\n";
        std::vector<std::vector<std::string>> rows;
        for (const ServiceRecord& svc : stage.services) {
            std::string steps;
            for (const StepRecord& step : svc.steps) {
                steps += (steps.empty() ? "" : ", ") + step.name + " " +
                         std::string(to_string(step.status));
                if (step.status == StepStatus::reused || step.status == StepStatus::not_started)
                    continue;  // nothing ran
                steps += " " + ms_text(step.duration_ms);
                if (step.status != StepStatus::succeeded)
                    steps += " (exit " + std::to_string(step.exit_code) + ")";
            }
            const std::string name =
                svc.version.empty() ? svc.name : svc.name + " at " + svc.version;
            rows.push_back({name, std::string(to_string(svc.status)), steps.empty() ? "-" : steps});
        }
        if (!rows.empty()) std::cout << render_table({"Service", "Status", "Steps"}, rows);
        for (const std::string& left : stage.left_out) std::cout << "  " << left << '\n';
    }
}

struct DeploymentArgs {
    std::string id;
    std::size_t limit = 20;
    std::string status;
    std::string service;
    std::string step;
};

}  // namespace

void register_deployment(CLI::App& app, Invocation& inv) {
    auto* cmd =
        app.add_subcommand("deployment", "Deployment history: list, show, logs, timeline, explain");
    cmd->require_subcommand(1);
    set_examples(*cmd, "  depctl deployment list\n  depctl deployment show dep_k2j4h5g6f7d8");
    auto args = std::make_shared<DeploymentArgs>();

    auto* list = cmd->add_subcommand("list", "Deployments of the environment, newest first");
    list->add_option("--limit,-n", args->limit, "At most this many (0 = all; default 20)")
        ->type_name("N");
    list->add_option("--status", args->status,
                     "Only deployments that ended with this status: DEPLOYED, BUILD_ERROR, "
                     "DEPLOYMENT_ERROR, CANCELED, STOPPED, STOP_ERROR, INTERRUPTED or LOCK_LOST")
        ->type_name("STATUS");
    add_json_flag(*list, inv.options);
    set_examples(
        *list,
        "  depctl deployment list\n  depctl deployment list --status DEPLOYED --limit 1 --json");
    on_run(*list, inv, [&inv, args] {
        auto store = open_state(inv.options);
        const State state = store->load();
        const Environment& env = select_environment(state, inv.options.environment);
        const auto records = list_deployments(*store, env, {args->limit, args->status});
        nlohmann::json summaries = nlohmann::json::array();
        for (const auto& r : records) summaries.push_back(deployment_summary(r));
        if (json_output(inv.options)) {
            print_json(summaries);
            return 0;
        }
        if (summaries.empty()) {
            std::cout << "<no deployment>\n";
            return 0;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& s : summaries) {
            rows.push_back({s["id"], s["version"], s["status"], s["started_at"],
                            ms_text(s["duration_ms"].get<long long>()), s["user"]});
        }
        std::cout << render_table({"Id", "Version", "Status", "Started", "Duration", "By"}, rows);
        return 0;
    });

    auto* show = cmd->add_subcommand("show", "One deployment: every stage, service and step");
    show->add_option("id", args->id,
                     "Deployment id (or a unique prefix of at least 6 characters), or `latest`")
        ->required()
        ->type_name("DEPLOYMENT|latest");
    set_examples(
        *show,
        "  depctl deployment show dep_k2j4h5g6f7d8\n  depctl deployment show dep_k2j4h5 -o json\n"
        "  depctl deployment show latest");
    on_run(*show, inv, [&inv, args] {
        auto store = open_state(inv.options);
        const State state = store->load();
        const auto record = load_deployment(*store, state, inv.options, args->id);
        if (json_output(inv.options)) {
            print_json(record.to_json());
        } else {
            print_record(record);
        }
        return 0;
    });

    auto* logs = cmd->add_subcommand("logs", "Print the logs of a deployment's steps");
    logs->add_option("id", args->id,
                     "Deployment id (or a unique prefix of at least 6 characters), or `latest`")
        ->required()
        ->type_name("DEPLOYMENT|latest");
    logs->add_option("--service", args->service, "Only this service")->type_name("SERVICE");
    logs->add_option("--step", args->step, "Only this step, or a hook")
        ->type_name("build|release|deploy|health|stop|pre-deploy|post-deploy");
    set_examples(*logs,
                 "  depctl deployment logs dep_k2j4h5g6f7d8\n"
                 "  depctl deployment logs dep_k2j4h5g6f7d8 --service Backend --step deploy\n"
                 "  depctl deployment logs latest --service Backend");
    on_run(*logs, inv, [&inv, args] {
        if (!args->step.empty() && !parse_step_kind(args->step) && args->step != "pre-deploy" &&
            args->step != "post-deploy") {
            throw Error(ErrorKind::Usage, "unknown step " + show_name(args->step),
                        "use build, release, deploy, health, pre-deploy or post-deploy");
        }
        auto store = open_state(inv.options);
        const State state = store->load();
        const auto record = load_deployment(*store, state, inv.options, args->id);
        const auto files = deployment_logs(record, args->service, to_lower(args->step));
        nlohmann::json out = nlohmann::json::array();
        for (const auto& file : files) {
            const auto content = read_file(file.path);
            if (json_output(inv.options)) {
                out.push_back(
                    {{"service", file.service},
                     {"step", file.step},
                     {"path", file.path},
                     {"content", content ? nlohmann::json(*content) : nlohmann::json(nullptr)}});
                if (file.rollback) out.back()["rollback"] = true;
                continue;
            }
            std::cout << "==> " << (file.service.empty() ? "hook" : file.service) << ' '
                      << file.step << (file.rollback ? ", rolling back" : "") << " (" << file.path
                      << ") <==\n";
            std::cout << (content ? *content : std::string("(log not found on this machine)\n"));
            if (content && !content->empty() && content->back() != '\n') std::cout << '\n';
        }
        if (json_output(inv.options)) print_json(out);
        return 0;
    });
}

}  // namespace depctl::cli
