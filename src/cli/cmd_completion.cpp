// `completion bash|zsh|fish` and the hidden `__complete` that the scripts call back.
//
// `depctl __complete -- WORD... CURRENT` walks the same CLI11 tree that parses commands,
// so subcommands and flags never go stale, and reads names from the state: an option's
// value label in --help says what it takes (ENV, STAGE, SERVICE, SERVICES, ENVS,
// DEPLOYMENT, PATH, DIR, or choices such as on|off). It is silent on every error: a
// completion must never print an error into the user's command line.
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "completion_scripts.hpp"
#include "depctl/context.hpp"
#include "depctl/error.hpp"
#include "depctl/history.hpp"
#include "depctl/names.hpp"
#include "help.hpp"

namespace depctl::cli {
namespace {

enum class Directive { names, files, dirs };

struct Candidate {
    std::string value;
    std::string help;
};

struct Completion {
    Directive directive = Directive::names;
    std::vector<Candidate> candidates;
};

// What the words before the cursor say: where in the tree we are and which state to read.
struct Position {
    const CLI::App* command = nullptr;
    const CLI::Option* pending = nullptr;  // an option that still waits for its value
    std::size_t positionals = 0;           // positional words given to `command`
    Options options;                       // --state and -e from the words
};

const CLI::Option* find_option(const CLI::App& app, const std::string& name) {
    // Global options are accepted after any subcommand (fallthrough): look upwards too.
    for (const CLI::App* a = &app; a; a = a->get_parent()) {
        if (const CLI::Option* opt = a->get_option_no_throw(name)) return opt;
    }
    return nullptr;
}

const CLI::App* find_subcommand(const CLI::App& app, const std::string& word) {
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->check_name(word)) return sub;
    }
    return nullptr;
}

bool takes_value(const CLI::Option& opt) {
    return opt.get_type_size() != 0;
}

void remember(Position& at, const CLI::Option& opt, const std::string& value) {
    if (opt.check_name("--state")) at.options.state = value;
    if (opt.check_name("--environment")) at.options.environment = value;
}

Position walk(const CLI::App& root, const std::vector<std::string>& words) {
    Position at;
    at.command = &root;
    bool only_positionals = false;
    for (const std::string& word : words) {
        if (at.pending) {
            remember(at, *at.pending, word);
            at.pending = nullptr;
            continue;
        }
        if (word == "--") {
            only_positionals = true;
            continue;
        }
        if (!only_positionals && word.size() > 1 && word[0] == '-') {
            const auto eq = word.find('=');
            const CLI::Option* opt = find_option(*at.command, word.substr(0, eq));
            if (opt && takes_value(*opt)) {
                if (eq == std::string::npos)
                    at.pending = opt;
                else
                    remember(at, *opt, word.substr(eq + 1));
            }
            continue;
        }
        if (const CLI::App* sub = only_positionals ? nullptr : find_subcommand(*at.command, word)) {
            at.command = sub;
            at.positionals = 0;
            continue;
        }
        ++at.positionals;
    }
    return at;
}

std::vector<std::string> environment_names(const Position& at) {
    const State state = open_state(at.options)->load();
    std::vector<std::string> out;
    for (const auto& env : state.environments) out.push_back(env.name);
    return out;
}

// The label of a deployment id argument: an id, a prefix of one, or `latest`.
constexpr const char* k_deployment_or_latest = "DEPLOYMENT|latest";

std::vector<std::string> names_in_environment(const Position& at, const std::string& label) {
    auto store = open_state(at.options);
    const State state = store->load();
    std::vector<std::string> out;
    if (label == "DEPLOYMENT") {
        // Ids are unique across environments; without a selected one, offer them all.
        std::vector<const Environment*> envs;
        try {
            envs.push_back(&select_environment(state, at.options.environment));
        } catch (const Error&) {
            for (const auto& env : state.environments) envs.push_back(&env);
        }
        out.push_back("latest");  // accepted wherever an id is (DESIGN §4)
        for (const Environment* env : envs) {
            for (const auto& record : list_deployments(*store, *env, {20, {}}))
                out.push_back(record.id);
        }
        return out;
    }
    const Environment& env = select_environment(state, at.options.environment);
    if (label == "STAGE") {
        for (const auto& stage : env.stages) out.push_back(stage.name);
    } else {
        for (const auto& service : env.services) out.push_back(service.name);
    }
    return out;
}

bool starts_with(const std::string& text, const std::string& prefix, bool ignore_case) {
    if (text.size() < prefix.size()) return false;
    return ignore_case ? iequals(text.substr(0, prefix.size()), prefix)
                       : text.compare(0, prefix.size(), prefix) == 0;
}

