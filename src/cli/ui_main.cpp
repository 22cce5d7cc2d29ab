// depctl-ui's side of `depctl ui`: the server itself, linked only into depctl-ui so that
// no other command loads the HTTP library (cmd_ui.hpp says why).
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "cmd_ui.hpp"
#include "depctl/open_store.hpp"
#include "depctl_main.hpp"
#include "signals.hpp"
#include "ui/ui_server.hpp"
#include "util/step_guard.hpp"

extern char** environ;

namespace depctl::cli {
namespace {

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
}  // namespace depctl::cli

// depctl-ui is depctl whose `ui` command serves in process; depctl execs it for `depctl ui`.
// It runs deployments too, so it is the guard of their steps as depctl is (step_guard.cpp).
int main(int argc, char** argv) {
    if (depctl::is_step_guard_call(argc, argv)) return depctl::step_guard_main(argc, argv);
    depctl::enable_step_guard();
    depctl::cli::set_ui_server(&depctl::cli::run_ui);
    return depctl_main(argc, argv);
}
