// `environment status --check` (DESIGN §9 "Honest status"): each service's health check
// run once, now, beside what the state says was deployed (compose's `ps`).
#include <algorithm>
#include <atomic>
#include <thread>

#include "depctl/error.hpp"
#include "depctl/health.hpp"
#include "depctl/plan.hpp"
#include "depctl/secrets.hpp"
#include "depctl/status.hpp"
#include "util/process.hpp"
#include "util/step_guard.hpp"

namespace depctl {
namespace {

namespace fs = std::filesystem;
using Env = std::vector<std::pair<std::string, std::string>>;

// What the service's health step gets, as far as it is known without a deployment: the
// version the state says it runs, its env and its secrets (step_runner.cpp `variables`).
Env check_variables(const Environment& env, const Service& s, const HealthNowContext& context,
                    const Env& secrets) {
    const Stage* stage = env.find_stage_by_id(s.stage_id);
    Env vars = {{"DEPCTL_PROJECT", context.project},
                {"DEPCTL_SERVICE", s.name},
                {"DEPCTL_VERSION", s.current.version},
                {"DEPCTL_STEP", std::string(to_string(StepKind::health))},
                {"DEPCTL_ENVIRONMENT", env.name},
                {"DEPCTL_STAGE", stage ? stage->name : ""},
                {"DEPCTL_DEPLOYMENT_ID", s.current.deployment_id}};
    for (const auto& [key, value] : s.env) vars.push_back({key, value});
    for (const auto& secret : secrets) vars.push_back(secret);
    return vars;
}

std::string command_once(const Environment& env, const Service& s, const HealthNowContext& context,
                         const CancelSignal& cancel) {
    const Env secrets = resolve_secrets(s);  // throws Refused: reported as the reason
    ProcessSpec spec;
    spec.command = s.health.cmd;
    spec.workdir = s.workdir.empty()                   ? context.project_dir
                   : fs::path(s.workdir).is_absolute() ? fs::path(s.workdir)
                                                       : context.project_dir / s.workdir;
    spec.env = check_variables(env, s, context, secrets);
    spec.timeout = std::chrono::milliseconds(
        static_cast<long long>(1000 * s.health.timeout_s.value_or(k_default_health_timeout_s)));
    spec.grace = std::chrono::milliseconds(1000);
    // As a deploy does: no service's env: secret source reaches any command.
    for (const Service& other : env.services) {
        for (const SecretRef& secret : other.secrets) {
            if (secret.source.rfind("env:", 0) == 0) spec.unset.push_back(secret.source.substr(4));
        }
    }
    StepGuard guard;  // as a deploy's health step: not outliving depctl
    spec.guard = &guard;
    const ProcessResult result = run_process(spec, {}, &cancel);  // output is not kept
    if (result.end == ProcessEnd::exited && result.exit_code == 0) return {};
    return mask_secrets(
        result.error.empty() ? "exit code " + std::to_string(result.exit_code) : result.error,
        mask_patterns(secrets));
}

// Why a service is not probed, or "" when it is: only what should be running is checked,
// so that a stopped environment does not read as an outage.
std::string not_probed(const Service& s) {
    if (s.health.http.empty() && s.health.cmd.empty()) return "no health check";
    if (s.skipped) return "skipped";
    if (s.current.version.empty()) return "never deployed";
    if (s.current.status == to_string(ServiceStatus::stopped)) return "stopped";
    return {};
}

HealthNow check_one(const Environment& env, const Service& s, const HealthNowContext& context,
                    const CancelSignal& cancel) {
    if (std::string why = not_probed(s); !why.empty()) return {HealthNow::Result::unchecked, why};
    std::string why;
    try {
        if (!s.health.http.empty()) {
            bool canceled = false;
            why = http_health_attempt(s.health, cancel)(canceled);
        } else {
            why = command_once(env, s, context, cancel);
        }
    } catch (const std::exception& e) {
        why = e.what();  // a secret that cannot be read, no HTTP client: never a value
    } catch (...) {
        why = "the check could not run";
    }
    if (cancel.level() != CancelLevel::none) return {HealthNow::Result::unchecked, "canceled"};
    if (why.empty()) return {HealthNow::Result::up, {}};
    return {HealthNow::Result::down, why};
}

}  // namespace

std::vector<HealthNow> check_health_now(const Environment& env, const HealthNowContext& context,
                                        const CancelSignal& cancel) {
    std::vector<HealthNow> out(env.services.size());
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i = next++; i < env.services.size(); i = next++)
            out[i] = check_one(env, env.services[i], context, cancel);
    };
    const std::size_t workers =
        std::min<std::size_t>(std::max(1, context.parallelism), env.services.size());
    {
        std::vector<std::jthread> threads;  // joined however this block is left
        for (std::size_t w = 1; w < workers; ++w) threads.emplace_back(work);
        work();
    }
    return out;
}

}  // namespace depctl
