#include "depctl/health.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>

#include "util/http.hpp"

namespace depctl {
namespace {

// Sleeps until `deadline` unless cancellation comes first; false when canceled.
bool pause_until(std::chrono::steady_clock::time_point deadline, const CancelSignal& cancel) {
    pollfd fd{cancel.fd(), POLLIN, 0};
    for (;;) {
        if (cancel.level() != CancelLevel::none) return false;
        // Rounded up: poll counts whole milliseconds, and a pause cut to 0 would spin.
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
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

namespace {

using Clock = std::chrono::steady_clock;

// The probe schedule (docs/deploy.md, "When health is checked"): the first probe at once,
// then pauses of an eighth of the time already spent (HealthPacing), at least 5 ms, at most
// the interval, and never past the start of the next attempt. A service that becomes ready
// after T is noticed about T/8 later instead of up to a whole interval later.
// Attempts count intervals, not probes: every probe that ends in the same interval belongs
// to the same attempt, and each later interval with a failed probe counts one more (one,
// even when a slow probe spans several). So `attempts` failed attempts take at least
// (attempts - 1) x interval, as with one probe per interval, and at least `attempts` probes.
class AttemptClock {
public:
    AttemptClock(Clock::duration interval, Clock::time_point counting_from, HealthPacing pacing)
        : m_interval(interval), m_counting_from(counting_from), m_pacing(pacing) {}

    bool counting(Clock::time_point at) const { return at >= m_counting_from; }

    // The attempt a probe that ended at `at` belongs to (from 1); 0 inside the start period.
    int attempt_of(Clock::time_point at) {
        if (!counting(at)) return m_counted;
        if (!m_origin) m_origin = at;
        const long long slot = (at - *m_origin) / m_interval;
        if (slot > m_slot) {
            m_slot = slot;
            ++m_counted;
        }
        return m_counted;
    }

    Clock::time_point next_probe(Clock::time_point first, Clock::time_point now) const {
        const auto pause = std::min<Clock::duration>(
            std::max<Clock::duration>((now - first) / std::max(m_pacing.fraction, 1),
                                      m_pacing.min_pause),
            m_interval);
        auto next = now + pause;
        if (!counting(now)) return std::min(next, m_counting_from);
        if (m_origin)
            next = std::min<Clock::time_point>(next, *m_origin + (m_slot + 1) * m_interval);
        return std::max(next, now);
    }

private:
    Clock::duration m_interval;
    Clock::time_point m_counting_from;
    HealthPacing m_pacing;
    std::optional<Clock::time_point> m_origin;  // when the first counted probe ended
    long long m_slot = -1;
    int m_counted = 0;
};

// "depctl: health attempt 2 of 5", with " (probe 7)" when probes outnumber attempts.
std::string attempt_label(int attempt, int of, int probe) {
    std::string label = "depctl: health attempt " + std::to_string(attempt);
    if (of > 0) label += " of " + std::to_string(of);
    if (probe != attempt) label += " (probe " + std::to_string(probe) + ")";
    return label;
}

}  // namespace

HealthOutcome run_health_attempts(const HealthCheck& check, const CancelSignal& cancel,
                                  const HealthAttempt& attempt,
                                  const std::function<void(std::string_view)>& log,
                                  HealthPacing pacing) {
    const int attempts = check.attempts.value_or(k_default_health_attempts);
    const auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(check.interval_s.value_or(k_default_health_interval_s)));
    const auto first = Clock::now();
    const auto grace = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(check.start_period_s.value_or(0)));
    AttemptClock clock(std::max<Clock::duration>(interval, Clock::duration(1)), first + grace,
                       pacing);
    HealthOutcome outcome;
    for (int probe = 1;; ++probe) {
        outcome.probes = probe;
        bool canceled = false;
        const std::string problem = attempt(canceled);
        if (canceled || cancel.level() != CancelLevel::none) {
            outcome.result = HealthOutcome::Result::canceled;
            return outcome;
        }
        const auto ended = Clock::now();
        // Inside the start period a failure is not counted (compose's start_period).
        const bool in_grace = !clock.counting(ended);
        outcome.attempts = std::max(clock.attempt_of(ended), 1);
        if (problem.empty()) {
            if (log) log(attempt_label(outcome.attempts, 0, probe) + ": healthy\n");
            outcome.result = HealthOutcome::Result::healthy;
            return outcome;
        }
        outcome.last = problem;
        if (log)
            log(attempt_label(outcome.attempts, attempts, probe) + ": " + problem +
                (in_grace ? " (in the start period: not counted)" : "") + "\n");
        if (!in_grace && outcome.attempts >= attempts) break;
        if (!pause_until(clock.next_probe(first, Clock::now()), cancel)) {
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
