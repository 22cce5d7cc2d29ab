#include "progress.hpp"

#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "depctl/deploy_events.hpp"
#include "depctl/names.hpp"
#include "table.hpp"

namespace depctl::cli {
namespace {

bool is_failure(StepStatus status) {
    return !step_succeeded(status) && status != StepStatus::not_started &&
           status != StepStatus::canceled && status != StepStatus::skipped;
}

// One row per service: status, time spent in its steps, and each step's time.
std::vector<std::vector<std::string>> service_rows(const DeploymentRecord& record) {
    std::vector<std::vector<std::string>> rows;
    for (const StageRecord& stage : record.stages) {
        for (const ServiceRecord& service : stage.services) {
            std::chrono::milliseconds total{0};
            const std::string steps = steps_text(service, &total);
            rows.push_back({service.name, stage.name, std::string(to_string(service.status)),
                            duration_text(total), steps.empty() ? "-" : steps});
        }
    }
    return rows;
}

// A word the user can paste into a shell.
std::string shell_word(const std::string& text) {
    const bool plain = !text.empty() &&
                       text.find_first_not_of(
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/") ==
                           std::string::npos;
    if (plain) return text;
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

ProgressOptions progress_options_for(const ProgressRequest& request) {
    ProgressOptions out;
    const bool tty = ::isatty(STDOUT_FILENO) == 1;
    out.mode = request.json               ? ProgressMode::json
               : (tty && !request.follow) ? ProgressMode::live
                                          : ProgressMode::lines;
    out.follow = request.follow;
    out.color = tty && !request.no_color && !std::getenv("NO_COLOR");
    out.unicode = tty && locale_is_utf8();
    out.quiet = request.quiet;
    return out;
}

Progress::Progress(ProgressOptions options)
    : m_options(options),
      m_style{options.color, options.unicode},
      m_start(std::chrono::steady_clock::now()) {}

std::string Progress::elapsed() const {
    char buffer[32];
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - m_start);
    std::snprintf(buffer, sizeof buffer, "[%7.2fs]", static_cast<double>(ms.count()) / 1000.0);
    return buffer;
}

std::string Progress::paint(const std::string& text, const char* code) const {
    return m_style.paint(text, code);
}

void Progress::emit_json(nlohmann::json event) {
    event["at"] = now_iso8601();
    std::cout << event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n'
              << std::flush;
}

void Progress::deployment_started(const Plan& plan, const std::string& deployment_id,
                                  const std::string& version) {
    std::lock_guard lock(m_mutex);
    m_start = std::chrono::steady_clock::now();
    if (m_options.mode == ProgressMode::json) {
        emit_json(deployment_started_event(plan, deployment_id, version));
        return;
    }
    if (m_options.quiet) return;
    const std::string what =
        version.empty()
            ? "Stopping environment \"" + plan.environment_name + "\""
            : "Deploying environment \"" + plan.environment_name + "\" at version " + version;
    const std::size_t n = plan.services.size();
    std::cout << paint(what, "1") << " (" << deployment_id << "): " << n
              << (n == 1 ? " service\n" : " services\n") << std::flush;
    if (m_options.mode == ProgressMode::live) {
        // Started here, not in the constructor: the ticker thread must inherit the signal
        // mask that the signal watcher set up in between.
        m_live = std::make_unique<LiveView>(m_style);
        m_live->start(plan);
    }
}

void Progress::step_started(const Plan& plan, std::size_t step) {
    std::lock_guard lock(m_mutex);
    const PlanStep& s = plan.steps[step];
    if (m_options.mode == ProgressMode::json) {
        emit_json(step_started_event(plan, step));
        return;
    }
    if (m_live) {
        m_live->step_started(plan, step);
        return;
    }
    if (m_options.quiet || s.reused) return;  // a reused build is reported once, as "reused"
    std::cout << elapsed() << ' ' << step_label(plan, step) << " started\n" << std::flush;
}

void Progress::step_finished(const Plan& plan, std::size_t step, const StepReport& report) {
    std::lock_guard lock(m_mutex);
    const StepStatus status_value = report.status.value_or(StepStatus::not_started);
    const std::string status(to_string(status_value));
    if (m_options.mode == ProgressMode::json) {
        emit_json(step_finished_event(plan, step, report));
        return;
    }
    if (m_live) {
        m_live->step_finished(plan, step, report);
        return;
    }
    if (m_options.quiet) return;
    if (status_value == StepStatus::reused) {
        std::cout << elapsed() << ' ' << step_label(plan, step) << ' ' << paint("reused", "32")
                  << " (built before for this version)\n"
                  << std::flush;
        return;
    }
    std::string line = elapsed() + ' ' + step_label(plan, step) + ' ' +
                       paint(status, status_color(status)) + " in " +
                       duration_text(report.duration);
    if (status_value != StepStatus::succeeded) {
        line += " (exit code " + std::to_string(report.exit_code) + ")";
        if (!report.error.empty()) line += ": " + report.error;
    }
    std::cout << line << '\n' << std::flush;
}

void Progress::hook_finished(const std::string& name, const StepReport& report) {
    std::lock_guard lock(m_mutex);
    if (m_options.mode == ProgressMode::json) {
        emit_json(hook_finished_event(name, report));
        return;
    }
    if (m_options.quiet) return;
    const std::string status(to_string(report.status.value_or(StepStatus::failed)));
    const std::string line = elapsed() + " hook " + name + ' ' +
                             paint(status, status_color(status)) + " in " +
                             duration_text(report.duration) + '\n';
    if (m_live) {
        m_live->print_above(line, stdout);
        return;
    }
    std::cout << line << std::flush;
}

void Progress::step_output(const Plan& plan, std::size_t step, std::string_view line) {
    std::lock_guard lock(m_mutex);
    const std::string prefix = step == k_no_step ? std::string("hook") : step_label(plan, step);
    if (m_options.mode == ProgressMode::json) {
        emit_json(output_event(plan, step, line));
        return;
    }
    // Whole lines only, under the lock: output of parallel steps never interleaves.
    const std::string text = paint(prefix + " | ", "2") + std::string(line) + '\n';
    if (m_live) {
        m_live->print_above(text, stdout);
        return;
    }
    std::cout << text << std::flush;
}

void Progress::cancel_requested(CancelLevel level) {
    std::lock_guard lock(m_mutex);
    if (m_options.mode == ProgressMode::json) {
        emit_json(cancel_requested_event(level));
        return;
    }
    const std::string text =
        level == CancelLevel::immediate
            ? "Killing running steps now...\n"
            : "Cancelling: running steps get SIGTERM, SIGKILL after the grace period "
              "(Ctrl-C again to kill now)...\n";
    if (m_live) {
        std::cout << std::flush;
        m_live->print_above(text, stderr);
        return;
    }
    std::cerr << text << std::flush;
}

// The rollback's steps follow as plain lines: the live view's rows are the forward plan's.
void Progress::rollback_started(const Plan& redeploy, const Plan& stop) {
    std::lock_guard lock(m_mutex);
    if (m_options.mode == ProgressMode::json) {
        emit_json(rollback_started_event(redeploy, stop));
        return;
    }
    if (m_live) {
        m_live->finish(DeploymentRecord{});
        m_live.reset();
    }
    std::string what;
    for (const PlannedService& ps : redeploy.services)
        what += (what.empty() ? "" : ", ") + ps.service.name + " to " + ps.version;
    for (const PlannedService& ps : stop.services)
        what += (what.empty() ? "" : ", ") + ps.service.name + " stopped";
    std::cout << paint("Rolling back (--on-failure rollback)", "1") << ": "
              << (what.empty() ? std::string("nothing to roll back") : what) << '\n'
              << std::flush;
}

void Progress::rollback_finished(DeploymentStatus status) {
    std::lock_guard lock(m_mutex);
    if (m_options.mode == ProgressMode::json) {
        emit_json(rollback_finished_event(status));
        return;
    }
    const std::string text(to_string(status));
    std::cout << elapsed() << " rollback " << paint(text, status_color(text)) << '\n' << std::flush;
}

std::string Progress::summary(const DeployOutcome& outcome) const {
    const DeploymentRecord& record = outcome.record;
    std::string out;
    // The live view's last frame already shows every service; plain lines get a table.
    if (!m_live && !m_options.quiet) {
        const auto rows = service_rows(record);
        if (!rows.empty())
            out += "\n" + render_table({"Service", "Stage", "Status", "Time", "Steps"}, rows);
    }
    const std::string status(to_string(record.status));
    out += "Deployment " + record.id + ' ' + paint(status, status_color(status)) + " in " +
           duration_text(std::chrono::milliseconds(record.duration_ms)) + '\n';
    // The first failure as recorded, then any other step that failed while running out.
    std::vector<FailedStep> failures;
    if (record.failed_step) failures.push_back(*record.failed_step);
    for (const StageRecord& stage : record.stages) {
        for (const ServiceRecord& service : stage.services) {
            for (const StepRecord& step : service.steps) {
                if (!is_failure(step.status)) continue;
                if (!failures.empty() && failures.front().service == service.name &&
                    failures.front().step == step.name)
                    continue;
                failures.push_back(
                    {service.name, step.name, step.exit_code, step.status, step.log, step.error});
            }
        }
    }
    for (const FailedStep& failed : failures) {
        out += "  failed: " + failed.service + ' ' + failed.step + " (" +
               std::string(to_string(failed.status)) + ", exit code " +
               std::to_string(failed.exit_code) + ")\n" + "  log:    " + failed.log + '\n';
    }
    for (const StepRecord& hook : record.hooks) {
        if (hook.status != StepStatus::succeeded) {
            out += "  hook " + hook.name + ' ' + std::string(to_string(hook.status)) +
                   ", log: " + hook.log + '\n';
        }
    }
    if (!failures.empty()) {
        out += "  see:    depctl deployment logs " + record.id + " --service " +
               shell_word(failures.front().service) + " --step " + failures.front().step + '\n';
    }
    return out;
}

void Progress::deployment_finished(const DeployOutcome& outcome) {
    std::lock_guard lock(m_mutex);
    if (m_options.mode == ProgressMode::json) {
        emit_json(deployment_finished_event(outcome));
        return;
    }
    if (m_live) m_live->finish(outcome.record);
    std::cout << summary(outcome) << std::flush;
}

}  // namespace depctl::cli
