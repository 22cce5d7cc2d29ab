// The Gantt chart of a recorded deployment: a row per service under its stage's heading,
// a bar per step that ran (coloured and patterned by status, the step named inside when it
// fits), stage bands from each stage's first rollout step to its last step, the critical
// path outlined, a time axis in seconds, and a legend.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "core/render/svg.hpp"
#include "depctl/render.hpp"
#include "depctl/status.hpp"

namespace depctl {
namespace {

constexpr double k_row = 22;
constexpr double k_bar = 16;
constexpr double k_chart_width = 880;
constexpr double k_chart_top = 100;  // title, subtitle, legend, stage lane

std::string secs3(long long ms) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f s", static_cast<double>(ms) / 1000.0);
    return buffer;
}

std::string tick_label(double seconds, double step) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, step < 1 ? "%.1f s" : "%.0f s", seconds);
    return buffer;
}

struct TimelineLayout {
    double left = 0;   // x of time zero
    double scale = 0;  // px per ms
    long long span_ms = 0;
    double x(long long ms) const { return left + static_cast<double>(ms) * scale; }
};

std::string legend(double y) {
    std::string out;
    double x = 16;
    const std::pair<std::string_view, const char*> items[] = {
        {to_string(StepStatus::succeeded), "succeeded"},
        {to_string(StepStatus::reused), "reused build"},
        {to_string(StepStatus::failed), "failed"},
        {to_string(StepStatus::canceled), "canceled"},
        {"OTHER", "other/not started"}};
    for (const auto& [status, label] : items) {
        out += "<rect x=\"" + svg::num(x) + "\" y=\"" + svg::num(y - 10) +
               "\" width=\"18\" height=\"12\" fill=\"" + svg::status_fill(status) + "\"/>";
        out += "<text class=\"fg\" x=\"" + svg::num(x + 24) + "\" y=\"" + svg::num(y) +
               "\" font-size=\"12\">" + label + "</text>\n";
        x += 34 + svg::text_width(label, 12);
    }
    out += "<rect class=\"crit\" x=\"" + svg::num(x) + "\" y=\"" + svg::num(y - 10) +
           "\" width=\"18\" height=\"12\" fill=\"none\"/><text class=\"fg\" x=\"" +
           svg::num(x + 24) + "\" y=\"" + svg::num(y) +
           "\" font-size=\"12\">critical path</text>\n";
    return out;
}

std::string axis(const TimelineLayout& l, double top, double bottom) {
    std::string out;
    const double seconds = static_cast<double>(l.span_ms) / 1000.0;
    const double step = svg::nice_step(seconds, 8);
    for (double s = 0; s <= seconds + 1e-9; s += step) {
        const double x = l.x(static_cast<long long>(s * 1000.0 + 0.5));
        out += "<line class=\"grid\" x1=\"" + svg::num(x) + "\" y1=\"" + svg::num(top) +
               "\" x2=\"" + svg::num(x) + "\" y2=\"" + svg::num(bottom) + "\"/>";
        out += "<text class=\"muted tick\" x=\"" + svg::num(x) + "\" y=\"" + svg::num(bottom + 16) +
               "\" font-size=\"11\" text-anchor=\"middle\">" + tick_label(s, step) + "</text>\n";
    }
    out += "<line class=\"axis\" x1=\"" + svg::num(l.left) + "\" y1=\"" + svg::num(bottom) +
           "\" x2=\"" + svg::num(l.x(l.span_ms)) + "\" y2=\"" + svg::num(bottom) + "\"/>\n";
    out += "<text class=\"fg\" x=\"" + svg::num(l.left + k_chart_width / 2) + "\" y=\"" +
           svg::num(bottom + 34) +
           "\" font-size=\"12\" text-anchor=\"middle\">time since the deployment started "
           "(seconds)</text>\n";
    return out;
}

