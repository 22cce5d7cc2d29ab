// A cancellation request that any thread can raise and any number of waiters can poll.
#pragma once

#include <atomic>

#include "util/error.hpp"

namespace depctl {

enum class CancelLevel { none = 0, graceful = 1, immediate = 2 };

// Levels only go up. Waiters that sleep in poll() put fd() in their set; because the fd
// is never drained it stays readable, so a waiter that has already acted on "graceful"
// polls immediate_fd() instead to learn of the escalation without spinning.
class CancelSignal {
public:
    CancelSignal();  // throws util::Error if the eventfds cannot be created
    ~CancelSignal();
    CancelSignal(const CancelSignal&) = delete;
    CancelSignal& operator=(const CancelSignal&) = delete;
    CancelSignal(CancelSignal&&) = delete;
    CancelSignal& operator=(CancelSignal&&) = delete;

    // Thread-safe; not async-signal-safe. A lower or equal level is a no-op.
    void request(CancelLevel level);
    CancelLevel level() const { return m_level.load(std::memory_order_acquire); }

    // Readable (forever) once any level above none was requested.
    int fd() const { return m_any_fd; }
    // Readable (forever) once CancelLevel::immediate was requested.
    int immediate_fd() const { return m_immediate_fd; }

private:
    std::atomic<CancelLevel> m_level{CancelLevel::none};
    int m_any_fd = -1;
    int m_immediate_fd = -1;
};

}  // namespace depctl
