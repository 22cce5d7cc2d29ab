// The etcd client's plain HTTP/1.1 transport (util/http_plain.cpp) against a real server on
// 127.0.0.1: a thread that answers each request with a scripted reply and counts the
// connections it accepted, so keep-alive, bodies and failures are seen from both ends.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/http_plain.hpp"

using namespace depctl;

namespace {

// Serves connections one after another; `reply(request)` gives the bytes to send back
// and whether to close the connection after them. Requests are read up to the end of
// their Content-Length body.
class ScriptedServer {
public:
    using Reply = std::function<std::pair<std::string, bool>(const std::string& request)>;

    explicit ScriptedServer(Reply reply) : m_reply(std::move(reply)) {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(m_fd, 16) == 0);
        socklen_t size = sizeof addr;
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &size);
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~ScriptedServer() {
        m_stop = true;
        m_thread.join();
        ::close(m_fd);
    }
    std::string url(const std::string& path = "/v3/kv/range") const {
        return "http://127.0.0.1:" + std::to_string(m_port) + path;
    }
    int connections() const { return m_connections; }
    std::vector<std::string> requests() {
        std::lock_guard<std::mutex> guard(m_mutex);
        return m_requests;
    }

private:
    bool readable(int fd) const {
        pollfd p{fd, POLLIN, 0};
        while (!m_stop) {
            if (::poll(&p, 1, 20) > 0) return true;
        }
        return false;
    }
    void serve() {
        while (readable(m_fd)) {
            const int conn = ::accept(m_fd, nullptr, nullptr);
            if (conn < 0) continue;
            ++m_connections;
            talk(conn);
            ::close(conn);
        }
    }
    void talk(int conn) {
        std::string buffer;
        char chunk[4096];
        while (readable(conn)) {
            const ssize_t n = ::recv(conn, chunk, sizeof chunk, 0);
            if (n <= 0) return;
            buffer.append(chunk, static_cast<std::size_t>(n));
            const std::size_t head = buffer.find("\r\n\r\n");
            if (head == std::string::npos) continue;
            const std::size_t length_at = buffer.find("Content-Length: ");
            const std::size_t length =
                length_at < head ? std::strtoul(buffer.c_str() + length_at + 16, nullptr, 10) : 0;
            if (buffer.size() < head + 4 + length) continue;
            const std::string request = buffer.substr(0, head + 4 + length);
            buffer.erase(0, head + 4 + length);
            {
                std::lock_guard<std::mutex> guard(m_mutex);
                m_requests.push_back(request);
            }
            const auto [bytes, close_after] = m_reply(request);
            ::send(conn, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (close_after) return;
        }
    }

    Reply m_reply;
    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_connections{0};
    std::mutex m_mutex;
    std::vector<std::string> m_requests;
    std::thread m_thread;
};

HttpRequest post(const std::string& url, const std::string& body = "{\"key\":\"YQ==\"}") {
    HttpRequest request;
    request.method = "POST";
    request.url = url;
    request.body = body;
    request.headers = {"Content-Type: application/json"};
    request.connect_timeout_s = 1;
    request.timeout_s = 5;
    return request;
}

std::string with_length(const std::string& body, const std::string& extra = "") {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("plain HTTP: which requests it takes") {
    CHECK(PlainHttpClient::handles(post("http://127.0.0.1:2379/v3/kv/range")));
    CHECK(PlainHttpClient::handles(post("http://[::1]:2379/v3/kv/range")));
    CHECK_FALSE(PlainHttpClient::handles(post("https://127.0.0.1:2379/v3/kv/range")));
    CHECK_FALSE(PlainHttpClient::handles(post("http://etcd-1:2379/v3/kv/range")));  // a name
    CHECK_FALSE(PlainHttpClient::handles(post("http://127.0.0.1:99999/")));
    HttpRequest tls = post("http://127.0.0.1:2379/");
    tls.ca_file = "/etc/ca.pem";
    CHECK_FALSE(PlainHttpClient::handles(tls));
    HttpRequest status_only = post("http://127.0.0.1:2379/");
    status_only.status_only = true;
    CHECK_FALSE(PlainHttpClient::handles(status_only));
    const char* old = std::getenv("http_proxy");
    const std::string saved = old ? old : "";
    ::setenv("http_proxy", "http://127.0.0.1:3128", 1);
    CHECK_FALSE(PlainHttpClient::handles(post("http://127.0.0.1:2379/")));  // curl would use it
    if (old)
        ::setenv("http_proxy", saved.c_str(), 1);
    else
        ::unsetenv("http_proxy");
}

TEST_CASE("plain HTTP: one kept-alive connection for many requests, bodies sent whole") {
    ScriptedServer server([](const std::string& request) {
        const std::string body = request.substr(request.find("\r\n\r\n") + 4);
        return std::make_pair(with_length("{\"echo\":" + body + "}"), false);
    });
    PlainHttpClient client;
    const std::string big(200 * 1024, 'x');
    for (int i = 0; i < 5; ++i) {
        const HttpResponse response = client.perform(post(server.url(), "\"" + big + "\""));
        REQUIRE(response.transport_ok);
        CHECK(response.status == 200);
        CHECK(response.body == "{\"echo\":\"" + big + "\"}");
    }
    CHECK(server.connections() == 1);
    const auto requests = server.requests();
    REQUIRE(requests.size() == 5);
    CHECK(requests[0].rfind("POST /v3/kv/range HTTP/1.1\r\n", 0) == 0);
    CHECK(requests[0].find("\r\nContent-Type: application/json\r\n") != std::string::npos);
    CHECK(requests[0].find("\r\nHost: 127.0.0.1:") != std::string::npos);
}

TEST_CASE("plain HTTP: chunked, close-delimited and 1xx-prefixed replies") {
    int round = 0;
    ScriptedServer server([&round](const std::string&) {
        switch (round++) {
            case 0:
                return std::make_pair(
                    std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"),
                    false);
            case 1:
                return std::make_pair(std::string("HTTP/1.1 100 Continue\r\n\r\n") +
                                          with_length("second", "Connection: close\r\n"),
                                      true);
            default:
                return std::make_pair(std::string("HTTP/1.0 404 Not Found\r\n\r\nno such path"),
                                      true);
        }
    });
    PlainHttpClient client;
    HttpResponse r = client.perform(post(server.url()));
    REQUIRE(r.transport_ok);
    CHECK(r.body == "hello, world");
    r = client.perform(post(server.url()));
    REQUIRE(r.transport_ok);
    CHECK(r.status == 200);
    CHECK(r.body == "second");
    r = client.perform(post(server.url()));
    REQUIRE(r.transport_ok);
    CHECK(r.status == 404);
    CHECK(r.body == "no such path");
    CHECK(server.connections() == 2);  // the 1st reply kept its connection, the 2nd closed it
}

TEST_CASE("plain HTTP: a kept connection the server closed is replaced, once") {
    ScriptedServer server(
        [](const std::string&) { return std::make_pair(with_length("{}"), true); });  // closes
    PlainHttpClient client;
    for (int i = 0; i < 3; ++i) {
        const HttpResponse r = client.perform(post(server.url()));
        REQUIRE(r.transport_ok);
        CHECK(r.body == "{}");
    }
    CHECK(server.requests().size() == 3);  // nothing sent twice
}

TEST_CASE("plain HTTP: failures in libcurl's words") {
    SECTION("refused") {
        int port = 0;
        {
            ScriptedServer gone(
                [](const std::string&) { return std::make_pair(std::string(), true); });
            port = std::stoi(gone.url().substr(17, gone.url().find('/', 17) - 17));
        }
        PlainHttpClient client;
        const HttpResponse r =
            client.perform(post("http://127.0.0.1:" + std::to_string(port) + "/"));
        CHECK_FALSE(r.transport_ok);
        CHECK(r.os_errno == ECONNREFUSED);
        CHECK(r.error.rfind("Failed to connect to 127.0.0.1 port " + std::to_string(port), 0) == 0);
    }
    SECTION("no answer within the request's timeout") {
        ScriptedServer silent([](const std::string&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(600));
            return std::make_pair(with_length("{}"), true);
        });
        PlainHttpClient client;
        HttpRequest request = post(silent.url());
        request.timeout_s = 0.2;
        const HttpResponse r = client.perform(request);
        CHECK_FALSE(r.transport_ok);
        CHECK(r.error.rfind("Operation timed out after ", 0) == 0);
    }
    SECTION("a body over the limit") {
        ScriptedServer big([](const std::string&) {
            return std::make_pair(with_length(std::string(5000, 'x')), false);
        });
        PlainHttpClient client;
        HttpRequest request = post(big.url());
        request.max_body_bytes = 1000;
        const HttpResponse r = client.perform(request);
        CHECK_FALSE(r.transport_ok);
        CHECK(r.error == "response larger than 1000 bytes");
    }
    SECTION("an empty reply") {
        ScriptedServer mute([](const std::string&) { return std::make_pair(std::string(), true); });
        PlainHttpClient client;
        const HttpResponse r = client.perform(post(mute.url()));
        CHECK_FALSE(r.transport_ok);
        CHECK(r.error == "Empty reply from server");
    }
}
