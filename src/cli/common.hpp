// Flags every command spells the same way, and the helpers commands share.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "depctl/model.hpp"
#include "depctl/store.hpp"

namespace depctl::cli {

struct Options {
    std::string state;
    std::string environment;
    std::string output = "text";
    bool no_color = false;
    bool quiet = false;
    int verbose = 0;
    double lock_timeout_s = 10;
};

// What main runs after parsing: set by the callback of the chosen leaf command.
struct Invocation {
    Options options;
    std::function<int()> action;
    std::vector<std::string> arguments;  // argv as given, for a command that re-executes itself
};

void add_global_options(CLI::App& app, Options& options);
// A number of seconds in [low, high]. Unlike CLI::Range it refuses NaN, which passes
// every comparison and would become an undefined conversion to milliseconds.
CLI::Validator seconds_range(double low, double high);
// `--json`, the alias of `-o json` that list commands take (as in the Qovery CLI).
void add_json_flag(CLI::App& command, Options& options);
// Makes `command` a leaf that runs `action` once parsing has finished.
void on_run(CLI::App& command, Invocation& invocation, std::function<int()> action);
void set_examples(CLI::App& command, const std::string& examples);

std::unique_ptr<StateStore> open_state(const Options& options, bool for_init = false);
bool json_output(const Options& options);
void print_json(const nlohmann::json& value);
// A result line on stdout, unless --quiet.
void say(const Options& options, const std::string& line);

}  // namespace depctl::cli
