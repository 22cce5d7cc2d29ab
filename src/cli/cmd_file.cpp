// `diff`, `apply`, `export`, `schema` and `import compose`: the pipeline file (DESIGN §8).
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "file_support.hpp"
#include "util/files.hpp"

namespace depctl::cli {
namespace {

struct FileArgs {
    std::string file;
    std::string out;
    bool yes = false;
};

std::optional<std::string> only_environment(const Options& options) {
    if (options.environment.empty()) return std::nullopt;
    return options.environment;
}

std::string required_file(const FileArgs& args) {
    const auto path = find_pipeline_file(args.file);
    if (!path)
        throw Error(ErrorKind::Refused,
                    "no depctl.yaml in the current directory or any parent directory",
                    "give one with -f FILE, or write it with `depctl export -o depctl.yaml`");
    return *path;
}

// The state, or nullopt when there is none yet (which counts as an empty project).
std::optional<State> existing_state(const Options& options) {
    try {
        return open_state(options)->load();
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotFound || !options.state.empty() ||
            std::getenv("DEPCTL_STATE"))
            throw;
        return std::nullopt;
    }
}

void say_in_sync(const Options& options, const std::string& path) {
    say(options, "No changes: the state matches " + (path == "-" ? std::string("<stdin>") : path));
}

int run_diff(const Options& options, const FileArgs& args) {
    const std::string path = required_file(args);
    const std::string text = read_pipeline_text(path);
    const auto existing = existing_state(options);
    if (existing && in_sync_with_file(*existing, text)) {  // as last applied: no parse needed
        if (json_output(options))
            print_json(diff_to_json({}));
        else
            say_in_sync(options, path);
        return 0;
    }
    const PipelineFile file = parse_pipeline_text(path, text);
    const auto only = only_environment(options);
    const State current = existing ? *existing : new_state(file.desired.project.name);
    const auto changes = diff_definitions(current, applied_state(current, file, only), only);
    if (json_output(options))
        print_json(diff_to_json(changes));
    else if (changes.empty())
        say_in_sync(options, path);
    else
        std::cout << render_diff(changes);
    return changes.empty() ? 0 : 1;
}

bool confirm(const std::string& question) {
    std::cout << question << " Only 'yes' will be accepted: " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return trim(answer) == "yes" || trim(answer) == "y";
}

int run_apply(const Options& options, const FileArgs& args) {
    const std::string path = required_file(args);
    const PipelineFile file = parse_pipeline_text(path, read_pipeline_text(path));
    const auto only = only_environment(options);
    const auto existing = existing_state(options);
    const State current = existing ? *existing : new_state(file.desired.project.name);
    const auto changes = diff_definitions(current, applied_state(current, file, only), only);
    if (!changes.empty() && !json_output(options) && !options.quiet)
        std::cout << render_diff(changes);
    if (!changes.empty() && !args.yes) {
        if (!::isatty(STDIN_FILENO) || file.path == "<stdin>")
            throw Error(ErrorKind::Policy, "apply needs confirmation",
                        "pass --yes to apply without a terminal");
        if (!confirm("Apply these " + std::to_string(changes.size()) + " changes?"))
            throw Error(ErrorKind::Policy, "apply not confirmed", "nothing was changed");
    }
    commit_pipeline_file(options, file, only);
    if (json_output(options)) {
        nlohmann::json result = diff_to_json(changes);
        result["applied"] = true;
        result["file"] = file.path;
        print_json(result);
    } else {
        say(options, changes.empty() ? "No changes: the state matches " + file.path
                                     : "Applied " + std::to_string(changes.size()) +
                                           " changes from " + file.path);
    }
    return 0;
}

int run_export(const Options& options, const FileArgs& args) {
    const State state = open_state(options)->load();
    const std::string text = export_pipeline_file(state, only_environment(options));
    if (args.out.empty() || args.out == "-") {
        std::cout << text;
    } else {
        write_file_atomic(args.out, text, 0644);
        say(options, "Wrote " + args.out);
    }
    return 0;
}

void add_file_flag(CLI::App& cmd, FileArgs& args) {
    cmd.add_option("-f,--file", args.file,
                   "Pipeline file (default: the nearest depctl.yaml; - reads stdin)")
        ->type_name("FILE");
}

}  // namespace

void register_file_commands(CLI::App& app, Invocation& inv) {
    static FileArgs args;
    auto* diff = app.add_subcommand(
        "diff", "Show what `apply` would change (exit 0 in sync, 1 when it differs)");
    add_file_flag(*diff, args);
    set_examples(*diff, "  depctl diff\n  depctl diff -f ci/depctl.yaml -e staging -o json\n");
    on_run(*diff, inv, [&inv] { return run_diff(inv.options, args); });

    auto* apply =
        app.add_subcommand("apply", "Make the state match the pipeline file, in one transaction");
    add_file_flag(*apply, args);
    apply->add_flag("-y,--yes", args.yes, "Apply without asking (needed without a terminal)");
    set_examples(*apply,
                 "  depctl apply\n  depctl apply --yes -e staging\n"
                 "  depctl export | depctl apply -f - --yes\n");
    on_run(*apply, inv, [&inv] { return run_apply(inv.options, args); });

    auto* exp = app.add_subcommand("export", "Write the pipeline file of the current state");
    exp->add_option(
           "-o,--out", args.out,
           "Write the file to FILE instead of stdout (-o here is the file, not the format)")
        ->type_name("FILE");
    set_examples(*exp, "  depctl export --out depctl.yaml\n  depctl export -e production\n");
    on_run(*exp, inv, [&inv] { return run_export(inv.options, args); });

    auto* schema = app.add_subcommand("schema", "Print the JSON Schema of the pipeline file");
    set_examples(*schema, "  depctl schema > depctl.schema.json\n");
    on_run(*schema, inv, [] {
        std::cout << pipeline_file_schema().dump(2) << '\n';
        return 0;
    });
    register_import(app, inv);
}

}  // namespace depctl::cli
