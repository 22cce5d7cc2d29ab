// The pipeline graph drawn by depctl itself, a layered layout: stages as columns left to
// right (the order they run in), services as boxes in rows on one grid, so the gaps
// between columns and between rows are free of boxes. Edges run in those gaps: out of the
// dependency's right side into the channel after its stage, along the gutter below the
// target's row when they skip stages, and into the dependent's left side. Dependencies
// within one stage run in the stage's left margin. Inside a stage, services are ordered by
// the mean row of their dependencies (one barycentre pass), which removes most crossings.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/render/svg.hpp"
#include "depctl/render.hpp"

namespace depctl {
namespace {

constexpr double k_box_h = 44;
constexpr double k_pitch = 60;    // row to row
constexpr double k_pad = 14;      // cluster padding around boxes
constexpr double k_channel = 76;  // between two clusters
constexpr double k_header = 30;   // cluster title
constexpr double k_top = 84;
constexpr int k_lanes = 8;

struct Layout {
    std::vector<double> col_x;                  // left of the boxes of each stage
    std::vector<double> col_w;                  // box width of each stage
    std::vector<std::vector<std::size_t>> row;  // [stage][service] -> row
    std::size_t rows = 0;
    double box_y(std::size_t r) const {
        return k_top + k_header + static_cast<double>(r) * k_pitch;
    }
};

std::string second_line(const GraphService& s) {
    std::string steps;
    for (const auto& step : s.steps) steps += (steps.empty() ? "" : " \u2192 ") + step;
    return s.type + " \u00b7 " + (steps.empty() ? "nothing to run" : steps);
}

Layout layout(const PipelineGraph& g) {
    Layout l;
    l.row.resize(g.stages.size());
    std::vector<std::vector<double>> dep_rows(g.stages.size());
    for (std::size_t k = 0; k < g.stages.size(); ++k)
        dep_rows[k].assign(g.stages[k].services.size(), 0);
    std::vector<std::vector<int>> dep_count = {};
    dep_count.resize(g.stages.size());
    for (std::size_t k = 0; k < g.stages.size(); ++k)
        dep_count[k].assign(g.stages[k].services.size(), 0);
    // Edges by target stage, so each stage's barycentres use the rows already placed.
    std::vector<std::vector<const GraphEdge*>> into(g.stages.size());
    for (const auto& e : g.edges)
        if (e.from.stage < e.to.stage) into[e.to.stage].push_back(&e);
    double x = 24 + k_pad;
    for (std::size_t k = 0; k < g.stages.size(); ++k) {
        const GraphStage& stage = g.stages[k];
        for (const GraphEdge* e : into[k]) {
            dep_rows[k][e->to.service] +=
                static_cast<double>(l.row[e->from.stage][e->from.service]);
            ++dep_count[k][e->to.service];
        }
        std::vector<std::size_t> order(stage.services.size());
        std::iota(order.begin(), order.end(), 0);
        std::vector<double> key(order.size());
        for (std::size_t i = 0; i < order.size(); ++i)
            key[i] = dep_count[k][i] ? dep_rows[k][i] / dep_count[k][i] : static_cast<double>(i);
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
        l.row[k].assign(order.size(), 0);
        for (std::size_t r = 0; r < order.size(); ++r) l.row[k][order[r]] = r;
        l.rows = std::max(l.rows, order.size());

        double w = svg::text_width(std::to_string(stage.position) + ". " + stage.name, 12) + 8;
        for (const auto& s : stage.services)
            w = std::max(
                {w, svg::text_width(s.name, 13) + 20, svg::text_width(second_line(s), 11) + 20});
        w = std::clamp(w, 150.0, 280.0);
        l.col_x.push_back(x);
        l.col_w.push_back(w);
        x += w + 2 * k_pad + k_channel;
    }
    l.rows = std::max<std::size_t>(l.rows, 1);
    return l;
}

// Only the conditions the graph uses: a legend for edges that cannot occur misleads.
std::string legend(const PipelineGraph& g, double y) {
    std::string out;
    out += "<rect class=\"box\" x=\"16\" y=\"" + svg::num(y - 11) +
           "\" width=\"22\" height=\"14\" rx=\"3\"/><text class=\"fg\" x=\"44\" y=\"" +
           svg::num(y) + "\" font-size=\"12\">service</text>";
    out += "<rect class=\"box\" x=\"110\" y=\"" + svg::num(y - 11) +
           "\" width=\"22\" height=\"14\" rx=\"3\" stroke-dasharray=\"4 3\" opacity=\".6\"/>"
           "<text class=\"fg\" x=\"138\" y=\"" +
           svg::num(y) + "\" font-size=\"12\">skipped</text>";
    double x = 212;
    for (const auto& [condition, dash] : {std::pair<const char*, const char*>{"healthy", ""},
                                          {"started", "6 4"},
                                          {"completed", "2 3"}}) {
        const bool used =
            std::any_of(g.edges.begin(), g.edges.end(),
                        [c = condition](const GraphEdge& e) { return e.condition == c; });
        if (!used) continue;
        out += "<path class=\"edge\" d=\"M" + svg::num(x) + "," + svg::num(y - 4) + "H" +
               svg::num(x + 30) + "\"" +
               (*dash ? std::string(" stroke-dasharray=\"") + dash + "\"" : std::string()) +
               " marker-end=\"url(#arrow)\"/><text class=\"fg\" x=\"" + svg::num(x + 38) +
               "\" y=\"" + svg::num(y) + "\" font-size=\"12\">waits until " + condition + "</text>";
        x += 172;
    }
    return out + "\n";
}

std::string dash_of(const std::string& condition) {
    if (condition == "started") return " stroke-dasharray=\"6 4\"";
    if (condition == "completed") return " stroke-dasharray=\"2 3\"";
    return "";
}

std::string edge(const PipelineGraph& g, const Layout& l, const GraphEdge& e,
                 std::vector<int>& lane_use) {
    const std::size_t a = e.from.stage, b = e.to.stage;
    const double y1 = l.box_y(l.row[a][e.from.service]) + k_box_h / 2;
    const std::size_t target_row = l.row[b][e.to.service];
    const double y2 = l.box_y(target_row) + k_box_h / 2;
    const auto lane = [&](std::size_t stage) {  // a vertical lane in the channel after `stage`
        const int k = lane_use[stage]++ % k_lanes;
        return l.col_x[stage] + l.col_w[stage] + k_pad + 10 +
               k * ((k_channel - 20) / (k_lanes - 1));
    };
    std::string d;
    if (a == b) {
        const double x = l.col_x[a];
        d = "M" + svg::num(x) + "," + svg::num(y1 + 8) + "H" + svg::num(x - 8) + "V" +
            svg::num(y2 - 8) + "H" + svg::num(x);
    } else {
        const double x1 = l.col_x[a] + l.col_w[a];
        const double la = lane(a);
        d = "M" + svg::num(x1) + "," + svg::num(y1) + "H" + svg::num(la);
        if (b > a + 1) {
            const double gutter = l.box_y(target_row) + k_box_h + (k_pitch - k_box_h) / 2;
            d += "V" + svg::num(gutter) + "H" + svg::num(lane(b - 1));
        }
        d += "V" + svg::num(y2) + "H" + svg::num(l.col_x[b]);
    }
    const std::string& from = g.stages[a].services[e.from.service].name;
    const std::string& to = g.stages[b].services[e.to.service].name;
    return "<path class=\"edge\" d=\"" + d + "\"" + dash_of(e.condition) +
           " stroke-width=\"1.4\" marker-end=\"url(#arrow)\" data-from=\"" + svg::escape(from) +
           "\" data-to=\"" + svg::escape(to) + "\"><title>" +
           svg::escape(to + " waits until " + from + " is " + e.condition) + "</title></path>\n";
}

std::string service_box(const GraphService& s, double x, double y, double w) {
    const auto chars = static_cast<std::size_t>((w - 20) / (11 * 0.6));
    std::string out =
        "<g class=\"service\"" + std::string(s.skipped ? " opacity=\".6\"" : "") + "><title>" +
        svg::escape(s.name + " (" + s.type + "): " + second_line(s) +
                    (s.skipped ? ", skipped" : "")) +
        "</title><rect class=\"box node\" x=\"" + svg::num(x) + "\" y=\"" + svg::num(y) +
        "\" width=\"" + svg::num(w) + "\" height=\"" + svg::num(k_box_h) + "\" rx=\"6\"" +
        (s.skipped ? " stroke-dasharray=\"4 3\"" : "") + "/>";
    out += "<text class=\"fg\" x=\"" + svg::num(x + 10) + "\" y=\"" + svg::num(y + 18) +
           "\" font-size=\"13\" font-weight=\"bold\">" +
           svg::escape(svg::shorten(s.name, static_cast<std::size_t>((w - 20) / (13 * 0.62)))) +
           "</text>";
    out += "<text class=\"muted\" x=\"" + svg::num(x + 10) + "\" y=\"" + svg::num(y + 35) +
           "\" font-size=\"11\">" +
           svg::escape(svg::shorten(second_line(s) + (s.skipped ? " (skipped)" : ""), chars)) +
           "</text></g>\n";
    return out;
}

}  // namespace

std::string graph_svg(const PipelineGraph& g) {
    const Layout l = layout(g);
    const double cluster_h = k_header + static_cast<double>(l.rows) * k_pitch + k_pad / 2;
    const double width =
        g.stages.empty() ? 640 : std::max(640.0, l.col_x.back() + l.col_w.back() + k_pad + 24);
    const double height = k_top + cluster_h + 24;
    std::string out;
    out.reserve(2048 + g.edges.size() * 300 + l.rows * g.stages.size() * 500);
    out +=
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
        "width=\"" +
        svg::num(width) + "\" height=\"" + svg::num(height) + "\" viewBox=\"0 0 " +
        svg::num(width) + " " + svg::num(height) + "\" role=\"img\">\n";
    const std::string heading = "Pipeline of environment \"" + g.environment + "\"";
    out += "<title>" + svg::escape(heading) + "</title>\n" + svg::style() + svg::status_patterns();
    out += "<rect class=\"bg\" width=\"100%\" height=\"100%\"/>\n";
    out += "<text class=\"fg\" x=\"16\" y=\"26\" font-size=\"16\" font-weight=\"bold\">" +
           svg::escape(heading) + "</text>\n";
    out +=
        "<text class=\"muted\" x=\"16\" y=\"45\" font-size=\"12\">stages run left to right, "
        "each after the one before; the services of a stage run in parallel</text>\n";
    out += legend(g, 68);
    for (std::size_t k = 0; k < g.stages.size(); ++k) {
        const GraphStage& stage = g.stages[k];
        const double cx = l.col_x[k] - k_pad;
        out += "<g class=\"stage\"><rect class=\"cluster\" x=\"" + svg::num(cx) + "\" y=\"" +
               svg::num(k_top) + "\" width=\"" + svg::num(l.col_w[k] + 2 * k_pad) + "\" height=\"" +
               svg::num(cluster_h) + "\" rx=\"8\"/><text class=\"fg\" x=\"" + svg::num(cx + 10) +
               "\" y=\"" + svg::num(k_top + 19) + "\" font-size=\"12\" font-weight=\"bold\">" +
               svg::escape(svg::shorten(std::to_string(stage.position) + ". " + stage.name,
                                        static_cast<std::size_t>(l.col_w[k] / 7.2))) +
               "</text></g>\n";
        if (stage.services.empty())
            out += "<text class=\"muted\" x=\"" + svg::num(l.col_x[k]) + "\" y=\"" +
                   svg::num(l.box_y(0) + 20) + "\" font-size=\"12\">(no service)</text>\n";
        if (k + 1 < g.stages.size()) {
            const double x1 = l.col_x[k] + l.col_w[k] + k_pad, x2 = l.col_x[k + 1] - k_pad;
            out += "<path class=\"edge\" d=\"M" + svg::num(x1 + 6) + "," + svg::num(k_top + 15) +
                   "H" + svg::num(x2 - 4) +
                   "\" stroke-width=\"2\" marker-end=\"url(#arrow)\">"
                   "<title>stage " +
                   std::to_string(stage.position + 1) +
                   " starts when every service of the stages before it is done</title></path>\n";
        }
    }
    std::vector<int> lane_use(g.stages.size(), 0);
    for (const auto& e : g.edges) out += edge(g, l, e, lane_use);
    for (std::size_t k = 0; k < g.stages.size(); ++k)
        for (std::size_t i = 0; i < g.stages[k].services.size(); ++i)
            out +=
                service_box(g.stages[k].services[i], l.col_x[k], l.box_y(l.row[k][i]), l.col_w[k]);
    return out + "</svg>\n";
}

}  // namespace depctl