std::string bar(const TimelineLayout& l, double y, const std::string& service,
                const TimelineStep& step, const std::string& started_at, bool critical) {
    const double x = l.x(step.start_ms);
    const double w = std::max(3.0, static_cast<double>(step.duration_ms) * l.scale);
    std::string title = service + " / " + step.step + ": " + step.status + "\nstart +" +
                        secs3(step.start_ms) + ", end +" + secs3(step.end_ms()) + ", took " +
                        secs3(step.duration_ms);
    if (!started_at.empty()) title += "\n(deployment started " + started_at + ")";
    if (critical) title += "\non the critical path";
    std::string out = "<rect class=\"bar" + std::string(critical ? " crit" : "") + "\" x=\"" +
                      svg::num(x) + "\" y=\"" + svg::num(y + (k_row - k_bar) / 2) + "\" width=\"" +
                      svg::num(w) + "\" height=\"" + svg::num(k_bar) + "\" fill=\"" +
                      svg::status_fill(step.status) + "\" data-service=\"" + svg::escape(service) +
                      "\" data-step=\"" + svg::escape(step.step) + "\" data-status=\"" +
                      svg::escape(step.status) + "\"><title>" + svg::escape(title) +
                      "</title></rect>";
    if (svg::text_width(step.step, 10) + 6 <= w) {
        out += "<text class=\"barlabel\" x=\"" + svg::num(x + 3) + "\" y=\"" +
               svg::num(y + k_row / 2 + 3.5) + "\" font-size=\"10\" pointer-events=\"none\">" +
               svg::escape(step.step) + "</text>";
    }
    return out + "\n";
}

// The time scale: labels as wide as the longest name, the chart as long as the last step.
TimelineLayout layout_of(const DeploymentTimeline& t) {
    double label_width = svg::text_width("hooks", 12);
    long long end_ms = std::max<long long>(t.duration_ms, 1);
    for (const auto& s : t.services) {
        label_width = std::max(label_width, svg::text_width(svg::shorten(s.name, 32), 12));
        for (const auto& step : s.steps)
            if (step.ran()) end_ms = std::max(end_ms, step.end_ms());
    }
    for (const auto& [name, step] : t.hooks)
        if (step.ran()) end_ms = std::max(end_ms, step.end_ms());
    for (const auto& st : t.stages)
        label_width = std::max(label_width, svg::text_width(svg::shorten(st.name, 32), 11) + 8);
    return TimelineLayout{24 + label_width + 12, k_chart_width / static_cast<double>(end_ms),
                          end_ms};
}

// The document's head: size, title, styles, the heading lines and the legend.
std::string head(const DeploymentTimeline& t, double width, double height) {
    std::string out =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
        "width=\"" +
        svg::num(width) + "\" height=\"" + svg::num(height) + "\" viewBox=\"0 0 " +
        svg::num(width) + " " + svg::num(height) + "\" role=\"img\">\n";
    const std::string heading = "Deployment " + t.id + " of \"" + t.environment +
                                "\": " + t.status + " in " + secs3(t.duration_ms);
    out += "<title>" + svg::escape(heading) + "</title>\n" + svg::style() + svg::status_patterns();
    out += "<rect class=\"bg\" width=\"100%\" height=\"100%\"/>\n";
    out += "<text class=\"fg\" x=\"16\" y=\"24\" font-size=\"16\" font-weight=\"bold\">" +
           svg::escape(heading) + "</text>\n";
    out += "<text class=\"muted\" x=\"16\" y=\"43\" font-size=\"12\">" +
           svg::escape("version " + t.version + " \u00b7 started " + t.started_at + " \u00b7 " +
                       std::to_string(t.parallelism) + " workers \u00b7 bars: steps, " +
                       "bands: stages, hover a bar for its exact times") +
           "</text>\n";
    return out + legend(66);
}

