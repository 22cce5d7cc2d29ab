#include "util/http_plain.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

namespace depctl {
namespace {

using Clock = std::chrono::steady_clock;

struct Target {
    std::string host;  // as written, without brackets
    int port = 80;
    std::string path;  // "/..."
    sockaddr_storage address{};
    socklen_t length = 0;
};

// http://HOST[:PORT][/PATH] with HOST an IPv4 literal or a bracketed IPv6 literal.
std::optional<Target> parse_target(std::string_view url) {
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme) return std::nullopt;
    url.remove_prefix(scheme.size());
    const std::size_t slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    Target t;
    t.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        t.host = std::string(authority.substr(1, close - 1));
        const std::string_view rest = authority.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return std::nullopt;
        if (!rest.empty()) port = rest.substr(1);
    } else {
        const std::size_t colon = authority.find(':');
        t.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    }
    if (!port.empty()) {
        if (port.size() > 5 ||
            !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        t.port = std::atoi(std::string(port).c_str());
        if (t.port < 1 || t.port > 65535) return std::nullopt;
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(&t.address);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&t.address);
    if (::inet_pton(AF_INET, t.host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(t.port));
        t.length = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, t.host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(t.port));
        t.length = sizeof(sockaddr_in6);
    } else {
        return std::nullopt;  // a name: libcurl resolves it (with its timeouts)
    }
    return t;
}

// A failed transfer, with libcurl's wording for the same failure.
struct Failure {
    std::string error;
    int os_errno = 0;
};

long long ms_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Waits until `fd` is ready for `events` or the deadline passes (false).
bool wait_ready(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, events, 0};
        const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000 * 1000)));
        if (rc > 0) return true;
        if (rc < 0 && errno != EINTR) return true;  // the next call says what is wrong
    }
}

// The transfer's clock: the whole request, and the connect within it, as curl's
// CURLOPT_TIMEOUT_MS and CURLOPT_CONNECTTIMEOUT_MS.
struct Clocks {
    Clock::time_point start = Clock::now();
    Clock::time_point deadline;
    Failure timed_out(std::size_t received) const {
        return {"Operation timed out after " + std::to_string(ms_since(start)) +
                " milliseconds with " + std::to_string(received) + " bytes received"};
    }
};

int connect_to(const Target& t, const HttpRequest& request, const Clocks& clocks) {
    UniqueFd fd(::socket(t.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd)
        throw Failure{"Could not create a socket: " + std::string(std::strerror(errno)), errno};
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const auto connect_deadline =
        std::min(clocks.deadline, clocks.start + std::chrono::milliseconds(static_cast<long long>(
                                                     request.connect_timeout_s * 1000)));
    int error = 0;
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&t.address), t.length) != 0) {
        error = errno;
        if (error == EINPROGRESS) {
            if (!wait_ready(fd.get(), POLLOUT, connect_deadline))
                throw Failure{"Connection timed out after " +
                              std::to_string(ms_since(clocks.start)) + " milliseconds"};
            socklen_t size = sizeof error;
            ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size);
        }
    }
    if (error != 0) {
        throw Failure{"Failed to connect to " + t.host + " port " + std::to_string(t.port) +
                          " after " + std::to_string(ms_since(clocks.start)) +
                          " ms: Couldn't connect to server",
                      error};
    }
    return fd.release();
}

void send_all(int fd, std::string_view data, const Clocks& clocks) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_ready(fd, POLLOUT, clocks.deadline)) throw clocks.timed_out(0);
        } else {
            throw Failure{"Send failure: " + std::string(std::strerror(errno)), errno};
        }
    }
}

// Reads one response from a connection: the status line, the headers, and a body sized
// by Content-Length, by chunks, or by the end of the connection.
class ResponseReader {
public:
    ResponseReader(int fd, const Clocks& clocks, std::size_t limit)
        : m_fd(fd), m_clocks(clocks), m_limit(limit) {}

    std::size_t received() const { return m_received; }
    bool reusable() const { return m_keep_alive; }

    // The status and body; throws Failure.
    long read(std::string& body) {
        long status = 0;
        do {  // a 1xx answer is followed by the real one
            status = status_line();
            headers();
        } while (status >= 100 && status < 200);
        if (m_chunked) {
            chunks(body);
        } else if (m_length) {
            if (*m_length > m_limit) throw too_large();
            body = take(*m_length);
        } else {
            m_keep_alive = false;
            while (fill()) {
                if (m_buffer.size() - m_pos > m_limit) throw too_large();
            }
            body = m_buffer.substr(m_pos);
        }
        return status;
    }

private:
    Failure too_large() const {
        return {"response larger than " + std::to_string(m_limit) + " bytes"};
    }

    // Appends what arrives; false at the end of the connection.
    bool fill() {
        char chunk[16384];
        for (;;) {
            const ssize_t n = ::recv(m_fd, chunk, sizeof chunk, 0);
            if (n > 0) {
                m_buffer.append(chunk, static_cast<std::size_t>(n));
                m_received += static_cast<std::size_t>(n);
                return true;
            }
            if (n == 0) return false;
            if (errno == EINTR) continue;
            if (errno != EAGAIN)
                throw Failure{"Recv failure: " + std::string(std::strerror(errno)), errno};
            if (!wait_ready(m_fd, POLLIN, m_clocks.deadline)) throw m_clocks.timed_out(m_received);
        }
    }

    std::string line() {
        for (;;) {
            const std::size_t end = m_buffer.find("\r\n", m_pos);
            if (end != std::string::npos) {
                std::string out = m_buffer.substr(m_pos, end - m_pos);
                m_pos = end + 2;
                return out;
            }
            if (m_buffer.size() - m_pos > 64 * 1024) throw Failure{"Weird server reply"};
            if (!fill())
                throw Failure{m_received ? "Weird server reply" : "Empty reply from server"};
        }
    }

