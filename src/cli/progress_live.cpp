#include "progress_live.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "depctl/names.hpp"

namespace depctl::cli {
namespace {

constexpr auto k_tick = std::chrono::milliseconds(200);  // ~5 frames a second
constexpr std::size_t k_status_width = 16;               // the longest status, DEPLOYMENT_ERROR

const char* const k_spinner_unicode[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
const char* const k_spinner_ascii[] = {"|", "/", "-", "\\"};

struct Segment {
    std::string text;
    const char* sgr = nullptr;  // no decoration when null
};

// Clips to `width` characters (UTF-8 aware), then paints: escape codes never count
// towards the width and a clipped line never wraps, so cursor movement stays exact.
std::string render(const std::vector<Segment>& segments, std::size_t width, const Style& style) {
    std::string out;
    std::size_t used = 0;
    for (const Segment& segment : segments) {
        if (used >= width) break;
        std::string piece;
        for (std::size_t i = 0; i < segment.text.size() && used < width;) {
            std::size_t len = 1;
            const auto c = static_cast<unsigned char>(segment.text[i]);
            if (c >= 0xF0)
                len = 4;
            else if (c >= 0xE0)
                len = 3;
            else if (c >= 0xC0)
                len = 2;
            piece.append(segment.text, i, len);
            i += len;
            ++used;
        }
        out += segment.sgr ? style.paint(piece, segment.sgr) : piece;
    }
    return out;
}

std::string pad(const std::string& text, std::size_t width) {
    const std::size_t length = display_length(text);
    return length >= width ? text : text + std::string(width - length, ' ');
}

std::pair<std::size_t, std::size_t> terminal_size() {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0)
        return {ws.ws_col, ws.ws_row};
    return {80, 24};
}

std::chrono::milliseconds since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
}

}  // namespace

std::string Style::paint(const std::string& text, const char* sgr) const {
    if (!color || text.empty()) return text;
    return std::string("\033[") + sgr + "m" + text + "\033[0m";
}

const char* status_color(std::string_view status) {
    const auto step = parse_step_status(status);
    const auto deployment = parse_deployment_status(status);
    if ((step && step_succeeded(*step)) || (deployment && deployment_ok(*deployment))) return "32";
    if (step == StepStatus::canceled || step == StepStatus::not_started) return "33";
    return "31";
}

std::string steps_text(const ServiceRecord& service, std::chrono::milliseconds* busy) {
    std::string steps;
    for (const StepRecord& step : service.steps) {
        const auto ms = std::chrono::milliseconds(step.duration_ms);
        if (busy) *busy += ms;
        std::string item = step.name;
        if (step.status == StepStatus::reused)
            item += " reused";
        else if (step.status == StepStatus::not_started)
            item += " not started";
        else
            item +=
                " " + duration_text(ms) +
                (step.status == StepStatus::succeeded ? ""
                                                      : " " + std::string(to_string(step.status)));
        steps += (steps.empty() ? "" : ", ") + item;
    }
    return steps;
}

std::string duration_text(std::chrono::milliseconds d) {
    char buffer[32];
    if (d < std::chrono::minutes(1)) {
        std::snprintf(buffer, sizeof buffer, "%.1fs", static_cast<double>(d.count()) / 1000.0);
    } else {
        const long long s = d.count() / 1000;
        std::snprintf(buffer, sizeof buffer, "%lldm%02llds", s / 60, s % 60);
    }
    return buffer;
}

bool locale_is_utf8() {
    for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
        const char* value = std::getenv(name);
        if (!value || !*value) continue;  // the first one that is set decides, as in setlocale
        const std::string lower = to_lower(value);
        return lower.find("utf-8") != std::string::npos || lower.find("utf8") != std::string::npos;
    }
    return false;
}

LiveView::LiveView(Style style) : m_style(style), m_start(std::chrono::steady_clock::now()) {}

LiveView::~LiveView() {
    stop_ticker();
}

void LiveView::start(const Plan& plan) {
    {
        std::lock_guard lock(m_mutex);
        m_start = std::chrono::steady_clock::now();
        m_row_of.assign(plan.services.size(), 0);
        for (std::size_t s = 0; s < plan.stages.size(); ++s) {
            const PlannedStage& stage = plan.stages[s];
            if (stage.services.empty()) continue;  // empty stages are skipped: no section
            m_stages.push_back("# deployment stage " + std::to_string(stage.position) + ": \"" +
                               stage.name + "\"");
            for (std::size_t index : stage.services) {
                const PlannedService& ps = plan.services[index];
                Row row;
                row.name = ps.service.name;
                row.stage = m_stages.size() - 1;
                row.since = m_start;
                if (ps.last_step() == k_no_step) {
                    row.phase = Phase::done;
                    row.note = "nothing to run";
                }
                m_name_width = std::max(m_name_width, display_length(row.name));
                m_row_of[index] = m_rows.size();
                m_rows.push_back(std::move(row));
            }
        }
        m_name_width = std::min<std::size_t>(m_name_width, 40);
        draw_locked();
    }
    m_ticker = std::thread([this] { tick(); });
}

