// One source for --help, the man page and shell completion: the CLI11 command tree.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace depctl::cli {

// --help of a subcommand also lists the global options (they are accepted after any
// subcommand), between the command's own options and its examples.
class HelpFormatter final : public CLI::Formatter {
public:
    std::string make_footer(const CLI::App* app) const override;
};

const CLI::App& root_of(const CLI::App& app);
// "depctl environment stage list"
std::string command_path(const CLI::App& app);
// Subcommands shown in help (hidden ones such as __complete are left out), in order.
std::vector<const CLI::App*> visible_subcommands(const CLI::App& app);
// Options shown in help, without -h/--help and --version.
std::vector<const CLI::Option*> visible_options(const CLI::App& app, bool positional);
// Every visible command below `app`, depth first, `app` itself first.
std::vector<const CLI::App*> all_commands(const CLI::App& app);

}  // namespace depctl::cli
