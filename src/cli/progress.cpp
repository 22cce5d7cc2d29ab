#include "progress.hpp"

#include <unistd.h>

#include <iostream>

#include "depctl/deploy_events.hpp"
#include "depctl/names.hpp"
#include "table.hpp"

namespace depctl::cli {
namespace {

bool is_failure(const std::string& status) {
    return status != "SUCCEEDED" && status != "REUSED" && status != "NOT_STARTED" &&
           status != "CANCELED" && status != "SKIPPED" && !status.empty();
}

// One row per service: status, time spent in its steps, and each step's time.
std::vector<std::vector<std::string>> service_rows(const nlohmann::json& record) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& stage : array_field(record, "stages")) {
        for (const auto& service : array_field(stage, "services")) {
            std::chrono::milliseconds total{0};
            std::string steps;
            for (const auto& step : array_field(service, "steps")) {
                const std::string status = step.value("status", "");
                const auto ms = std::chrono::milliseconds(step.value("duration_ms", 0LL));
                total += ms;
                std::string item = step.value("step", "");
                if (status == "REUSED")
                    item += " reused";
                else if (status == "NOT_STARTED")
                    item += " not started";
                else
                    item += " " + duration_text(ms) + (status == "SUCCEEDED" ? "" : " " + status);
                steps += (steps.empty() ? "" : ", ") + item;
            }
            rows.push_back({service.value("name", ""), stage.value("name", ""),
                            service.value("status", ""), duration_text(total),
                            steps.empty() ? "-" : steps});
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

ProgressOptions progress_options_for(bool json, bool follow, bool quiet, bool no_color) {
    ProgressOptions out;
    const bool tty = ::isatty(STDOUT_FILENO) == 1;
    out.mode = json               ? ProgressMode::json
               : (tty && !follow) ? ProgressMode::live
                                  : ProgressMode::lines;
    out.follow = follow;
    out.color = tty && !no_color && !std::getenv("NO_COLOR");
    out.unicode = tty && locale_is_utf8();
    out.quiet = quiet;
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
    const std::string status = report.status.empty() ? "NOT_STARTED" : report.status;
    if (m_options.mode == ProgressMode::json) {
        emit_json(step_finished_event(plan, step, report));
        return;
    }
    if (m_live) {
        m_live->step_finished(plan, step, report);
        return;
    }
    if (m_options.quiet) return;
    if (status == "REUSED") {
        std::cout << elapsed() << ' ' << step_label(plan, step) << ' ' << paint("reused", "32")
                  << " (built before for this version)\n"
                  << std::flush;
        return;
    }
    std::string line = elapsed() + ' ' + step_label(plan, step) + ' ' +
                       paint(status, status_color(status)) + " in " +
                       duration_text(report.duration);
    if (status != "SUCCEEDED") {
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
    const std::string line = elapsed() + " hook " + name + ' ' +
                             paint(report.status, status_color(report.status)) + " in " +
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

std::string Progress::summary(const DeployOutcome& outcome) const {
    const auto& record = outcome.record;
    std::string out;
    // The live view's last frame already shows every service; plain lines get a table.
    if (!m_live && !m_options.quiet) {
        const auto rows = service_rows(record);
        if (!rows.empty())
            out += "\n" + render_table({"Service", "Stage", "Status", "Time", "Steps"}, rows);
    }
    const std::string id = record.value("id", "");
    out += "Deployment " + id + ' ' + paint(outcome.status, status_color(outcome.status)) + " in " +
           duration_text(std::chrono::milliseconds(record.value("duration_ms", 0LL))) + '\n';
    // The first failure as recorded, then any other step that failed while running out.
    std::vector<nlohmann::json> failures;
    if (!record["failed_step"].is_null()) failures.push_back(record["failed_step"]);
    for (const auto& stage : array_field(record, "stages")) {
        for (const auto& service : array_field(stage, "services")) {
            for (const auto& step : array_field(service, "steps")) {
                if (!is_failure(step.value("status", ""))) continue;
                nlohmann::json failed = {{"service", service.value("name", "")},
                                         {"step", step.value("step", "")},
                                         {"status", step.value("status", "")},
                                         {"exit_code", step.value("exit_code", 0)},
                                         {"log", step.value("log", "")}};
                if (!failures.empty() &&
                    failures.front().value("service", "") == failed["service"] &&
                    failures.front().value("step", "") == failed["step"]) {
                    continue;
                }
                failures.push_back(failed);
            }
        }
    }
    for (const auto& failed : failures) {
        out += "  failed: " + failed.value("service", "") + ' ' + failed.value("step", "") + " (" +
               failed.value("status", "") + ", exit code " +
               std::to_string(failed.value("exit_code", 0)) + ")\n" +
               "  log:    " + failed.value("log", "") + '\n';
    }
    for (const auto& hook : record["hooks"]) {
        if (hook.value("status", "") != "SUCCEEDED") {
            out += "  hook " + hook.value("name", "") + ' ' + hook.value("status", "") +
                   ", log: " + hook.value("log", "") + '\n';
        }
    }
    if (!failures.empty()) {
        out += "  see:    depctl deployment logs " + id + " --service " +
               shell_word(failures.front().value("service", "")) + " --step " +
               failures.front().value("step", "") + '\n';
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