void LiveView::tick() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        m_wake.wait_for(lock, k_tick, [this] { return m_stopping; });
        if (m_stopping) break;
        ++m_frame;
        draw_locked();
    }
}

void LiveView::stop_ticker() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_ticker.joinable()) m_ticker.join();
}

void LiveView::step_started(const Plan& plan, std::size_t step) {
    const PlanStep& s = plan.steps[step];
    if (s.reused) return;  // reported once, when it finishes
    std::lock_guard lock(m_mutex);
    Row& row = m_rows[m_row_of[s.service]];
    row.phase = Phase::running;
    row.step = std::string(to_string(s.kind));
    row.since = std::chrono::steady_clock::now();
    draw_locked();
}

void LiveView::step_finished(const Plan& plan, std::size_t step, const StepReport& report) {
    std::lock_guard lock(m_mutex);
    const PlanStep& s = plan.steps[step];
    const PlannedService& ps = plan.services[s.service];
    {
        Row& row = m_rows[m_row_of[s.service]];
        row.step = std::string(to_string(s.kind));
        row.busy += report.duration;
        if (report.status == StepStatus::reused) {
            row.phase = Phase::between;
            row.note = "build reused";
        } else if (report.status != StepStatus::succeeded) {
            row.phase = Phase::failed;
            row.status = to_string(report.status.value_or(StepStatus::not_started));
            row.note = row.step +
                       (report.exit_code ? ", exit code " + std::to_string(report.exit_code) : "");
        } else if (step == ps.last_step()) {
            row.phase = Phase::done;
            row.note.clear();
        } else {
            row.phase = Phase::between;
            row.note = row.step == "build" ? "built in " + duration_text(report.duration)
                                           : row.step + " done";
        }
    }
    draw_locked();
}

void LiveView::print_above(const std::string& text, std::FILE* stream) {
    std::lock_guard lock(m_mutex);
    erase_locked();
    std::fputs(text.c_str(), stream);
    std::fflush(stream);
    draw_locked();
}

void LiveView::finish(const DeploymentRecord& record) {
    stop_ticker();
    std::lock_guard lock(m_mutex);
    for (const StageRecord& stage : record.stages) {
        for (const ServiceRecord& service : stage.services) {
            for (Row& row : m_rows) {
                if (row.name != service.name) continue;
                row.phase = Phase::ended;
                row.status = to_string(service.status);
                row.busy = std::chrono::milliseconds(0);
                const std::string steps = steps_text(service, &row.busy);
                row.note = steps.empty() ? "nothing to run" : steps;
            }
        }
    }
    m_finished = true;
    draw_locked();
}

void LiveView::erase_locked() {
    if (m_drawn_lines == 0) return;
    // Up to the first row of the previous frame, then clear to the end of the screen.
    std::string out = "\r\033[" + std::to_string(m_drawn_lines) + "A\033[J";
    std::fputs(out.c_str(), stdout);
    m_drawn_lines = 0;
}

void LiveView::draw_locked() {
    const auto [width, height] = terminal_size();
    // The last frame stays on screen and is never redrawn, so it may be taller than the screen.
    const auto lines = frame_locked(width - 1, m_finished ? static_cast<std::size_t>(-1) : height);
    std::string out;
    if (m_drawn_lines > 0) out = "\r\033[" + std::to_string(m_drawn_lines) + "A\033[J";
    for (const auto& line : lines) out += line + "\n";
    // One write per frame, so the terminal never shows half a frame.
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    m_drawn_lines = lines.size();
}

namespace {

// The mark of a row whose deployment ended: its status's colour says good, bad or neither.
Segment ended_mark(const std::string& status, bool unicode) {
    const char* c = status_color(status);
    const bool good = std::string(c) == "32";
    const bool bad = std::string(c) == "31";
    return {good ? (unicode ? "✔" : "+") : bad ? (unicode ? "✘" : "x") : "-", c};
}

}  // namespace

