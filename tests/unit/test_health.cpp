// Health checks (health.cpp): the status rule, the attempt loop, and the HTTP attempt
// against a real server on 127.0.0.1 (a thread answering with a chosen status).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "depctl/health.hpp"
#include "util/cancel.hpp"

using namespace depctl;

namespace {

// Accepts connections on a free loopback port and answers every request with the status
// of the next entry in `statuses` (the last one repeats). Counts the requests it served.
class StatusServer {
public:
    explicit StatusServer(std::vector<int> statuses) : m_statuses(std::move(statuses)) {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(m_fd >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        socklen_t length = sizeof address;
        REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        m_port = ntohs(address.sin_port);
        REQUIRE(::listen(m_fd, 16) == 0);
        m_thread = std::thread([this] { serve(); });
    }
    ~StatusServer() {
        m_stop = true;
        ::shutdown(m_fd, SHUT_RDWR);
        ::close(m_fd);
        m_thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/health"; }
    int served() const { return m_served.load(); }

private:
    void serve() {
        while (!m_stop) {
            const int client = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) return;
            char buffer[4096];
            std::string request;
            // Keep-alive: answer each request on the connection until the client closes it.
            for (;;) {
                const ssize_t n = ::read(client, buffer, sizeof buffer);
                if (n <= 0) break;
                request.append(buffer, static_cast<std::size_t>(n));
                std::size_t end;
                while ((end = request.find("\r\n\r\n")) != std::string::npos) {
                    request.erase(0, end + 4);
                    const int index = m_served++;
                    const int status =
                        m_statuses[std::min<std::size_t>(index, m_statuses.size() - 1)];
                    const std::string response =
                        "HTTP/1.1 " + std::to_string(status) +
                        " X\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
                    if (::write(client, response.data(), response.size()) < 0) break;
                }
            }
            ::close(client);
        }
    }

    std::vector<int> m_statuses;
    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_served{0};
    std::thread m_thread;
};

HealthCheck http_check(const std::string& url, int attempts) {
    HealthCheck check;
    check.http = url;
    check.attempts = attempts;
    check.interval_s = 0.01;
    check.timeout_s = 5;
    return check;
}

}  // namespace

TEST_CASE("health status rule follows Divio unless a range is given") {
    CHECK(status_is_healthy(200, ""));
    CHECK(status_is_healthy(404, ""));
    CHECK(status_is_healthy(500, ""));
    CHECK_FALSE(status_is_healthy(502, ""));
    CHECK_FALSE(status_is_healthy(503, ""));
    CHECK(status_is_healthy(204, "200-299"));
    CHECK_FALSE(status_is_healthy(500, "200-399"));
    CHECK(status_is_healthy(418, "418"));
}

TEST_CASE("health attempts: stop at the first healthy one, log each, give up after N") {
    CancelSignal cancel;
    HealthCheck check;
    check.cmd = "unused";
    check.attempts = 5;
    check.interval_s = 0.001;
    std::vector<std::string> lines;
    const auto log = [&](std::string_view line) { lines.emplace_back(line); };

    int calls = 0;
    HealthOutcome outcome = run_health_attempts(
        check, cancel,
        [&](bool&) { return ++calls < 3 ? std::string("exit code 1") : std::string(); }, log);
    CHECK(outcome.result == HealthOutcome::Result::healthy);
    CHECK(outcome.attempts == 3);
    CHECK(calls == 3);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "depctl: health attempt 1 of 5: exit code 1\n");
    CHECK(lines[2] == "depctl: health attempt 3: healthy\n");

    calls = 0;
    outcome = run_health_attempts(
        check, cancel,
        [&](bool&) {
            ++calls;
            return std::string("status 503");
        },
        nullptr);
    CHECK(outcome.result == HealthOutcome::Result::unhealthy);
    CHECK(outcome.attempts == 5);
    CHECK(calls == 5);
    CHECK(outcome.last == "status 503");
}

TEST_CASE("health attempts: a cancel ends the wait between attempts at once") {
    CancelSignal cancel;
    HealthCheck check;
    check.cmd = "unused";
    check.attempts = 100;
    check.interval_s = 3600;  // 99 hours of pauses without the cancel
    int calls = 0;
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        cancel.request(CancelLevel::graceful);
    });
    const auto started = std::chrono::steady_clock::now();
    // Pauses of an hour from the first probe on (the default pacing probes again within ms).
    const HealthPacing hourly{std::chrono::hours(1), 8};
    const HealthOutcome outcome = run_health_attempts(
        check, cancel,
        [&](bool&) {
            ++calls;
            return std::string("exit code 1");
        },
        nullptr, hourly);
    canceller.join();
    CHECK(outcome.result == HealthOutcome::Result::canceled);
    CHECK(calls == 1);
    // Not about speed: only that the first one-hour pause did not run its course.
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::minutes(5));
}

