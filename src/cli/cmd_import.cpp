// `import compose [FILE]`: draft a depctl.yaml from a docker compose file (DESIGN §8,
// docs/compose.md). What has no depctl key is listed on stderr as warnings.
#include <filesystem>
#include <iostream>
#include <iterator>

#include "commands.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline_file.hpp"
#include "util/files.hpp"

namespace depctl::cli {
namespace {

namespace fs = std::filesystem;

struct ImportArgs {
    std::string file;
    std::string out;
};

// Compose's own lookup: the first of these in the current directory.
std::string compose_file(const std::string& given) {
    if (!given.empty()) return given;
    for (const char* name :
         {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}) {
        std::error_code ec;
        if (fs::is_regular_file(name, ec)) return name;
    }
    throw Error(ErrorKind::Refused,
                "no compose.yaml or docker-compose.yml in the current directory",
                "give the file: `depctl import compose path/to/compose.yaml`");
}

// Compose's default project name: the file's directory, lowercased, [a-z0-9_-] only.
std::string default_project(const std::string& path) {
    std::error_code ec;
    const fs::path dir = path == "-" ? fs::current_path(ec) : fs::absolute(path, ec).parent_path();
    std::string name;
    for (char c : to_lower(dir.filename().string()))
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') name += c;
    return name.empty() ? "compose" : name;
}

std::string read_input(const std::string& path) {
    if (path == "-")
        return std::string(std::istreambuf_iterator<char>(std::cin),
                           std::istreambuf_iterator<char>());
    std::error_code ec;
    if (fs::exists(path, ec) && !fs::is_regular_file(path, ec))
        throw Error(ErrorKind::Refused, path + " is not a regular file");
    auto bytes = read_file(path);
    if (!bytes) throw Error(ErrorKind::Refused, "no compose file at " + path);
    if (bytes->size() > 16u * 1024 * 1024)
        throw Error(ErrorKind::Refused, path + " is larger than 16 MiB");
    if (!is_valid_utf8(*bytes)) throw Error(ErrorKind::Refused, path + " is not valid UTF-8");
    return std::move(*bytes);
}

int run_import(const Options& options, const ImportArgs& args) {
    const std::string path = compose_file(args.file);
    const std::string text = read_input(path);
    const std::string environment =
        options.environment.empty() ? std::string("development") : options.environment;
    const ComposeImport draft =
        import_compose(path == "-" ? "<stdin>" : path, text, default_project(path), environment);
    for (const auto& note : draft.notes) std::cerr << "warning: " << note << '\n';
    if (args.out.empty() || args.out == "-") {
        std::cout << draft.yaml;
    } else {
        write_file_atomic(args.out, draft.yaml, 0644);
        say(options, "Wrote " + args.out + " from " + path + "; review it, then `depctl apply`");
    }
    return 0;
}

}  // namespace

void register_import(CLI::App& app, Invocation& inv) {
    auto* cmd = app.add_subcommand("import", "Draft a pipeline file from another tool's file");
    cmd->require_subcommand(1);
    set_examples(*cmd, "  depctl import compose -o depctl.yaml\n");
    static ImportArgs args;
    auto* compose = cmd->add_subcommand(
        "compose", "Draft a depctl.yaml from a docker compose file (see docs/compose.md)");
    compose
        ->add_option("file", args.file,
                     "Compose file (default: compose.yaml, compose.yml, docker-compose.yaml or "
                     "docker-compose.yml here; - reads stdin)")
        ->type_name("FILE");
    compose
        ->add_option(
            "-o,--out", args.out,
            "Write the draft to FILE instead of stdout (-o here is the file, not the format)")
        ->type_name("FILE");
    set_examples(*compose,
                 "  depctl import compose > depctl.yaml\n"
                 "  depctl import compose docker/compose.prod.yaml -o depctl.yaml -e production\n"
                 "  depctl import compose -o depctl.yaml && depctl apply --yes\n");
    on_run(*compose, inv, [&inv] { return run_import(inv.options, args); });
}

}  // namespace depctl::cli
