// The errors that end a wait in an environment's queue, the same on every backend
// (DESIGN §9 "Queue", docs/deploy.md).
#pragma once

#include <optional>
#include <string>

#include "depctl/error.hpp"
#include "depctl/store.hpp"

namespace depctl {

// A --wait=newest waiter that came later took this waiter's place: exit 4, nothing ran.
inline Error superseded_error(const LockHolder& by) {
    return Error(ErrorKind::Busy,
                 "superseded by a newer deployment while waiting for the environment's lock: " +
                     by.describe(),
                 "nothing was run and nothing was recorded; --wait=newest waiters replace the "
                 "older ones");
}

inline Error canceled_while_waiting() {
    return Error(ErrorKind::Canceled, "canceled while waiting for the environment's lock",
                 "nothing was run and nothing was recorded");
}

// "1 deployment waits" / "3 deployments wait"
inline std::string waiting_text(std::size_t waiting) {
    return std::to_string(waiting) + (waiting == 1 ? " deployment waits" : " deployments wait");
}

// Without --wait: the lock is held (by `holder` when its note is readable), or it is free
// but `waiting` deployments are queued for it (nobody jumps the queue).
inline Error busy_error(bool held, const std::optional<LockHolder>& holder, std::size_t waiting) {
    std::string what =
        held ? "environment is already being deployed by " +
                   (holder ? holder->describe() : std::string("another process"))
             : "the environment's lock is free, but " + waiting_text(waiting) + " for it";
    if (held && waiting > 0) what += "; " + waiting_text(waiting) + " for it";
    return Error(ErrorKind::Busy, what,
                 "wait for it with --wait, or stop it with `depctl environment cancel`");
}

}  // namespace depctl
