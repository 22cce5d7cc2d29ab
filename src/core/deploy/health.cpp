#include "depctl/health.hpp"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>

#include "util/http.hpp"

namespace depctl {
namespace {

// Sleeps up to `delay` unless cancellation comes first; false when canceled.
bool pause_unless_canceled(std::chrono::milliseconds delay, const CancelSignal& cancel) {
    pollfd fd{cancel.fd(), POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + delay;
    for (;;) {
        if (cancel.level() != CancelLevel::none) return false;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return true;
        if (::poll(&fd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return true;
    }
}

}  // namespace

bool status_is_healthy(long status, const std::string& expect) {
    if (expect.empty()) return status < 500 || status == 500;
    const auto dash = expect.find('-');
    const long low = std::strtol(expect.substr(0, dash).c_str(), nullptr, 10);
    const long high =
        dash == std::string::npos ? low : std::strtol(expect.substr(dash + 1).c_str(), nullptr, 10);
    return status >= low && status <= high;
}

HealthOutcome run_health_attempts(const HealthCheck& check, const CancelSignal& cancel,
                                  const HealthAttempt& attempt,
                                  const std::function<void(std::string_view)>& log) {
    const int attempts = check.attempts.value_or(k_default_health_attempts);
    const auto interval = std::chrono::milliseconds(
        static_cast<long long>(check.interval_s.value_or(k_default_health_interval_s) * 1000));
    const auto grace_end =
        std::chrono::steady_clock::now() +
        std::chrono::milliseconds(static_cast<long long>(check.start_period_s.value_or(0) * 1000));
    HealthOutcome outcome;
    for (int i = 1; i <= attempts; ++i) {
        outcome.attempts = i;
        bool canceled = false;
        const std::string problem = attempt(canceled);
        if (canceled || cancel.level() != CancelLevel::none) {
            outcome.result = HealthOutcome::Result::canceled;
            return outcome;
        }
        if (problem.empty()) {
            if (log) log("depctl: health attempt " + std::to_string(i) + ": healthy\n");
            outcome.result = HealthOutcome::Result::healthy;
            return outcome;
        }
        outcome.last = problem;
        // Inside the start period a failure is not counted (compose's start_period).
        const bool in_grace = std::chrono::steady_clock::now() < grace_end;
        if (log)
            log("depctl: health attempt " + std::to_string(i) + " of " + std::to_string(attempts) +
                ": " + problem + (in_grace ? " (in the start period: not counted)" : "") + "\n");
        if (in_grace) --i;
        if (i < attempts && !pause_unless_canceled(interval, cancel)) {
            outcome.result = HealthOutcome::Result::canceled;
            return outcome;
        }
    }
    outcome.result = HealthOutcome::Result::unhealthy;
    return outcome;
}

HealthAttempt http_health_attempt(const HealthCheck& check, const CancelSignal& cancel) {
    // One client per check: its connection cache makes later attempts cheap.
    auto client = std::make_shared<HttpClient>();
    HttpRequest request;
    request.url = check.http;
    request.connect_timeout_s =
        check.connect_timeout_s.value_or(k_default_health_connect_timeout_s);
    // The response timeout counts from the connection, as on Divio.
    request.timeout_s =
        request.connect_timeout_s + check.timeout_s.value_or(k_default_health_timeout_s);
    request.status_only = true;  // any body size: a big 200 is healthy (issue #14)
    request.cancel = &cancel;
    const std::string expect = check.expect;
    return [client, request, expect](bool& canceled) -> std::string {
        const HttpResponse response = client->perform(request);
        if (response.canceled) {
            canceled = true;
            return "canceled";
        }
        if (!response.transport_ok) return response.error;
        if (status_is_healthy(response.status, expect)) return {};
        return "status " + std::to_string(response.status);
    };
}

}  // namespace depctl
