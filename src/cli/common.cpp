#include "common.hpp"

#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "depctl/error.hpp"
#include "depctl/open_store.hpp"

namespace depctl::cli {

void add_global_options(CLI::App& app, Options& options) {
    // Value labels (PATH, ENV, ...) also tell shell completion what to offer (cmd_completion.cpp).
    app.add_option("--state", options.state,
                   "State file, or etcd://HOST:PORT[,HOST:PORT...]/PREFIX (default: DEPCTL_STATE, "
                   "else the nearest "
                   ".depctl/state.json)")
        ->type_name("PATH");
    app.add_option(
           "-e,--environment", options.environment,
           "Environment to work on (default: DEPCTL_ENVIRONMENT, else `depctl context set`)")
        ->type_name("ENV");
    app.add_option("-o,--output", options.output,
                   "Output format: text, or json (one JSON document; JSON lines for deploy)")
        ->check(CLI::IsMember({"text", "json"}).description(""))
        ->type_name("text|json")
        ->default_str("text");
    app.add_flag("--no-color", options.no_color,
                 "No colour in the output (also when NO_COLOR is set)");
    app.add_flag("-q,--quiet", options.quiet,
                 "Print only results and errors, no confirmation or progress lines");
    app.add_flag("-v,--verbose", options.verbose,
                 "Repeatable; accepted for scripts, no command prints more yet");
    app.add_option("--lock-timeout", options.lock_timeout_s,
                   "Seconds to wait for the state lock, 0 to 3600")
        ->check(seconds_range(0, 3600))
        ->type_name("SECONDS")
        ->default_str("10");
}

CLI::Validator seconds_range(double low, double high) {
    return CLI::Validator(
        [low, high](std::string& text) -> std::string {
            double value = 0;
            if (!CLI::detail::lexical_cast(text, value) || !(value >= low && value <= high)) {
                std::ostringstream message;
                message << "Value " << text << " not in range " << low << " to " << high;
                return message.str();
            }
            return {};
        },
        "");
}

void add_json_flag(CLI::App& command, Options& options) {
    command.add_flag_callback(
        "--json", [&options] { options.output = "json"; }, "Same as -o json");
}

void on_run(CLI::App& command, Invocation& invocation, std::function<int()> action) {
    command.callback([&invocation, action = std::move(action)] { invocation.action = action; });
}

void set_examples(CLI::App& command, const std::string& examples) {
    command.footer("\nExamples:\n" + examples);
}

std::unique_ptr<StateStore> open_state(const Options& options, bool for_init) {
    StoreOptions store_options;
    store_options.lock_timeout = std::chrono::milliseconds(
        static_cast<long long>(std::llround(options.lock_timeout_s * 1000)));
    const std::optional<std::string> flag =
        options.state.empty() ? std::nullopt : std::optional<std::string>(options.state);
    return open_store(resolve_state_location(flag, std::filesystem::current_path(), for_init),
                      store_options);
}

bool json_output(const Options& options) {
    return options.output == "json";
}

void print_json(const nlohmann::json& value) {
    // Invalid UTF-8 in a name must not turn a read command into a crash.
    std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

void say(const Options& options, const std::string& line) {
    if (!options.quiet) std::cout << line << '\n';
}

}  // namespace depctl::cli
