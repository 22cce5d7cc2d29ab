// Ctrl-C, SIGTERM and SIGHUP become cancellation requests: the signals are blocked in every
// thread and one thread waits for them with sigwait (no work in a signal handler).
#pragma once

#include <functional>
#include <thread>

#include "util/cancel.hpp"

namespace depctl::cli {

class SignalWatcher {
public:
    // Must be constructed before any other thread starts, so they inherit the blocked mask.
    // The first SIGINT/SIGTERM/SIGHUP requests a graceful cancel; a second one (or SIGQUIT)
    // an immediate one.
    SignalWatcher(CancelSignal& cancel, std::function<void(CancelLevel)> notify);
    ~SignalWatcher();
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

private:
    void watch();
    CancelSignal& m_cancel;
    std::function<void(CancelLevel)> m_notify;
    std::thread m_thread;
};

}  // namespace depctl::cli
