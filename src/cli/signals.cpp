#include "signals.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>

namespace depctl::cli {
namespace {

// SIGUSR2 is depctl's own "stop watching" signal, sent only to the watcher thread.
sigset_t watched_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR2}) sigaddset(&set, sig);
    return set;
}

std::atomic<bool> g_stopping{false};

}  // namespace

SignalWatcher::SignalWatcher(CancelSignal& cancel, std::function<void(CancelLevel)> notify)
    : m_cancel(cancel), m_notify(std::move(notify)) {
    const sigset_t set = watched_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    // A reader that goes away (`depctl environment deploy | head`) must not kill the
    // deployer half-way: writes then fail quietly and the deploy is still recorded.
    ::signal(SIGPIPE, SIG_IGN);
    g_stopping = false;
    m_thread = std::thread([this] { watch(); });
}

SignalWatcher::~SignalWatcher() {
    g_stopping = true;
    pthread_kill(m_thread.native_handle(), SIGUSR2);
    m_thread.join();
}

void SignalWatcher::watch() {
    const sigset_t set = watched_signals();
    int received = 0;
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGUSR2) {
            if (g_stopping) return;
            continue;
        }
        ++received;
        const CancelLevel level =
            (received > 1 || sig == SIGQUIT) ? CancelLevel::immediate : CancelLevel::graceful;
        if (level <= m_cancel.level()) continue;
        // Say it before doing it: once requested, a step can end (and print CANCELED)
        // before this thread prints, and the reader would see the effect before the cause.
        if (m_notify) m_notify(level);
        m_cancel.request(level);
    }
}

}  // namespace depctl::cli
