// `depctl ui`: the local web console (DESIGN §10). Serves until Ctrl-C.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "commands.hpp"
#include "signals.hpp"
#include "ui/ui_server.hpp"

extern char** environ;

namespace depctl::cli {
namespace {

struct UiArgs {
    int port = 0;
    bool no_open = false;
};

// Like Jupyter and Tilt: hand the URL to the desktop's browser, never wait for it. Only
// when a display exists; failures are not errors (the URL is printed anyway).
void open_browser(const std::string& url) {
    if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY")) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);  // our blocked signals are not the browser's
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    pid_t pid = 0;
    char* argv[] = {const_cast<char*>("xdg-open"), const_cast<char*>(url.c_str()), nullptr};
    if (posix_spawnp(&pid, "xdg-open", &actions, &attr, argv, environ) != 0) pid = 0;
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (pid > 0) {
        std::thread([pid] { ::waitpid(pid, nullptr, 0); }).detach();  // reap, never block on it
    }
}

int run_ui(Invocation& inv, const UiArgs& args) {
    CancelSignal stop;
    SignalWatcher watcher(stop, [](CancelLevel) {});
    ui::ServerOptions options;
    const auto flag =
        inv.options.state.empty() ? std::nullopt : std::optional<std::string>(inv.options.state);
    options.state_location = resolve_state_location(flag, std::filesystem::current_path(), false);
    options.store_options.lock_timeout = std::chrono::milliseconds(
        static_cast<long long>(std::llround(inv.options.lock_timeout_s * 1000)));
    options.port = args.port;
    open_store(options.state_location, options.store_options)->load();  // no state: fail now
    ui::Server server(options);
    std::cout << "depctl ui: serving the web console at\n  " << server.url()
              << "\nPress Ctrl-C to stop.\n"
              << std::flush;
    if (!args.no_open) open_browser(server.url());
    pollfd fd{stop.fd(), POLLIN, 0};
    while (::poll(&fd, 1, -1) < 0 && errno == EINTR) {
    }
    server.stop();
    std::cerr << "depctl ui: stopped\n";
    return 0;
}

}  // namespace

void register_ui(CLI::App& app, Invocation& inv) {
    auto args = std::make_shared<UiArgs>();
    auto* ui = app.add_subcommand(
        "ui", "Serve the local web console: the pipeline as a board, deploys, history");
    ui->add_option("--port", args->port, "Port on 127.0.0.1 (default: a free one)")
        ->check(CLI::Range(1, 65535).description(""))
        ->type_name("N");
    ui->add_flag("--no-open", args->no_open, "Print the URL only; do not start a browser");
    set_examples(*ui, "  depctl ui\n  depctl ui --port 8765 --no-open");
    on_run(*ui, inv, [&inv, args] { return run_ui(inv, *args); });
}

}  // namespace depctl::cli