// The values an option (or positional) labelled `label` takes, matching `current`.
Completion complete_value(const Position& at, std::string label, const std::string& current) {
    label = label.substr(0, label.find(':'));  // a validator's note, as in "N:INT in [1 - 9]"
    Completion out;
    if (label == "PATH" || label == "FILE") {
        out.directive = Directive::files;
        return out;
    }
    if (label == "DIR") {
        out.directive = Directive::dirs;
        return out;
    }
    std::vector<std::string> values;
    std::string prefix;  // the items of a comma-separated list already typed
    std::string partial = current;
    if (label == k_deployment_or_latest) {
        values = names_in_environment(at, "DEPLOYMENT");
    } else if (label.find('|') != std::string::npos) {
        std::stringstream choices(label);
        for (std::string choice; std::getline(choices, choice, '|');) values.push_back(choice);
    } else if (label == "ENV" || label == "ENVS") {
        values = environment_names(at);
    } else if (label == "STAGE" || label == "SERVICE" || label == "SERVICES" ||
               label == "DEPLOYMENT") {
        values = names_in_environment(at, label);
    }
    if (label == "SERVICES" || label == "ENVS") {
        const auto comma = current.rfind(',');
        if (comma != std::string::npos) {
            prefix = current.substr(0, comma + 1);
            partial = current.substr(comma + 1);
        }
    }
    for (const std::string& value : values) {
        if (!prefix.empty() &&
            ("," + to_lower(prefix)).find("," + to_lower(value) + ",") != std::string::npos)
            continue;
        if (starts_with(value, partial, true)) out.candidates.push_back({prefix + value, {}});
    }
    return out;
}

Completion complete_words(const CLI::App& root, std::vector<std::string> words) {
    const std::string current = words.empty() ? std::string() : words.back();
    if (!words.empty()) words.pop_back();
    const Position at = walk(root, words);
    if (at.pending) return complete_value(at, at.pending->get_type_name(), current);

    Completion out;
    if (current.size() > 1 && current[0] == '-' && current.find('=') != std::string::npos) {
        const auto eq = current.find('=');
        const CLI::Option* opt = find_option(*at.command, current.substr(0, eq));
        if (!opt || !takes_value(*opt)) return out;
        out = complete_value(at, opt->get_type_name(), current.substr(eq + 1));
        for (Candidate& c : out.candidates) c.value = current.substr(0, eq + 1) + c.value;
        return out;
    }
    if (!current.empty() && current[0] == '-') {
        // The command's own options, then the global ones (the root's).
        std::vector<const CLI::Option*> options = visible_options(*at.command, false);
        if (at.command->get_help_ptr()) options.push_back(at.command->get_help_ptr());
        if (at.command != &root) {
            const auto globals = visible_options(root, false);
            options.insert(options.end(), globals.begin(), globals.end());
        }
        for (const CLI::Option* opt : options) {
            for (const auto& name : opt->get_lnames()) {
                if (starts_with("--" + name, current, false))
                    out.candidates.push_back({"--" + name, opt->get_description()});
            }
            for (const auto& name : opt->get_snames()) {
                if (starts_with("-" + name, current, false))
                    out.candidates.push_back({"-" + name, opt->get_description()});
            }
        }
        return out;
    }
    for (const CLI::App* sub : visible_subcommands(*at.command)) {
        if (starts_with(sub->get_name(), current, false))
            out.candidates.push_back({sub->get_name(), sub->get_description()});
    }
    const auto positionals = visible_options(*at.command, true);
    if (at.positionals < positionals.size()) {
        const Completion values =
            complete_value(at, positionals[at.positionals]->get_type_name(), current);
        if (values.directive != Directive::names) return values;
        out.candidates.insert(out.candidates.end(), values.candidates.begin(),
                              values.candidates.end());
    }
    return out;
}

void print_completion(const Completion& completion) {
    std::string out = completion.directive == Directive::files  ? ":files\n"
                      : completion.directive == Directive::dirs ? ":dirs\n"
                                                                : ":names\n";
    for (const Candidate& c : completion.candidates) {
        out += c.value;
        if (!c.help.empty()) out += "\t" + c.help;
        out += '\n';
    }
    std::cout << out << std::flush;
}

}  // namespace

void register_completion(CLI::App& app, Invocation& inv) {
    auto shell = std::make_shared<std::string>();
    auto* cmd =
        app.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
    cmd->add_option("shell", *shell, "The shell to complete for")
        ->required()
        ->check(CLI::IsMember({"bash", "zsh", "fish"}))
        ->type_name("bash|zsh|fish");
    set_examples(*cmd,
                 "  source <(depctl completion bash)        # in ~/.bashrc\n"
                 "  depctl completion fish > ~/.config/fish/completions/depctl.fish");
    on_run(*cmd, inv, [shell] {
        std::cout << (*shell == "bash"  ? k_bash_completion
                      : *shell == "zsh" ? k_zsh_completion
                                        : k_fish_completion);
        return 0;
    });

    // Hidden (empty group): called by the scripts with the words typed so far.
    auto words = std::make_shared<std::vector<std::string>>();
    auto* complete = app.add_subcommand(
        "__complete", "Print completion candidates for WORDS (used by the scripts)");
    complete->group("");
    complete->add_option("words", *words, "The words after `depctl`, the last one being completed");
    on_run(*complete, inv, [&app, words] {
        try {
            print_completion(complete_words(app, *words));
        } catch (...) {
            // An unreadable state or an unknown environment means no names, never an error.
            print_completion({});
        }
        return 0;
    });
}

}  // namespace depctl::cli
