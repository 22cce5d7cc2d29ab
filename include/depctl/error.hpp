// Typed errors that carry their exit code. Thrown from the core, caught once in main.
#pragma once

#include <stdexcept>
#include <string>

namespace depctl {

// Values are the process exit codes of DESIGN §6.
enum class ErrorKind : int {
    Failed = 1,   // a deployment or stop ran and failed
    Usage = 2,    // unknown command or flag, missing argument
    Refused = 3,  // not found, duplicate, invalid name, non-empty stage, cycle
    Busy = 4,     // the state or the environment is locked by another process
    Policy = 5,   // enforced order or approval not satisfied
    Store = 6,    // unreadable/corrupt state, I/O, etcd unreachable
    Canceled = 130,
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, std::string what, std::string hint = {})
        : std::runtime_error(std::move(what)), m_kind(kind), m_hint(std::move(hint)) {}

    ErrorKind kind() const noexcept { return m_kind; }
    int exit_code() const noexcept { return static_cast<int>(m_kind); }
    const std::string& hint() const noexcept { return m_hint; }

private:
    ErrorKind m_kind;
    std::string m_hint;
};

// Throws Error{Store} naming the failing call and errno's text.
[[noreturn]] void throw_errno(const std::string& what, int err);

}  // namespace depctl
