// `environment status`: what runs where, each service's version and last status.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "depctl/context.hpp"
#include "depctl/error.hpp"
#include "depctl/health.hpp"
#include "depctl/history.hpp"
#include "signals.hpp"
#include "table.hpp"

namespace depctl::cli {
namespace {

// The health checks run now, into the view: `check` is UP, DOWN or null (no check), and
// `check_detail` says why it is DOWN.
int add_checks(nlohmann::json& view, const State& state, const Environment& env,
               const StateStore& store) {
    CancelSignal cancel;
    SignalWatcher watcher(cancel, [](CancelLevel) {});
    HealthNowContext context;
    context.project = state.project.name;
    context.project_dir = store.project_dir();
    const std::vector<HealthNow> checks = check_health_now(env, context, cancel);
    if (cancel.level() != CancelLevel::none)
        throw Error(ErrorKind::Canceled, "health checks cancelled", "nothing was changed");
    int down = 0;
    for (std::size_t i = 0; i < checks.size(); ++i) {
        nlohmann::json& s = view["services"][i];
        const HealthNow& check = checks[i];
        s["check"] = check.result == HealthNow::Result::unchecked ? nlohmann::json(nullptr)
                     : check.result == HealthNow::Result::up      ? "UP"
                                                                  : "DOWN";
        s["check_detail"] = check.detail;
        if (check.result == HealthNow::Result::down) ++down;
    }
    return down;
}

std::string check_cell(const nlohmann::json& s) {
    if (s["check"].is_null()) return "-";
    const std::string detail = s["check_detail"].get<std::string>();
    return s["check"].get<std::string>() + (detail.empty() ? "" : " (" + detail + ")");
}

void print_status(const nlohmann::json& view) {
    const bool checked = !view["services"].empty() && view["services"][0].contains("check");
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : view["services"]) {
        rows.push_back(
            {s["name"].get<std::string>() + (s["skipped"].get<bool>() ? " (skipped)" : ""),
             s["stage"].get<std::string>(),
             s["version"].is_null() ? "-" : s["version"].get<std::string>(),
             s["status"].get<std::string>(),
             s["updated_at"].get<std::string>().empty() ? "-"
                                                        : s["updated_at"].get<std::string>()});
        if (checked) rows.back().push_back(check_cell(s));
    }
    std::cout << "Environment \"" << view["environment"].get<std::string>()
              << "\": " << view["summary"].get<std::string>() << "\n\n";
    if (rows.empty()) {
        std::cout << "<no service>\n";
        return;
    }
    std::vector<std::string> header = {"Service", "Stage", "Version", "Status", "Since"};
    if (checked) header.push_back("Check");
    std::cout << render_table(header, rows);
}

}  // namespace

void register_status(CLI::App& environment, Invocation& inv) {
    auto* status = environment.add_subcommand(
        "status", "What runs where: each service's version and last status");
    add_json_flag(*status, inv.options);
    auto check = std::make_shared<bool>(false);
    status->add_flag("--check", *check,
                     "Also run each service's health check once, now: UP or DOWN beside what was "
                     "deployed; exit 1 when any is DOWN");
    set_examples(*status,
                 "  depctl environment status\n  depctl environment status -e production -o json\n"
                 "  depctl environment status --check   # is it up now?");
    on_run(*status, inv, [&inv, check] {
        auto store = open_state(inv.options);
        const State state = store->load();
        const Environment& env = select_environment(state, inv.options.environment);
        auto view = environment_status_view(env);
        const int down = *check ? add_checks(view, state, env, *store) : 0;
        if (json_output(inv.options)) {
            print_json(view);
        } else {
            print_status(view);
        }
        return down > 0 ? 1 : 0;
    });
}

}  // namespace depctl::cli
