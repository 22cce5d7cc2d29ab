// What depctl and its steps' guard (util/step_guard.cpp) say to each other. One guard process
// serves one deployment: depctl hands it every step over a control socket, and each step
// gets a channel of its own for the request, stop requests and the result.
//
// Control socket (SOCK_SEQPACKET, depctl -> guard), one message each:
//   'R' with two descriptors (SCM_RIGHTS): the step's output (its pipe's write end) and the
//       guard's end of the step's channel;
//   'Q' the deployment is over: no step of it may run on.
//   End of file without 'Q': depctl died; the guard ends every running step (SIGTERM to its
//   process group, SIGKILL after its grace), waits for them, and exits.
// Step channel (SOCK_STREAM):
//   depctl -> guard: the request, a 4-byte little-endian length and that many bytes of
//   NUL-terminated fields: grace in ms, "auto" or "shell", working directory (may be empty),
//   command, then every "KEY=VALUE" of the step's environment; afterwards single bytes,
//   'T' (SIGTERM the step's group) or 'K' (SIGKILL it); depctl sends 'K' before it gives
//   up on a step that still runs.
//   guard -> depctl: one result, 'E' and 5 bytes (the wait status, little-endian, then 1 when
//   the command was exec'd without a shell) or 'F', a 4-byte length and why the step could
//   not be started.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace depctl::guard_protocol {

inline constexpr char k_run = 'R';
inline constexpr char k_quit = 'Q';
inline constexpr char k_term = 'T';
inline constexpr char k_kill = 'K';
inline constexpr char k_exited = 'E';
inline constexpr char k_failed = 'F';
// Bytes of an 'E' result, and the limit on a request (the kernel's ARG_MAX order).
inline constexpr std::size_t k_exited_size = 6;
inline constexpr std::uint32_t k_max_request = 64u * 1024u * 1024u;

struct Request {
    long long grace_ms = 10000;
    bool via_shell = false;
    std::string workdir;
    std::string command;
    std::vector<std::string> env;
};

inline void put_u32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline std::uint32_t get_u32(std::string_view in) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    return v;
}

// The request with its length in front.
inline std::string encode(const Request& r) {
    std::string body;
    auto field = [&body](std::string_view s) {
        body.append(s);
        body.push_back('\0');
    };
    field(std::to_string(r.grace_ms));
    field(r.via_shell ? "shell" : "auto");
    field(r.workdir);
    field(r.command);
    for (const auto& e : r.env) field(e);
    std::string out;
    put_u32(out, static_cast<std::uint32_t>(body.size()));
    return out + body;
}

// A request from its body (without the length); nullopt when it is malformed.
inline std::optional<Request> decode(std::string_view body) {
    std::vector<std::string_view> fields;
    std::size_t at = 0;
    while (at < body.size()) {
        const std::size_t end = body.find('\0', at);
        if (end == std::string_view::npos) return std::nullopt;
        fields.push_back(body.substr(at, end - at));
        at = end + 1;
    }
    if (fields.size() < 4 || fields[0].empty()) return std::nullopt;
    Request r;
    r.grace_ms = 0;
    for (char c : fields[0]) {
        if (c < '0' || c > '9' || r.grace_ms > 1000000000LL) return std::nullopt;
        r.grace_ms = r.grace_ms * 10 + (c - '0');
    }
    r.via_shell = fields[1] == "shell";
    r.workdir = fields[2];
    r.command = fields[3];
    for (std::size_t i = 4; i < fields.size(); ++i) r.env.emplace_back(fields[i]);
    return r;
}

}  // namespace depctl::guard_protocol
