// `state migrate --to URL`: moves a project between the file and etcd backends.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "depctl/etcd_store.hpp"
#include "depctl/migrate.hpp"
#include "depctl/names.hpp"
#include "depctl/open_store.hpp"

namespace depctl::cli {
namespace {

// `--to DIR` (existing or not, unless it ends in .json) means DIR/state.json, so that
// `--to .depctl` never writes a state *file* called ".depctl".
std::string target_location(const std::string& to) {
    if (is_etcd_location(to)) return to;
    const std::filesystem::path path(to);
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored) || path.extension() != ".json")
        return (path / "state.json").string();
    return to;
}

}  // namespace

void register_state(CLI::App& app, Invocation& inv) {
    auto* cmd = app.add_subcommand("state", "Manage where the state lives");
    cmd->require_subcommand(1);
    auto* migrate = cmd->add_subcommand(
        "migrate",
        "Copy the project (state and deployment history) to another backend: file <-> etcd");
    auto to = std::make_shared<std::string>();
    migrate
        ->add_option("--to", *to,
                     "Target: etcd://HOST:PORT[,HOST:PORT...]/PREFIX or a state file path")
        ->required();
    set_examples(
        *migrate,
        "  depctl state migrate --to etcd://10.0.0.5:2379,10.0.0.6:2379/shop\n"
        "  depctl --state etcd://10.0.0.5:2379/shop state migrate --to ./.depctl/state.json");
    on_run(*migrate, inv, [&inv, to] {
        auto from = open_state(inv.options);
        StoreOptions target_options;
        target_options.lock_timeout =
            std::chrono::milliseconds(static_cast<long long>(inv.options.lock_timeout_s * 1000));
        auto target = open_store(target_location(*to), target_options);
        const MigrationReport report = migrate_state(*from, *target);
        if (json_output(inv.options)) {
            print_json({{"project", report.project},
                        {"from", from->location()},
                        {"to", target->location()},
                        {"environments", report.environments},
                        {"history_records", report.history_records}});
            return 0;
        }
        say(inv.options, "Migrated project " + show_name(report.project) + " (" +
                             std::to_string(report.environments) + " environments, " +
                             std::to_string(report.history_records) + " deployment records) from " +
                             from->location() + " to " + target->location());
        say(inv.options, "Use it with --state " + target->location() +
                             " or DEPCTL_STATE; the old state was left as it is.");
        return 0;
    });
}

}  // namespace depctl::cli
