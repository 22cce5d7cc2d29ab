// FileStore's queue of `--wait` waiters for an environment's lock (DESIGN §9 "Queue"):
//   <dir>/locks/<env-id>.queue/counter                   the last ticket number given out
//   <dir>/locks/<env-id>.queue/<20-digit n>-<pid>.wait   a waiter's ticket (.newest: it came
//                                                        with --wait=newest), flock'ed by it
//   <dir>/locks/<env-id>.queue/<ticket>.superseded       who replaced that waiter
// Tickets are numbered under the counter's flock and appear under their final name already
// flock'ed, so every ticket with a smaller number exists before a bigger one is given out.
// A ticket whose flock is free belongs to a waiter that died (SIGKILL): skipped and removed.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>

#include "depctl/store.hpp"

namespace depctl {

class FileQueueTicket {
public:
    // Takes the next ticket. With `newest`, every older waiter that came with --wait=newest
    // and is still queued is told that `me` replaced it. Waits up to `counter_timeout` for
    // the counter (held for a few system calls by whoever takes a ticket).
    static FileQueueTicket join(const std::filesystem::path& queue_dir, const LockHolder& me,
                                bool newest, std::chrono::milliseconds counter_timeout);

    FileQueueTicket(FileQueueTicket&& other) noexcept;
    FileQueueTicket& operator=(FileQueueTicket&&) = delete;
    FileQueueTicket(const FileQueueTicket&) = delete;
    FileQueueTicket& operator=(const FileQueueTicket&) = delete;
    ~FileQueueTicket();  // leaves the queue: removes the ticket (and any note on it)

    // Live waiters ahead of this one, not counting those already replaced.
    std::size_t ahead() const;
    // Who replaced this waiter, once one did.
    std::optional<LockHolder> superseded_by() const;

private:
    FileQueueTicket(std::filesystem::path dir, std::filesystem::path path, int fd)
        : m_dir(std::move(dir)), m_path(std::move(path)), m_fd(fd) {}
    std::filesystem::path m_dir;
    std::filesystem::path m_path;
    int m_fd = -1;
};

// Live waiters in the queue (none when it does not exist), not counting those replaced.
std::size_t queued_waiters(const std::filesystem::path& queue_dir);

}  // namespace depctl
