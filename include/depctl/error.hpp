// Typed errors: the kind says what happened, exit_code_of() maps it to the process exit
// code of DESIGN §6. Thrown from the core, caught once in main.
#pragma once

#include <stdexcept>
#include <string>

namespace depctl {

enum class ErrorKind {
    Failed,       // a deployment or stop ran and failed                           -> 1
    Usage,        // unknown command or flag, missing argument                     -> 2
    Refused,      // unknown name, duplicate, invalid name, non-empty stage, cycle -> 3
    Busy,         // the state or the environment is locked by another process     -> 4
    Policy,       // enforced order or approval not satisfied                      -> 5
    NotFound,     // there is no state at the location                             -> 6
    Corrupt,      // the state or a record is unreadable or breaks the model       -> 6
    Io,           // a system call or a local resource failed                      -> 6
    Unreachable,  // the etcd cluster cannot be reached or refuses the request     -> 6
    Canceled,     // Ctrl-C                                                        -> 130
};

// The process exit code of a kind (docs/exit-codes.md).
constexpr int exit_code_of(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::Failed:
            return 1;
        case ErrorKind::Usage:
            return 2;
        case ErrorKind::Refused:
            return 3;
        case ErrorKind::Busy:
            return 4;
        case ErrorKind::Policy:
            return 5;
        case ErrorKind::NotFound:
        case ErrorKind::Corrupt:
        case ErrorKind::Io:
        case ErrorKind::Unreachable:
            return 6;
        case ErrorKind::Canceled:
            return 130;
    }
    return 1;
}

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, std::string what, std::string hint = {})
        : std::runtime_error(std::move(what)), m_kind(kind), m_hint(std::move(hint)) {}

    ErrorKind kind() const noexcept { return m_kind; }
    int exit_code() const noexcept { return exit_code_of(m_kind); }
    const std::string& hint() const noexcept { return m_hint; }

private:
    ErrorKind m_kind;
    std::string m_hint;
};

// Throws Error{Io} naming the failing call and errno's text.
[[noreturn]] void throw_errno(const std::string& what, int err);

}  // namespace depctl
