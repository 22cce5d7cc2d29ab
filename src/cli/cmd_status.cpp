// `environment status`: what runs where, each service's version and last status.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "depctl/context.hpp"
#include "depctl/history.hpp"
#include "table.hpp"

namespace depctl::cli {
namespace {

void print_status(const nlohmann::json& view) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : view["services"]) {
        rows.push_back(
            {s["name"].get<std::string>() + (s["skipped"].get<bool>() ? " (skipped)" : ""),
             s["stage"].get<std::string>(),
             s["version"].is_null() ? "-" : s["version"].get<std::string>(),
             s["status"].get<std::string>(),
             s["updated_at"].get<std::string>().empty() ? "-"
                                                        : s["updated_at"].get<std::string>()});
    }
    std::cout << "Environment \"" << view["environment"].get<std::string>()
              << "\": " << view["summary"].get<std::string>() << "\n\n";
    if (rows.empty()) {
        std::cout << "<no service>\n";
        return;
    }
    std::cout << render_table({"Service", "Stage", "Version", "Status", "Since"}, rows);
}

}  // namespace

void register_status(CLI::App& environment, Invocation& inv) {
    auto* status = environment.add_subcommand(
        "status", "What runs where: each service's version and last status");
    add_json_flag(*status, inv.options);
    set_examples(*status,
                 "  depctl environment status\n  depctl environment status -e production -o json");
    on_run(*status, inv, [&inv] {
        auto store = open_state(inv.options);
        const State state = store->load();
        const auto view =
            environment_status_view(select_environment(state, inv.options.environment));
        if (json_output(inv.options)) {
            print_json(view);
        } else {
            print_status(view);
        }
        return 0;
    });
}

}  // namespace depctl::cli