    std::string take(std::size_t n) {
        while (m_buffer.size() - m_pos < n) {
            if (!fill()) throw Failure{"Transferred a partial file"};
        }
        std::string out = m_buffer.substr(m_pos, n);
        m_pos += n;
        return out;
    }

    long status_line() {
        const std::string text = line();  // "HTTP/1.1 200 OK"
        if (text.size() < 12 || text.compare(0, 7, "HTTP/1.") != 0 || text[8] != ' ')
            throw Failure{"Weird server reply"};
        m_keep_alive = text[7] == '1';  // HTTP/1.0 closes unless it says keep-alive
        const long status = std::strtol(text.c_str() + 9, nullptr, 10);
        if (status < 100 || status > 999) throw Failure{"Weird server reply"};
        return status;
    }

    void headers() {
        m_length.reset();
        m_chunked = false;
        for (std::string text = line(); !text.empty(); text = line()) {
            const std::size_t colon = text.find(':');
            if (colon == std::string::npos) throw Failure{"Weird server reply"};
            std::string name = text.substr(0, colon);
            const std::size_t start = text.find_first_not_of(" \t", colon + 1);
            std::string value = start == std::string::npos ? "" : text.substr(start);
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            for (char& c : value)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
                value.pop_back();
            if (name == "content-length") {
                char* end = nullptr;
                const unsigned long long n = std::strtoull(value.c_str(), &end, 10);
                if (value.empty() || *end != '\0') throw Failure{"Weird server reply"};
                m_length = static_cast<std::size_t>(n);
            } else if (name == "transfer-encoding") {
                m_chunked = value.find("chunked") != std::string::npos;
            } else if (name == "connection") {
                if (value.find("close") != std::string::npos) m_keep_alive = false;
                if (value.find("keep-alive") != std::string::npos) m_keep_alive = true;
            }
        }
    }

    void chunks(std::string& body) {
        for (;;) {
            const std::string size_line = line();
            char* end = nullptr;
            const unsigned long long size = std::strtoull(size_line.c_str(), &end, 16);
            if (end == size_line.c_str()) throw Failure{"Weird server reply"};
            if (size == 0) break;
            if (body.size() + size > m_limit) throw too_large();
            body += take(static_cast<std::size_t>(size));
            if (!line().empty()) throw Failure{"Weird server reply"};
        }
        while (!line().empty()) {  // trailers
        }
    }

    int m_fd;
    const Clocks& m_clocks;
    std::size_t m_limit;
    std::string m_buffer;
    std::size_t m_pos = 0;
    std::size_t m_received = 0;
    std::optional<std::size_t> m_length;
    bool m_chunked = false;
    bool m_keep_alive = true;
};

std::string request_text(const Target& t, const HttpRequest& request) {
    const bool ipv6 = t.address.ss_family == AF_INET6;
    std::string text = request.method + " " + t.path +
                       " HTTP/1.1\r\nHost: " + (ipv6 ? "[" + t.host + "]" : t.host) + ":" +
                       std::to_string(t.port) + "\r\nUser-Agent: depctl\r\nAccept: */*\r\n";
    for (const auto& header : request.headers) text += header + "\r\n";
    if (request.method != "GET" || !request.body.empty())
        text += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
    text += "\r\n";
    text += request.body;
    return text;
}

// Whether a kept connection was closed by the other end (or sent something unasked).
bool closed_meanwhile(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
}

bool set(const char* name) {
    const char* value = std::getenv(name);
    return value && *value;
}

}  // namespace

bool PlainHttpClient::handles(const HttpRequest& request) {
    if (!request.ca_file.empty() || !request.cert_file.empty() || !request.key_file.empty())
        return false;
    if (request.cancel || request.status_only) return false;
    if (set("http_proxy") || set("all_proxy") || set("ALL_PROXY")) return false;
    return parse_target(request.url).has_value();
}

HttpResponse PlainHttpClient::perform(const HttpRequest& request) {
    HttpResponse response;
    Clocks clocks;
    clocks.deadline =
        clocks.start + std::chrono::milliseconds(static_cast<long long>(request.timeout_s * 1000));
    const auto target = parse_target(request.url);
    if (!target) {
        response.error = "URL rejected: " + request.url;
        return response;
    }
    const std::string peer = target->host + ":" + std::to_string(target->port);
    if (m_fd && (m_peer != peer || closed_meanwhile(m_fd.get()))) m_fd.reset();
    const std::string text = request_text(*target, request);
    // A kept connection the server closed just as we sent finds out only now: then once
    // more on a new one, as libcurl does when a reused connection gives no reply.
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = static_cast<bool>(m_fd);
        std::size_t received = 0;
        try {
            if (!m_fd) m_fd.reset(connect_to(*target, request, clocks));
            m_peer = peer;
            send_all(m_fd.get(), text, clocks);
            ResponseReader reader(m_fd.get(), clocks, request.max_body_bytes);
            try {
                response.status = reader.read(response.body);
            } catch (const Failure&) {
                received = reader.received();
                throw;
            }
            if (!reader.reusable()) m_fd.reset();
            response.transport_ok = true;
            return response;
        } catch (const Failure& failure) {
            m_fd.reset();
            response.body.clear();
            const bool timed_out = failure.error.rfind("Operation timed out", 0) == 0;
            if (reused && received == 0 && !timed_out) continue;
            response.error = failure.error;
            response.os_errno = failure.os_errno;
            return response;
        }
    }
    return response;
}

}  // namespace depctl
