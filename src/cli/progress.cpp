#include "progress.hpp"

#include <cinttypes>
#include <iostream>

namespace depctl::cli {
namespace {

std::string seconds_text(std::chrono::milliseconds d) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1fs", static_cast<double>(d.count()) / 1000.0);
    return buffer;
}

std::string step_label(const Plan& plan, std::size_t step) {
    const PlanStep& s = plan.steps[step];
    return plan.services[s.service].service.name + " " + std::string(to_string(s.kind));
}

const char* status_color(const std::string& status) {
    if (status == "SUCCEEDED" || status == "DEPLOYED" || status == "REUSED" || status == "STOPPED") return "32";
    if (status == "CANCELED" || status == "NOT_STARTED") return "33";
    return "31";
}

}  // namespace

Progress::Progress(ProgressOptions options) : m_options(options), m_start(std::chrono::steady_clock::now()) {}

std::string Progress::elapsed() const {
    char buffer[32];
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - m_start);
    std::snprintf(buffer, sizeof buffer, "[%7.2fs]", static_cast<double>(ms.count()) / 1000.0);
    return buffer;
}

std::string Progress::paint(const std::string& text, const char* code) const {
    if (!m_options.color) return text;
    return std::string("\033[") + code + "m" + text + "\033[0m";
}

void Progress::emit_json(nlohmann::json event) {
    event["at"] = now_iso8601();
    std::cout << event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n' << std::flush;
}

void Progress::deployment_started(const Plan& plan, const std::string& deployment_id, const std::string& version) {
    std::lock_guard lock(m_mutex);
    m_start = std::chrono::steady_clock::now();
    if (m_options.mode == ProgressMode::json) {
        emit_json({{"event", "deployment_started"}, {"deployment_id", deployment_id}, {"environment", plan.environment_name},
                   {"version", version}, {"services", plan.services.size()}});
        return;
    }
    for (const auto& ps : plan.services) {
        m_rows.push_back({plan.stages[ps.stage].name, ps.service.name, "waiting", "", m_start});
        m_name_width = std::max(m_name_width, ps.service.name.size());
    }
    if (m_options.quiet) return;
    std::cout << "Deploying environment \"" << plan.environment_name << "\" at version " << version << " ("
              << deployment_id << "): " << plan.services.size() << " services\n"
              << std::flush;
    if (m_options.mode == ProgressMode::live) redraw();
}

void Progress::step_started(const Plan& plan, std::size_t step) {
    std::lock_guard lock(m_mutex);
    const PlanStep& s = plan.steps[step];
    if (m_options.mode == ProgressMode::json) {
        emit_json({{"event", "step_started"}, {"service", plan.services[s.service].service.name},
                   {"step", to_string(s.kind)}, {"stage", plan.stages[plan.services[s.service].stage].name}});
        return;
    }
    if (m_options.quiet || s.reused) return;  // a reused build is reported once, as "reused"
    if (m_options.mode == ProgressMode::live) {
        Row& row = m_rows[s.service];
        row.step = std::string(to_string(s.kind));
        row.status = "running";
        row.since = std::chrono::steady_clock::now();
        redraw();
        return;
    }
    std::cout << elapsed() << ' ' << step_label(plan, step) << " started\n" << std::flush;
}

void Progress::step_finished(const Plan& plan, std::size_t step, const StepReport& report) {
    std::lock_guard lock(m_mutex);
    const PlanStep& s = plan.steps[step];
    const std::string status = report.status.empty() ? "NOT_STARTED" : report.status;
    if (m_options.mode == ProgressMode::json) {
        nlohmann::json event = {{"event", "step_finished"}, {"service", plan.services[s.service].service.name},
                                {"step", to_string(s.kind)}, {"status", status}, {"exit_code", report.exit_code},
                                {"duration_ms", report.duration.count()}, {"log", report.log_path}};
        if (!report.error.empty()) event["error"] = report.error;
        emit_json(event);
        return;
    }
    if (m_options.quiet) return;
    if (m_options.mode == ProgressMode::live) {
        Row& row = m_rows[s.service];
        row.step = std::string(to_string(s.kind));
        row.status = status;
        redraw();
        return;
    }
    if (status == "REUSED") {
        std::cout << elapsed() << ' ' << step_label(plan, step) << ' ' << paint("reused", "32")
                  << " (built before for this version)\n"
                  << std::flush;
        return;
    }
    std::string line = elapsed() + ' ' + step_label(plan, step) + ' ' + paint(status, status_color(status)) + " in " +
                       seconds_text(report.duration);
    if (status != "SUCCEEDED") {
        line += " (exit code " + std::to_string(report.exit_code) + ")";
        if (!report.error.empty()) line += ": " + report.error;
    }
    std::cout << line << '\n' << std::flush;
}

