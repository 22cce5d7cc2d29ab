// `depctl ui`: the command, its flags and the hand-over to depctl-ui (see cmd_ui.hpp).
#include "cmd_ui.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "commands.hpp"
#include "depctl/error.hpp"

namespace depctl::cli {
namespace {

UiServer g_server = nullptr;

// Where depctl-ui lives: beside depctl (the build tree, `cmake --install` into one
// prefix with a bin-only layout) or, as installed, in lib/depctl/ (Debian's place for
// programs only a package's own commands run, like /usr/lib/git-core).
std::vector<std::filesystem::path> ui_program_candidates() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    const auto dir = self.parent_path();
    return {dir / "depctl-ui", dir.parent_path() / "lib" / "depctl" / "depctl-ui"};
}

[[noreturn]] void exec_ui_program(const Invocation& inv) {
    std::vector<char*> argv;
    for (const auto& argument : inv.arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    std::string looked;
    for (const auto& candidate : ui_program_candidates()) {
        ::execv(candidate.c_str(), argv.data());  // returns only on failure
        looked +=
            (looked.empty() ? "" : ", ") + candidate.string() + " (" + std::strerror(errno) + ")";
    }
    throw Error(ErrorKind::Failed, "the web console is not installed: cannot run depctl-ui",
                "looked for " + (looked.empty() ? std::string("it beside depctl") : looked) +
                    "; install the whole depctl package");
}

}  // namespace

void set_ui_server(UiServer server) {
    g_server = server;
}

void register_ui(CLI::App& app, Invocation& inv) {
    auto args = std::make_shared<UiArgs>();
    auto* ui = app.add_subcommand(
        "ui", "Serve the local web console: the pipeline as a board, deploys, history");
    ui->add_option("--port", args->port, "Port on 127.0.0.1 (default: a free one)")
        ->check(CLI::Range(1, 65535).description(""))
        ->type_name("N");
    ui->add_flag("--no-open", args->no_open, "Print the URL only; do not start a browser");
    set_examples(*ui, "  depctl ui\n  depctl ui --port 8765 --no-open");
    on_run(*ui, inv, [&inv, args] {
        if (!g_server) exec_ui_program(inv);  // parsed here first: bad flags fail fast, same text
        return g_server(inv, *args);
    });
}

}  // namespace depctl::cli
