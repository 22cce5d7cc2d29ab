#include "ui/ui_server.hpp"

#include <httplib.h>
#include <sys/random.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "depctl/error.hpp"
#include "ui/assets.hpp"
#include "ui/ui_routes.hpp"

namespace depctl::ui {
namespace {

constexpr const char* k_host = "127.0.0.1";
// Only the page's own files: no inline script or style, nothing from elsewhere, no framing.
constexpr const char* k_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

bool same_text(const std::string& a, const std::string& b) {  // no early exit on a mismatch
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

std::string cookie_value(const std::string& header, const std::string& name) {
    std::size_t at = 0;
    while (at < header.size()) {
        const std::size_t end = std::min(header.find(';', at), header.size());
        std::string pair = header.substr(at, end - at);
        const std::size_t start = pair.find_first_not_of(' ');
        if (start != std::string::npos) pair = pair.substr(start);
        if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
        at = end + 1;
    }
    return {};
}

}  // namespace

std::string new_token() {
    unsigned char bytes[32];
    std::size_t got = 0;
    while (got < sizeof bytes) {
        const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("getrandom", errno);
        }
        got += static_cast<std::size_t>(n);
    }
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

struct Server::Impl {
    httplib::Server http;
    RouteContext context;
    std::string token = new_token();
    int port = 0;
    std::thread thread;
    std::atomic<bool> loop_ended{false};

    std::string cookie_name() const { return "depctl_ui_" + std::to_string(port); }
    bool host_ok(const std::string& host) const {
        const std::string p = ":" + std::to_string(port);
        return host == k_host + p || host == "localhost" + p;
    }
    httplib::Server::HandlerResponse check(const httplib::Request& req, httplib::Response& res);
    void serve_page(const httplib::Request& req, httplib::Response& res);
};

// Every request: the Host names this server (DNS rebinding), the token is given (the
// cookie, or once in the URL), and a write comes from this origin (CSRF).
httplib::Server::HandlerResponse Server::Impl::check(const httplib::Request& req,
                                                     httplib::Response& res) {
    const auto refuse = [&res](int status, const std::string& why) {
        res.status = status;
        res.set_content("error: " + why + "\n", "text/plain; charset=utf-8");
        return httplib::Server::HandlerResponse::Handled;
    };
    if (!host_ok(req.get_header_value("Host")))
        return refuse(403, "the Host header does not name this server");
    const bool with_cookie =
        same_text(cookie_value(req.get_header_value("Cookie"), cookie_name()), token);
    const bool with_url_token = req.path == "/" && same_text(req.get_param_value("token"), token);
    if (!with_cookie && !with_url_token)
        return refuse(401, "a valid token is required: open the URL `depctl ui` printed");
    if (req.method != "GET" && req.method != "HEAD") {
        const std::string origin = req.get_header_value("Origin");
        const std::string p = ":" + std::to_string(port);
        if (origin != std::string("http://") + k_host + p && origin != "http://localhost" + p)
            return refuse(403, "cross-origin writes are refused");
    }
    return httplib::Server::HandlerResponse::Unhandled;
}

void Server::Impl::serve_page(const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("token")) {
        // Trade the URL's token for a cookie, and drop it from the address bar and history.
        res.set_header("Set-Cookie",
                       cookie_name() + "=" + token + "; HttpOnly; SameSite=Strict; Path=/");
        res.set_redirect("/", 303);
        return;
    }
    for (const Asset& asset : embedded_assets()) {
        if (asset.path == "/index.html")
            res.set_content(std::string(asset.body), std::string(asset.content_type));
    }
}

Server::Server(ServerOptions options) : m_impl(std::make_unique<Impl>()) {
    Impl& impl = *m_impl;
    impl.context.state_location = options.state_location;
    impl.context.store_options = options.store_options;
    impl.http.new_task_queue = [] { return new httplib::ThreadPool(32); };
    // Headers and body go out in separate writes: without NODELAY, Nagle and the client's
    // delayed ACK add ~40 ms to every answer on loopback.
    impl.http.set_tcp_nodelay(true);
    // httplib's default adds SO_REUSEPORT, which lets a second process bind our port and
    // take half of our connections; SO_REUSEADDR alone only allows a quick restart.
    impl.http.set_socket_options([](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    impl.http.set_default_headers({{"Content-Security-Policy", k_csp},
                                   {"X-Content-Type-Options", "nosniff"},
                                   {"X-Frame-Options", "DENY"},
                                   {"Referrer-Policy", "no-referrer"},
                                   {"Cache-Control", "no-store"}});
    impl.http.set_pre_routing_handler([&impl](const httplib::Request& req, httplib::Response& res) {
        return impl.check(req, res);
    });
    impl.http.Get("/", [&impl](const httplib::Request& req, httplib::Response& res) {
        impl.serve_page(req, res);
    });
    for (const Asset& asset : embedded_assets()) {
        if (asset.path == "/index.html") continue;
        impl.http.Get(std::string(asset.path),
                      [asset](const httplib::Request&, httplib::Response& res) {
                          res.set_content(std::string(asset.body), std::string(asset.content_type));
                      });
    }
    add_api_routes(impl.http, impl.context);
    if (options.port > 0) {
        if (!impl.http.bind_to_port(k_host, options.port))
            throw Error(ErrorKind::Busy,
                        "cannot listen on 127.0.0.1:" + std::to_string(options.port),
                        "another program uses that port; leave out --port to take a free one");
        impl.port = options.port;
    } else {
        impl.port = impl.http.bind_to_any_port(k_host);
        if (impl.port <= 0) throw Error(ErrorKind::Io, "cannot listen on 127.0.0.1");
    }
    impl.thread = std::thread([&impl] {
        impl.http.listen_after_bind();
        impl.loop_ended = true;
    });
    // httplib's stop() does nothing until the loop runs: a Ctrl-C right after the URL is
    // printed would leave stop() waiting forever on the accept. Return once it runs.
    while (!impl.http.is_running() && !impl.loop_ended)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

Server::~Server() {
    stop();
}

void Server::stop() {
    m_impl->context.runs.cancel_all();
    m_impl->http.stop();
    if (m_impl->thread.joinable()) m_impl->thread.join();
}

int Server::port() const {
    return m_impl->port;
}

std::string Server::url() const {
    return std::string("http://") + k_host + ":" + std::to_string(m_impl->port) +
           "/?token=" + m_impl->token;
}

}  // namespace depctl::ui