TEST_CASE("HTTP health: a real server on 127.0.0.1, Divio's rule, then an expect range") {
    CancelSignal cancel;
    {
        StatusServer server({503, 502, 404});  // two failures, then a 404 (healthy by default)
        const HealthCheck check = http_check(server.url(), 10);
        const HealthOutcome outcome =
            run_health_attempts(check, cancel, http_health_attempt(check, cancel), nullptr);
        CHECK(outcome.result == HealthOutcome::Result::healthy);
        CHECK(outcome.probes == 3);
        CHECK(outcome.attempts <= 3);  // probes 5 ms apart can share an interval of 10 ms
        CHECK(server.served() == 3);
    }
    {
        StatusServer server({404});
        HealthCheck check = http_check(server.url(), 3);
        check.expect = "200-299";
        const HealthOutcome outcome =
            run_health_attempts(check, cancel, http_health_attempt(check, cancel), nullptr);
        CHECK(outcome.result == HealthOutcome::Result::unhealthy);
        CHECK(outcome.attempts == 3);
        CHECK(outcome.last.find("404") != std::string::npos);
    }
}

TEST_CASE("HTTP health: nothing listening is unhealthy with the reason, not an error") {
    CancelSignal cancel;
    std::string url;
    {
        StatusServer server({200});
        url = server.url();
    }  // the port is closed again: connections are refused
    const HealthCheck check = http_check(url, 2);
    const HealthOutcome outcome =
        run_health_attempts(check, cancel, http_health_attempt(check, cancel), nullptr);
    CHECK(outcome.result == HealthOutcome::Result::unhealthy);
    CHECK(outcome.attempts == 2);
    CHECK_FALSE(outcome.last.empty());
}

TEST_CASE("health pacing: probes early, but N failed attempts still take N - 1 intervals") {
    CancelSignal cancel;
    HealthCheck check;
    check.cmd = "unused";
    check.attempts = 3;
    check.interval_s = 0.2;
    int calls = 0;
    const auto started = std::chrono::steady_clock::now();
    const HealthOutcome outcome = run_health_attempts(
        check, cancel,
        [&](bool&) {
            ++calls;
            return std::string("exit code 1");
        },
        nullptr);
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(outcome.result == HealthOutcome::Result::unhealthy);
    CHECK(outcome.attempts == 3);
    CHECK(outcome.probes == calls);
    CHECK(calls > 3);                               // more probes than intervals
    CHECK(took >= std::chrono::milliseconds(400));  // but not less patience than before
}

TEST_CASE("health pacing: a service ready soon after the deploy passes in the first attempt") {
    CancelSignal cancel;
    HealthCheck check;
    check.cmd = "unused";
    check.attempts = 3;
    check.interval_s = 30;  // one probe per interval would find it healthy only after 30 s
    const auto ready_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(150);
    std::vector<std::string> lines;
    const HealthOutcome outcome = run_health_attempts(
        check, cancel,
        [&](bool&) {
            return std::chrono::steady_clock::now() >= ready_at ? std::string()
                                                                : std::string("status 503");
        },
        [&](std::string_view line) { lines.emplace_back(line); });
    CHECK(outcome.result == HealthOutcome::Result::healthy);
    CHECK(outcome.attempts == 1);
    CHECK(outcome.probes > 1);
    REQUIRE(lines.size() == static_cast<std::size_t>(outcome.probes));
    CHECK(lines[0] == "depctl: health attempt 1 of 3: status 503\n");
    CHECK(lines[1] == "depctl: health attempt 1 of 3 (probe 2): status 503\n");
    CHECK(lines.back() ==
          "depctl: health attempt 1 (probe " + std::to_string(outcome.probes) + "): healthy\n");
}

TEST_CASE("health pacing: failures in the start period are not counted") {
    CancelSignal cancel;
    HealthCheck check;
    check.cmd = "unused";
    check.attempts = 2;
    check.interval_s = 0.1;
    check.start_period_s = 0.3;
    std::vector<std::string> lines;
    const auto started = std::chrono::steady_clock::now();
    const HealthOutcome outcome = run_health_attempts(
        check, cancel, [&](bool&) { return std::string("exit code 1"); },
        [&](std::string_view line) { lines.emplace_back(line); });
    CHECK(outcome.result == HealthOutcome::Result::unhealthy);
    CHECK(outcome.attempts == 2);
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(400));
    REQUIRE(lines.size() >= 3);
    CHECK(lines[0].find("(in the start period: not counted)") != std::string::npos);
    CHECK(lines.back().find("not counted") == std::string::npos);
}
