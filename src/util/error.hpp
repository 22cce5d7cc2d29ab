// The one error type of src/util, which knows nothing of depctl's error kinds: every
// failure here is an I/O-class failure (a system call, a missing library). The CLI's
// error boundary reports it like depctl's own Error{Io} (same text, same exit code).
#pragma once

#include <stdexcept>
#include <string>

namespace depctl::util {

class Error : public std::runtime_error {
public:
    explicit Error(std::string what, std::string hint = {})
        : std::runtime_error(std::move(what)), m_hint(std::move(hint)) {}
    const std::string& hint() const noexcept { return m_hint; }

private:
    std::string m_hint;
};

// Throws util::Error naming the failing call and errno's text.
[[noreturn]] void throw_errno(const std::string& what, int err);

}  // namespace depctl::util