void Progress::hook_finished(const std::string& name, const StepReport& report) {
    std::lock_guard lock(m_mutex);
    if (m_options.mode == ProgressMode::json) {
        emit_json({{"event", "hook_finished"}, {"hook", name}, {"status", report.status},
                   {"exit_code", report.exit_code}, {"log", report.log_path}});
        return;
    }
    if (m_options.quiet) return;
    std::cout << elapsed() << " hook " << name << ' ' << paint(report.status, status_color(report.status)) << " in "
              << seconds_text(report.duration) << '\n'
              << std::flush;
    if (m_options.mode == ProgressMode::live) m_drawn_lines = 0;
}

void Progress::step_output(const Plan& plan, std::size_t step, std::string_view line) {
    std::lock_guard lock(m_mutex);
    const std::string prefix = step == k_no_step ? std::string("hook") : step_label(plan, step);
    if (m_options.mode == ProgressMode::json) {
        emit_json({{"event", "output"}, {"step", prefix}, {"line", std::string(line)}});
        return;
    }
    // Whole lines only, under the lock: output of parallel steps never interleaves.
    std::cout << paint(prefix + " | ", "2") << line << '\n' << std::flush;
    if (m_options.mode == ProgressMode::live) m_drawn_lines = 0;
}

void Progress::cancel_requested(CancelLevel level) {
    std::lock_guard lock(m_mutex);
    if (m_options.mode == ProgressMode::json) {
        emit_json({{"event", "cancel_requested"}, {"level", level == CancelLevel::immediate ? "immediate" : "graceful"}});
        return;
    }
    std::cerr << (level == CancelLevel::immediate ? "Killing running steps now...\n"
                                                  : "Cancelling: running steps get SIGTERM, SIGKILL after the grace "
                                                    "period (Ctrl-C again to kill now)...\n")
              << std::flush;
    if (m_options.mode == ProgressMode::live) m_drawn_lines = 0;
}

void Progress::redraw() {
    // Move up over the previous drawing and paint the table again, one row per service.
    std::string out;
    for (std::size_t i = 0; i < m_drawn_lines; ++i) out += "\033[1A\033[2K";
    std::string stage;
    std::size_t lines = 0;
    const auto now = std::chrono::steady_clock::now();
    for (const Row& row : m_rows) {
        if (row.stage != stage) {
            stage = row.stage;
            out += paint("== " + stage, "1") + "\n";
            ++lines;
        }
        std::string state = row.step;
        if (row.status == "running") {
            state += " " + seconds_text(std::chrono::duration_cast<std::chrono::milliseconds>(now - row.since));
        } else if (!row.status.empty()) {
            state += " " + paint(row.status, status_color(row.status));
        }
        out += "   " + row.service + std::string(m_name_width - std::min(m_name_width, row.service.size()) + 2, ' ') +
               state + "\n";
        ++lines;
    }
    m_drawn_lines = lines;
    std::cout << out << std::flush;
}

void Progress::deployment_finished(const DeployOutcome& outcome) {
    std::lock_guard lock(m_mutex);
    const auto& record = outcome.record;
    if (m_options.mode == ProgressMode::json) {
        emit_json({{"event", "deployment_finished"}, {"record", record}});
        return;
    }
    const std::string duration = seconds_text(std::chrono::milliseconds(record.value("duration_ms", 0)));
    std::cout << "Deployment " << record.value("id", "") << ' ' << paint(outcome.status, status_color(outcome.status))
              << " in " << duration << '\n';
    if (!record["failed_step"].is_null()) {
        const auto& failed = record["failed_step"];
        std::cout << "  failed: " << failed.value("service", "") << ' ' << failed.value("step", "") << " ("
                  << failed.value("status", "") << ", exit code " << failed.value("exit_code", 0) << ")\n"
                  << "  log:    " << failed.value("log", "") << '\n';
    }
    for (const auto& hook : record["hooks"]) {
        if (hook.value("status", "") != "SUCCEEDED") {
            std::cout << "  hook " << hook.value("name", "") << ' ' << hook.value("status", "") << ", log: "
                      << hook.value("log", "") << '\n';
        }
    }
    std::cout << std::flush;
}

}  // namespace depctl::cli
