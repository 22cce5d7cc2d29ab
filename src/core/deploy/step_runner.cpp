#include "core/deploy/step_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>

#include "depctl/error.hpp"
#include "depctl/health.hpp"
#include "depctl/secrets.hpp"
#include "util/fd.hpp"
#include "util/files.hpp"
#include "util/process.hpp"

namespace depctl {
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

milliseconds seconds(double s) {
    return milliseconds(static_cast<long long>(std::llround(s * 1000)));
}

StepStatus status_of(const ProcessResult& result) {
    switch (result.end) {
        case ProcessEnd::exited:
            return result.exit_code == 0 ? StepStatus::succeeded : StepStatus::failed;
        case ProcessEnd::signaled:
            return StepStatus::failed;
        case ProcessEnd::timed_out:
            return StepStatus::timed_out;
        case ProcessEnd::canceled:
            return StepStatus::canceled;
        case ProcessEnd::spawn_failed:
            return StepStatus::failed;
    }
    return StepStatus::failed;
}

// Waits up to `delay` unless cancellation comes first; returns false when canceled.
bool pause_unless_canceled(milliseconds delay, const CancelSignal& cancel) {
    pollfd fd{cancel.fd(), POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + delay;
    for (;;) {
        if (cancel.level() != CancelLevel::none) return false;
        const auto left =
            std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return true;
        const int ready = ::poll(&fd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno != EINTR) return true;
    }
}

// Appends a step's output to its log and cuts it into lines for a following observer.
class OutputRouter {
public:
    OutputRouter(const fs::path& log_path, DeployObserver& observer, const Plan& plan,
                 std::size_t step, const std::vector<std::string>& mask)
        : m_observer(observer),
          m_plan(plan),
          m_step(step),
          m_follow(observer.wants_output()),
          m_masker(mask) {
        m_fd.reset(open_regular(log_path, O_WRONLY | O_CREAT | O_APPEND));
    }
    ~OutputRouter() noexcept {
        try {
            finish();  // secret values are replaced before a byte reaches the log or terminal
        } catch (...) {
            // An observer that throws (a closed terminal, out of memory) loses the last
            // line; the step's outcome and its log still count, and a throw out of a
            // destructor, during an unwind or not, would end the process.
        }
    }
    // Writes what the masker held back (secret values are replaced before a byte reaches
    // the log or the terminal). Returns "" when the log holds every byte, else why not.
    std::string finish() {
        if (!m_finished) {
            m_finished = true;
            write_masked(m_masker.finish());
            flush();
        }
        return m_write_error;
    }
    OutputRouter(const OutputRouter&) = delete;
    OutputRouter& operator=(const OutputRouter&) = delete;

    void write(std::string_view raw) {
        if (m_masker.active()) {
            write_masked(m_masker.feed(raw));
        } else {
            write_masked(raw);
        }
    }
    void note(const std::string& text) { write(text); }

private:
    void write_masked(std::string_view chunk) {
        std::string_view rest = m_write_error.empty() ? chunk : std::string_view();
        while (!rest.empty()) {
            const ssize_t n = ::write(m_fd.get(), rest.data(), rest.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                // A full disk does not stop the step, but its report says the log is cut
                // (DESIGN §9 "Failure while recording"): nothing more is written to it.
                m_write_error = std::string(n < 0 ? std::strerror(errno) : "nothing written") +
                                " after " + std::to_string(m_written) + " bytes";
                break;
            }
            rest.remove_prefix(static_cast<std::size_t>(n));
            m_written += static_cast<std::uint64_t>(n);
        }
        if (!m_follow) return;
        m_partial.append(chunk);
        std::size_t start = 0;
        for (std::size_t nl; (nl = m_partial.find('\n', start)) != std::string::npos;
             start = nl + 1) {
            m_observer.step_output(m_plan, m_step,
                                   std::string_view(m_partial).substr(start, nl - start));
        }
        m_partial.erase(0, start);
        if (m_partial.size() > 64 * 1024) flush();  // a line without end must not grow forever
    }
    void flush() {
        if (m_follow && !m_partial.empty()) m_observer.step_output(m_plan, m_step, m_partial);
        m_partial.clear();
    }
    DeployObserver& m_observer;
    const Plan& m_plan;
    std::size_t m_step;
    bool m_follow;
    SecretMasker m_masker;
    UniqueFd m_fd;
    std::string m_partial;
    bool m_finished = false;
    std::uint64_t m_written = 0;
    std::string m_write_error;  // the first failed write to the log; "" = none
};

}  // namespace

StepRunner::StepRunner(const Plan& plan, StepRunContext context, DeployObserver& observer)
    : m_plan(plan), m_context(std::move(context)), m_observer(observer) {}

fs::path StepRunner::workdir_of(const Service& service) const {
    if (service.workdir.empty()) return m_context.project_dir;
    const fs::path dir(service.workdir);
    return dir.is_absolute() ? dir : m_context.project_dir / dir;
}

fs::path StepRunner::log_path(const PlannedService& ps, StepKind kind) const {
    // Ids, never names, in file paths (DESIGN §2): two services never share a log, and any
    // name that validates (100 characters of 4-byte UTF-8) fits in a file name.
    return m_context.log_dir / (ps.service.id + "." + std::string(to_string(kind)) + ".log");
}

std::vector<std::pair<std::string, std::string>> StepRunner::variables(const PlannedService& ps,
                                                                       StepKind kind) const {
    // Builds get nothing environment-specific (as on Divio), so a build can be reused by
    // any environment that deploys the same version.
    std::vector<std::pair<std::string, std::string>> vars = {
        {"DEPCTL_PROJECT", m_context.project},
        {"DEPCTL_SERVICE", ps.service.name},
        {"DEPCTL_VERSION", ps.version_or(m_context.version)},
        {"DEPCTL_STEP", std::string(to_string(kind))},
    };
    if (kind == StepKind::build) return vars;
    vars.push_back({"DEPCTL_ENVIRONMENT", m_context.environment});
    vars.push_back({"DEPCTL_STAGE", m_plan.stages[ps.stage].name});
    vars.push_back({"DEPCTL_DEPLOYMENT_ID", m_context.deployment_id});
    for (const auto& [key, value] : ps.service.env) vars.push_back({key, value});
    const std::size_t index = static_cast<std::size_t>(&ps - m_plan.services.data());
    if (index < m_context.secrets.size()) {
        for (const auto& secret : m_context.secrets[index]) vars.push_back(secret);
    }
    return vars;
}

StepReport StepRunner::run_command(std::size_t step, const std::string& command,
                                   const fs::path& workdir,
                                   std::vector<std::pair<std::string, std::string>> env,
                                   milliseconds timeout, const fs::path& log_path,
                                   const CancelSignal& cancel) {
    std::optional<OutputRouter> opened;
    try {
        opened.emplace(log_path, m_observer, m_plan, step, m_context.mask);
    } catch (const util::Error& e) {
        // Never a silent FAILED: the step did not run, and the record says why.
        StepReport report;
        report.status = StepStatus::failed;
        report.exit_code = 1;
        report.error = std::string("not run: cannot open its log: ") + e.what();
        report.log_path = log_path.string();
        return report;
    }
    OutputRouter& output = *opened;
    if (m_context.fencing_token > 0)
        env.push_back({"DEPCTL_FENCING_TOKEN", std::to_string(m_context.fencing_token)});
    ProcessSpec spec{command, workdir, std::move(env), timeout, m_context.grace, m_context.scrub};
    spec.guard = m_context.guard;
    const ProcessResult result = run_process(
        spec, [&](std::string_view chunk) { output.write(chunk); }, &cancel);
    StepReport report;
    report.status = status_of(result);
    report.exit_code = result.exit_code;
    report.duration = result.duration;
    report.error = result.error;
    report.log_path = log_path.string();
    report.attempts = 1;
    if (!result.error.empty()) output.note("depctl: " + result.error + "\n");
    if (const std::string cut = output.finish(); !cut.empty()) {
        // Never SUCCEEDED with a truncated log: a step whose output is lost is not verified.
        if (report.status == StepStatus::succeeded) report.status = StepStatus::failed;
        report.error = (report.error.empty() ? "" : report.error + "; ") + "its log " +
                       log_path.string() + " could not be written completely (" + cut +
                       "); the command exited with code " + std::to_string(result.exit_code);
    }
    return report;
}

StepReport StepRunner::run(std::size_t step_index, const CancelSignal& cancel) {
    const PlanStep& step = m_plan.steps[step_index];
    const Service& s = m_plan.services[step.service].service;
    const auto deploy_timeout = seconds(s.deploy_timeout_s.value_or(k_default_deploy_timeout_s));
    switch (step.kind) {
        case StepKind::build:
            return run_with_retries(step_index, s.build, StepKind::build,
                                    seconds(s.build_timeout_s.value_or(k_default_build_timeout_s)),
                                    cancel);
        case StepKind::release:
            return run_with_retries(step_index, s.release, StepKind::release, deploy_timeout,
                                    cancel);
        case StepKind::deploy:
            return run_with_retries(step_index, s.deploy, StepKind::deploy, deploy_timeout, cancel);
        case StepKind::health:
            return run_health(step_index, cancel);
        case StepKind::stop: {
            const PlannedService& ps = m_plan.services[step.service];
            return run_command(step_index, s.stop, workdir_of(s), variables(ps, StepKind::stop),
                               deploy_timeout, log_path(ps, StepKind::stop), cancel);
        }
        case StepKind::barrier:
            break;
    }
    return {StepStatus::succeeded, 0, milliseconds(0), {}, {}, 0, 0, {}};
}

StepReport StepRunner::run_with_retries(std::size_t step_index, const std::string& command,
                                        StepKind kind, milliseconds timeout,
                                        const CancelSignal& cancel) {
    const PlannedService& ps = m_plan.services[m_plan.steps[step_index].service];
    const int retries = ps.service.retries.value_or(0);
    const auto started = std::chrono::steady_clock::now();
    StepReport report;
    milliseconds backoff(1000);
    for (int attempt = 1;; ++attempt) {
        report = run_command(step_index, command, workdir_of(ps.service), variables(ps, kind),
                             timeout, log_path(ps, kind), cancel);
        report.attempts = attempt;
        if (report.status == StepStatus::succeeded || report.status == StepStatus::canceled ||
            attempt > retries)
            break;
        // Backoff 1 s, 2 s, 4 s ... at most 30 s, cut short by cancellation.
        OutputRouter(log_path(ps, kind), m_observer, m_plan, step_index, m_context.mask)
            .note("depctl: attempt " + std::to_string(attempt) + " failed (" +
                  std::string(to_string(report.status.value_or(StepStatus::failed))) +
                  ", exit code " + std::to_string(report.exit_code) + "); retrying in " +
                  std::to_string(backoff.count() / 1000) + "s\n");
        if (!pause_unless_canceled(backoff, cancel)) {
            report.status = StepStatus::canceled;
            break;
        }
        backoff = std::min(backoff * 2, milliseconds(30000));
    }
    report.duration =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
    return report;
}

namespace {

// A health check's report from its outcome; `last` is its last failure, secrets masked.
StepReport health_report(const HealthOutcome& outcome, const std::string& last) {
    StepReport report;
    report.attempts = outcome.attempts;
    if (outcome.probes > outcome.attempts) report.probes = outcome.probes;
    switch (outcome.result) {
        case HealthOutcome::Result::healthy:
            report.status = StepStatus::succeeded;
            break;
        case HealthOutcome::Result::canceled:
            report.status = StepStatus::canceled;
            report.exit_code = 130;
            break;
        case HealthOutcome::Result::unhealthy:
            report.status = StepStatus::failed;
            report.exit_code = 1;
            report.error = "unhealthy after " + std::to_string(outcome.attempts) +
                           " attempts (last: " + last + ")";
            break;
    }
    return report;
}

}  // namespace

StepReport StepRunner::run_health(std::size_t step_index, const CancelSignal& cancel) {
    const PlannedService& ps = m_plan.services[m_plan.steps[step_index].service];
    const HealthCheck& health = ps.service.health;
    const fs::path log = log_path(ps, StepKind::health);
    const auto started = std::chrono::steady_clock::now();
    HealthAttempt attempt;
    if (!health.http.empty()) {
        try {
            attempt = http_health_attempt(health, cancel);
        } catch (const util::Error& e) {
            // No HTTP client (libcurl is loaded on first use and may be missing): the step
            // fails and its log says why.
            OutputRouter(log, m_observer, m_plan, step_index, m_context.mask)
                .note("depctl: " + std::string(e.what()) + "\n");
            StepReport report;
            report.status = StepStatus::failed;
            report.exit_code = 1;
            report.error = e.what();
            report.log_path = log.string();
            report.duration = std::chrono::duration_cast<milliseconds>(
                std::chrono::steady_clock::now() - started);
            return report;
        }
    } else {
        const milliseconds timeout = seconds(health.timeout_s.value_or(k_default_health_timeout_s));
        attempt = [&, timeout](bool& canceled) -> std::string {
            const StepReport once =
                run_command(step_index, health.cmd, workdir_of(ps.service),
                            variables(ps, StepKind::health), timeout, log, cancel);
            canceled = once.status == StepStatus::canceled;
            if (once.status == StepStatus::succeeded) return {};
            return once.error.empty() ? "exit code " + std::to_string(once.exit_code) : once.error;
        };
    }
    const HealthOutcome outcome =
        run_health_attempts(health, cancel, attempt, [&](std::string_view line) {
            OutputRouter(log, m_observer, m_plan, step_index, m_context.mask)
                .note(std::string(line));
        });
    StepReport report = health_report(outcome, mask_secrets(outcome.last, m_context.mask));
    report.log_path = log.string();
    report.duration =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
    return report;
}

StepReport StepRunner::run_hook(const std::string& name, const std::string& command,
                                const CancelSignal& cancel) {
    std::vector<std::pair<std::string, std::string>> env = {
        {"DEPCTL_PROJECT", m_context.project},
        {"DEPCTL_ENVIRONMENT", m_context.environment},
        {"DEPCTL_VERSION", m_context.version},
        {"DEPCTL_DEPLOYMENT_ID", m_context.deployment_id},
        {"DEPCTL_STEP", name},
    };
    return run_command(k_no_step, command, m_context.project_dir, std::move(env),
                       seconds(k_default_deploy_timeout_s),
                       m_context.log_dir / ("_hook." + name + ".log"), cancel);
}

}  // namespace depctl
