#include "util/cancel.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "util/error.hpp"

namespace depctl {

namespace {

int make_eventfd() {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) util::throw_errno("eventfd", errno);
    return fd;
}

// Adding 1 makes the counter non-zero; nobody reads it, so it stays readable. The
// counter cannot overflow because each fd is written at most once per signal.
void mark_readable(int fd) {
    const std::uint64_t one = 1;
    while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

}  // namespace

CancelSignal::CancelSignal() {
    m_any_fd = make_eventfd();
    try {
        m_immediate_fd = make_eventfd();
    } catch (...) {
        ::close(m_any_fd);
        throw;
    }
}

CancelSignal::~CancelSignal() {
    ::close(m_any_fd);
    ::close(m_immediate_fd);
}

void CancelSignal::request(CancelLevel level) {
    CancelLevel old = m_level.load(std::memory_order_acquire);
    // Raise monotonically; the thread that wins each step is the one that writes its fd,
    // so every fd is written exactly once.
    while (old < level) {
        if (!m_level.compare_exchange_weak(old, level, std::memory_order_acq_rel)) continue;
        if (old == CancelLevel::none) mark_readable(m_any_fd);
        if (level == CancelLevel::immediate) mark_readable(m_immediate_fd);
        return;
    }
}

}  // namespace depctl
