#include "file_support.hpp"

#include <filesystem>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "util/files.hpp"

namespace depctl::cli {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_max_file_bytes = 16 * 1024 * 1024;

bool is_etcd(const std::string& location) {
    return location.rfind("etcd://", 0) == 0;
}

}  // namespace

std::optional<std::string> find_pipeline_file(const std::string& flag) {
    if (!flag.empty()) return flag;
    for (fs::path dir = fs::current_path();; dir = dir.parent_path()) {
        const fs::path candidate = dir / k_pipeline_file_name;
        std::error_code ignored;
        if (fs::is_regular_file(candidate, ignored)) return candidate.string();
        if (dir == dir.root_path() || dir.parent_path() == dir) return std::nullopt;
    }
}

std::string read_pipeline_text(const std::string& path) {
    std::string text;
    if (path == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
        std::error_code ec;
        if (fs::exists(path, ec) && !fs::is_regular_file(path, ec))
            throw Error(ErrorKind::Refused, path + " is not a regular file");
        auto bytes = read_file(path);
        if (!bytes)
            throw Error(ErrorKind::Refused, "no pipeline file at " + path,
                        "write a depctl.yaml (see `depctl export` or docs/pipeline-file.md)");
        text = std::move(*bytes);
    }
    if (text.size() > k_max_file_bytes)
        throw Error(ErrorKind::Refused, path + " is larger than 16 MiB");
    if (!is_valid_utf8(text)) throw Error(ErrorKind::Refused, path + " is not valid UTF-8");
    return text;
}

PipelineFile parse_pipeline_text(const std::string& path, std::string_view text) {
    return parse_pipeline_file(path == "-" ? "<stdin>" : path, text);
}

PipelineFile load_pipeline_file(const std::string& path) {
    return parse_pipeline_text(path, read_pipeline_text(path));
}

State commit_pipeline_file(const Options& options, const PipelineFile& file,
                           const std::optional<std::string>& only_environment) {
    std::unique_ptr<StateStore> store;
    try {
        store = open_state(options);
    } catch (const Error& e) {
        // No state anywhere above: a fresh checkout. The state goes beside the file.
        if (!options.state.empty() || std::getenv("DEPCTL_STATE") || file.path == "<stdin>") throw;
        Options here = options;
        here.state = (fs::absolute(file.path).parent_path() / ".depctl" / "state.json").string();
        store = open_state(here);
    }
    if (!is_etcd(store->location()) && !fs::exists(store->location())) {
        const State fresh =
            applied_state(new_state(file.desired.project.name), file, only_environment);
        try {
            store->initialize(fresh);
            return fresh;
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::Refused) throw;  // another apply created it first
        }
    }
    return store->transact([&](State& s) { s = applied_state(s, file, only_environment); });
}

void warn_if_file_managed(const Options& options, const State& state) {
    (void)options;
    if (state.project.applied_file_sha256.empty()) return;
    std::cerr << "warning: this project's definition comes from a pipeline file; the next "
                 "`depctl apply` undoes this change unless the file changes too\n";
}

void warn_if_file_differs(const Options& options, const State& state,
                          const std::string& environment_name) {
    (void)options;
    const auto path = find_pipeline_file("");
    if (!path) return;
    try {
        const std::string text = read_pipeline_text(*path);
        if (in_sync_with_file(state, text)) return;  // nothing to parse: as last applied
        const PipelineFile file = parse_pipeline_text(*path, text);
        const State target = applied_state(state, file, std::nullopt);
        const auto changes = diff_definitions(state, target, environment_name);
        if (!changes.empty())
            std::cerr << "warning: environment " << show_name(environment_name) << " differs from "
                      << *path << " (" << changes.size()
                      << " changes); `depctl diff` shows them, `depctl apply` makes them\n";
    } catch (const Error& e) {
        std::cerr << "warning: " << e.what() << '\n';
    } catch (const util::Error& e) {  // the file cannot be read (a link, a FIFO): a warning too
        std::cerr << "warning: " << e.what() << '\n';
    }
}

}  // namespace depctl::cli