// Stage bands behind everything: from the stage's first rollout step to its last step.
std::string stage_bands(const DeploymentTimeline& t, const TimelineLayout& l, double chart_top,
                        double chart_bottom) {
    std::string out;
    for (std::size_t k = 0; k < t.stages.size(); ++k) {
        long long from = -1, to = -1;
        for (std::size_t s : t.stages[k].services)
            for (const auto& step : t.services[s].steps) {
                if (!step.ran()) continue;
                if (step.step != "build" && (from < 0 || step.start_ms < from))
                    from = step.start_ms;
                to = std::max(to, step.end_ms());
            }
        if (from < 0) continue;
        out += "<rect class=\"band\" x=\"" + svg::num(l.x(from)) + "\" y=\"" +
               svg::num(chart_top - 24) + "\" width=\"" +
               svg::num(std::max(1.0, l.x(to) - l.x(from))) + "\" height=\"" +
               svg::num(chart_bottom - chart_top + 24) + "\"><title>" +
               svg::escape("stage " + std::to_string(t.stages[k].position) + " \"" +
                           t.stages[k].name + "\": +" + secs3(from) + " to +" + secs3(to)) +
               "</title></rect>";
        out += "<text class=\"muted\" x=\"" + svg::num(l.x(from) + 3) + "\" y=\"" +
               svg::num(chart_top - (k % 2 ? 3 : 14)) + "\" font-size=\"10\">" +
               std::to_string(t.stages[k].position) + "</text>\n";
    }
    return out;
}

// The rows from y down: hooks first, then per stage a heading and a row per service.
std::string rows_svg(const DeploymentTimeline& t, const TimelineLayout& l, const Explanation& e,
                     double y) {
    std::set<std::pair<std::size_t, std::size_t>> critical;
    for (const auto& link : e.critical_path) critical.insert({link.ref.service, link.ref.step});
    std::string out;
    if (!t.hooks.empty()) {
        out += "<text class=\"muted\" x=\"" + svg::num(l.left - 10) + "\" y=\"" + svg::num(y + 15) +
               "\" font-size=\"12\" text-anchor=\"end\">hooks</text>\n";
        for (const auto& [name, step] : t.hooks)
            if (step.ran()) out += bar(l, y, "hooks", step, t.started_at, false);
        y += k_row;
    }
    for (const auto& st : t.stages) {
        if (st.services.empty()) continue;
        out += "<text class=\"muted\" x=\"16\" y=\"" + svg::num(y + 15) +
               "\" font-size=\"11\" font-style=\"italic\">" +
               svg::escape(std::to_string(st.position) + " " + svg::shorten(st.name, 32)) +
               "</text>\n";
        y += k_row;
        for (std::size_t s : st.services) {
            const TimelineService& svc = t.services[s];
            out += "<text class=\"fg\" x=\"" + svg::num(l.left - 10) + "\" y=\"" +
                   svg::num(y + 15) + "\" font-size=\"12\" text-anchor=\"end\">" +
                   svg::escape(svg::shorten(svc.name, 32)) + "</text>\n";
            for (std::size_t j = 0; j < svc.steps.size(); ++j)
                if (svc.steps[j].ran())
                    out += bar(l, y, svc.name, svc.steps[j], t.started_at, critical.count({s, j}));
            y += k_row;
        }
    }
    return out;
}

}  // namespace

std::string timeline_svg(const DeploymentTimeline& t, const Explanation& e) {
    const TimelineLayout l = layout_of(t);
    // Rows: a heading per stage that has services, then its services; hooks first.
    std::size_t rows = t.hooks.empty() ? 0 : 1;
    for (const auto& st : t.stages) rows += st.services.empty() ? 0 : st.services.size() + 1;
    const double chart_top = k_chart_top;
    const double chart_bottom = chart_top + static_cast<double>(rows) * k_row + 6;
    const double width = l.left + k_chart_width + 24;
    const double height = chart_bottom + 48;

    std::string out;
    out.reserve(512 + rows * 420);
    out += head(t, width, height);
    out += stage_bands(t, l, chart_top, chart_bottom);
    out += axis(l, chart_top - 12, chart_bottom);
    out += rows_svg(t, l, e, chart_top);
    return out + "</svg>\n";
}

}  // namespace depctl
