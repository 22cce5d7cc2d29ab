// depctl_main(): builds the command tree, parses, runs the chosen command, and is the one
// place where errors become messages and exit codes (DESIGN §6). It lives apart from
// main() so that the command-line fuzz target (tests/fuzz/fuzz_cli.cpp) can call it.
#include "depctl_main.hpp"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "commands.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "help.hpp"
#include "util/error.hpp"

#ifndef DEPCTL_VERSION
#define DEPCTL_VERSION "0.0.0"
#endif
#ifndef DEPCTL_GIT_COMMIT
#define DEPCTL_GIT_COMMIT "unknown"
#endif

namespace {

using depctl::cli::Invocation;

void print_error(const std::string& what, const std::string& hint) {
    std::cerr << "error: " << what << '\n';
    if (!hint.empty()) std::cerr << "hint: " << hint << '\n';
}

// The innermost command the user reached, for "did you mean" and help hints.
const CLI::App* deepest_parsed(const CLI::App& app) {
    for (const CLI::App* sub : app.get_subcommands()) return deepest_parsed(*sub);
    return &app;
}

std::string command_path(const CLI::App& app) {
    std::string path = app.get_name();
    for (const CLI::App* p = app.get_parent(); p; p = p->get_parent())
        path = p->get_name() + " " + path;
    return path;
}

// Turns a parse error into a message and a hint. An unknown word where a command was
// expected gets "did you mean"; CLI11's own message covers the rest.
// CLI11 says "Could not convert: --retries = abc" for a value its option's type cannot
// hold; every such option here is a number, so say which rule the value broke.
std::optional<std::string> describe_conversion_error(const CLI::Error& error) {
    if (!dynamic_cast<const CLI::ConversionError*>(&error)) return std::nullopt;
    const std::string text = error.what();
    const std::string prefix = "Could not convert: ";
    const auto equals = text.find(" = ");
    if (text.rfind(prefix, 0) != 0 || equals == std::string::npos) return std::nullopt;
    const std::string flag = text.substr(prefix.size(), equals - prefix.size());
    const std::string value = text.substr(equals + 3);
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    const bool numeric = !value.empty() && end && *end == '\0' && std::isfinite(number);
    const char* why = !numeric                       ? "is not a number"
                      : number != std::floor(number) ? "is not a whole number"
                                                     : "is out of range";
    return flag + " " + depctl::show_name(value) + " " + why;
}

std::pair<std::string, std::string> describe_usage_error(const CLI::App& app,
                                                         const CLI::Error& error) {
    const CLI::App* at = deepest_parsed(app);
    const std::string help = "see `" + command_path(*at) + " --help`";
    if (auto conversion = describe_conversion_error(error)) return {*conversion, help};
    const auto extras = app.remaining(true);
    if (extras.empty()) return {error.what(), help};
    const std::string& word = extras.front();
    if (word.rfind('-', 0) == 0)
        return {"unknown option " + word + " for `" + command_path(*at) + "`", help};
    std::vector<std::string> names;
    for (const CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; }))
        names.push_back(sub->get_name());
    if (names.empty())
        return {"unexpected argument \"" + word + "\" for `" + command_path(*at) + "`", help};
    const auto matches = depctl::close_matches(word, names);
    return {"unknown command \"" + word + "\" for `" + command_path(*at) + "`",
            matches.empty() ? help
                            : "did you mean `" + command_path(*at) + " " + matches.front() + "`?"};
}

int run(int argc, char** argv) {
    CLI::App app{"depctl: deployment pipelines of ordered stages, from the terminal and from CI",
                 "depctl"};
    app.fallthrough();  // global options are accepted after any subcommand
    app.formatter(std::make_shared<depctl::cli::HelpFormatter>());  // inherited by every subcommand
    app.require_subcommand(1);
    app.set_version_flag("--version", "depctl " DEPCTL_VERSION " (commit " DEPCTL_GIT_COMMIT ")");
    app.footer(
        "\nExamples:\n  depctl init --project shop\n  depctl environment create staging\n"
        "  depctl context set -e staging\n  depctl environment stage list\n\n"
        "Exit codes: 0 ok, 1 deployment failed, 2 usage, 3 refused input, 4 busy, 5 policy,\n"
        "6 state store error, 130 cancelled.\n"
        "More: `depctl COMMAND --help`, `man depctl`, and the guides in docs/\n"
        "(installed in share/doc/depctl/docs): getting-started.md, commands.md.");

    Invocation invocation;
    invocation.arguments.assign(argv, argv + argc);
    depctl::cli::add_global_options(app, invocation.options);
    depctl::cli::register_init(app, invocation);
    depctl::cli::register_context(app, invocation);
    depctl::cli::register_project(app, invocation);
    CLI::App& environment = depctl::cli::register_environment(app, invocation);
    depctl::cli::register_stage(environment, invocation);
    depctl::cli::register_deploy(environment, invocation);
    depctl::cli::register_cancel(environment, invocation);
    depctl::cli::register_status(environment, invocation);
    depctl::cli::register_service(app, invocation);
    depctl::cli::register_deployment(app, invocation);
    depctl::cli::register_file_commands(app, invocation);
    depctl::cli::register_pictures(app, invocation);
    depctl::cli::register_completion(app, invocation);
    depctl::cli::register_man(app, invocation);
    depctl::cli::register_state(app, invocation);
    depctl::cli::register_ui(app, invocation);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // Never exit 0 on a usage error: scripts would carry on blind.
        const auto [what, hint] = describe_usage_error(app, e);
        print_error(what, hint);
        return depctl::exit_code_of(depctl::ErrorKind::Usage);
    }
    if (!invocation.action) {
        print_error("no command given", "see `depctl --help`");
        return depctl::exit_code_of(depctl::ErrorKind::Usage);
    }
    if (std::getenv("NO_COLOR")) invocation.options.no_color = true;
    return invocation.action();
}

}  // namespace

int depctl_main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const depctl::Error& e) {
        print_error(e.what(), e.hint());
        return e.exit_code();
    } catch (const depctl::util::Error& e) {
        // src/util knows nothing of depctl: its failures are I/O failures of the core.
        print_error(e.what(), e.hint());
        return depctl::exit_code_of(depctl::ErrorKind::Io);
    } catch (const std::filesystem::filesystem_error& e) {
        print_error(e.what(), {});
        return depctl::exit_code_of(depctl::ErrorKind::Io);
    } catch (const std::exception& e) {
        print_error(std::string("internal error: ") + e.what(), "please report this as a bug");
        return 1;
    }
}
