// Health checks after a deploy (DESIGN §5): HTTP with Divio's defaults, or a command,
// probed at once and then at growing pauses, up to N attempts of one interval each; stops at
// once on cancel.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "depctl/model.hpp"
#include "util/cancel.hpp"

namespace depctl {

inline constexpr int k_default_health_attempts = 300;
inline constexpr double k_default_health_interval_s = 0.5;
inline constexpr double k_default_health_connect_timeout_s = 0.4;
inline constexpr double k_default_health_timeout_s = 20;

// Healthy by default: any response but a 5xx other than 500 (Divio). With an expect range
// such as "200-399" (or "204"), exactly the statuses in it.
bool status_is_healthy(long status, const std::string& expect);

struct HealthOutcome {
    enum class Result { healthy, unhealthy, canceled } result = Result::unhealthy;
    int attempts = 0;  // intervals with a failed probe, plus the healthy one's
    int probes = 0;    // calls of the attempt function
    std::string last;  // "status 503" / "Connection refused" / "exit code 1"
};

// One attempt of a command check, supplied by the caller (it knows how to run processes
// with the service's environment): returns "" when healthy, else what went wrong, and
// sets `canceled` when cancellation stopped it.
using HealthAttempt = std::function<std::string(bool& canceled)>;

// Probes with `attempt` until healthy or check.attempts attempts failed (an attempt is an
// interval: the schedule is in health.cpp); `log` receives one line per probe.
// The pauses between probes: `fraction`-th of the time spent since the first probe, at least
// `min_pause`, at most the check's interval (docs/deploy.md, "When health is checked").
struct HealthPacing {
    std::chrono::milliseconds min_pause{5};
    int fraction = 8;
};

HealthOutcome run_health_attempts(const HealthCheck& check, const CancelSignal& cancel,
                                  const HealthAttempt& attempt,
                                  const std::function<void(std::string_view)>& log,
                                  HealthPacing pacing = {});

// The HTTP attempt for check.http (libcurl through HttpClient).
HealthAttempt http_health_attempt(const HealthCheck& check, const CancelSignal& cancel);

// `environment status --check` (DESIGN §9): each service's health check run once, now.
struct HealthNow {
    // unchecked: not probed (no health check; skipped, never deployed or stopped: not
    // expected to run) or the checks were cancelled; `detail` says which.
    enum class Result { unchecked, up, down } result = Result::unchecked;
    std::string detail;  // why it is DOWN: "status 503", "exit code 1", ... (secrets masked)
};
struct HealthNowContext {
    std::string project;
    std::filesystem::path project_dir;
    int parallelism = 8;
};
// One result per service of `env` (same order). A command check runs with the variables,
// env, secrets and workdir its health step gets (DEPCTL_VERSION: the version the state
// says it runs) and the check's timeout; its output is not kept. A secret that cannot be
// read makes the check DOWN with the reason, never the value.
std::vector<HealthNow> check_health_now(const Environment& env, const HealthNowContext& context,
                                        const CancelSignal& cancel);

}  // namespace depctl