std::string LiveView::row_text(const Row& row, std::size_t width) const {
    const bool u = m_style.unicode;
    std::vector<Segment> segments{{"  "}};
    const auto elapsed = since(row.since);
    switch (row.phase) {
        case Phase::waiting:
            segments.push_back({u ? "·" : ".", "2"});
            break;
        case Phase::between:
            segments.push_back({u ? "◦" : "o", "2"});
            break;
        case Phase::running:
            segments.push_back(
                {u ? k_spinner_unicode[m_frame % 10] : k_spinner_ascii[m_frame % 4], "36"});
            break;
        case Phase::done:
            segments.push_back({u ? "✔" : "+", "32"});
            break;
        case Phase::failed:
            segments.push_back({u ? "✘" : "x", "31"});
            break;
        case Phase::ended:
            segments.push_back(ended_mark(row.status, u));
            break;
    }
    std::string name = row.name;
    if (display_length(name) > m_name_width)
        name = name.substr(0, m_name_width - 1) + (u ? "…" : "~");
    segments.push_back({" " + pad(name, m_name_width) + "  "});
    switch (row.phase) {
        case Phase::waiting:
            segments.push_back({"waiting", "2"});
            break;
        case Phase::between:
            segments.push_back({"waiting", "2"});
            segments.push_back({" (" + row.note + ")", "2"});
            break;
        case Phase::running:
            segments.push_back({pad(row.step, 8), "1"});
            segments.push_back({duration_text(elapsed)});
            if (row.busy.count() > 0)
                segments.push_back({"  (" + duration_text(row.busy) + " in earlier steps)", "2"});
            break;
        case Phase::done:
            segments.push_back({"done", "32"});
            segments.push_back(
                {row.note.empty() ? " in " + duration_text(row.busy) : " (" + row.note + ")"});
            break;
        case Phase::failed:
            segments.push_back({row.status, "31"});
            segments.push_back({" at " + row.note});
            break;
        case Phase::ended:
            segments.push_back({pad(row.status, k_status_width), status_color(row.status)});
            segments.push_back({" " + pad(duration_text(row.busy), 7) + "  "});
            segments.push_back({row.note, "2"});
            break;
    }
    return render(segments, width, m_style);
}

std::vector<std::string> LiveView::frame_locked(std::size_t width, std::size_t height) const {
    std::vector<std::string> lines;
    std::size_t done = 0;
    for (const Row& row : m_rows) done += row.phase == Phase::done || row.phase == Phase::ended;
    // When the rows would not fit on the screen, stages with nothing running shrink to one
    // line: the cursor can only move back up over what is still on screen.
    const std::size_t budget = height > 5 ? height - 2 : 3;
    const bool compact = m_stages.size() + m_rows.size() + 1 > budget;
    for (std::size_t s = 0; s < m_stages.size(); ++s) {
        std::vector<const Row*> rows;
        bool active = false;
        for (const Row& row : m_rows) {
            if (row.stage != s) continue;
            rows.push_back(&row);
            active = active || row.phase == Phase::running || row.phase == Phase::failed ||
                     (m_finished && row.status != to_string(ServiceStatus::deployed) &&
                      row.status != to_string(ServiceStatus::stopped));
        }
        if (compact && !active) {
            std::size_t finished = 0;
            for (const Row* row : rows)
                finished += row->phase == Phase::done || row->phase == Phase::ended;
            lines.push_back(render(
                {{m_stages[s], "1"},
                 {"  " + std::to_string(finished) + "/" + std::to_string(rows.size()) + " done",
                  "2"}},
                width, m_style));
            continue;
        }
        lines.push_back(render({{m_stages[s], "1"}}, width, m_style));
        // Short of room, the finished rows of a running stage fold into one line, so that
        // what is still running stays in view.
        std::size_t finished = 0;
        for (const Row* row : rows) finished += compact && row->phase == Phase::done;
        if (finished > 1) {
            lines.push_back(render({{"  "},
                                    {m_style.unicode ? "✔" : "+", "32"},
                                    {" " + std::to_string(finished) + " services done", "2"}},
                                   width, m_style));
        }
        for (const Row* row : rows) {
            if (finished <= 1 || row->phase != Phase::done) lines.push_back(row_text(*row, width));
        }
    }
    if (lines.size() + 1 > budget) {
        const std::size_t hidden = lines.size() + 2 - budget;
        lines.resize(budget - 2);
        lines.push_back(
            render({{"  ... " + std::to_string(hidden) + " more lines", "2"}}, width, m_style));
    }
    if (!m_finished) {
        lines.push_back(
            render({{duration_text(since(m_start)) + " elapsed, " + std::to_string(done) + " of " +
                         std::to_string(m_rows.size()) + " services done (Ctrl-C cancels)",
                     "2"}},
                   width, m_style));
    }
    return lines;
}

}  // namespace depctl::cli
