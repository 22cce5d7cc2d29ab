#include "core/render/svg.hpp"

#include <cmath>
#include <cstdio>

#include "depctl/status.hpp"

namespace depctl::svg {

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                // XML 1.0 allows no control characters but tab and newline.
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
        }
    }
    return out;
}

std::string num(double value) {
    char buffer[32];
    const double rounded = std::round(value * 10.0) / 10.0;
    if (rounded == std::floor(rounded))
        std::snprintf(buffer, sizeof buffer, "%.0f", rounded);
    else
        std::snprintf(buffer, sizeof buffer, "%.1f", rounded);
    return buffer;
}

double text_width(std::string_view text, double font_px) {
    std::size_t points = 0;
    for (const char c : text)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++points;
    return static_cast<double>(points) * font_px * 0.6;
}

std::string shorten(std::string_view text, std::size_t max_chars) {
    std::size_t points = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
        if (points == max_chars - 1 && max_chars > 1) {
            // Only cut when more than one code point remains.
            std::size_t rest = 0;
            for (std::size_t k = i; k < text.size(); ++k)
                if ((static_cast<unsigned char>(text[k]) & 0xC0) != 0x80) ++rest;
            if (rest > 1) return std::string(text.substr(0, i)) + "\u2026";
            return std::string(text);
        }
        ++points;
    }
    return std::string(text);
}

std::string style() {
    return "<style>\n"
           "text{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;}\n"
           ".bg{fill:#ffffff}.fg{fill:#1b1b1f}.muted{fill:#5c5f66}.box{fill:#f4f5f7;stroke:#4a4d55}"
           "\n"
           ".cluster{fill:#eef1f5;stroke:#9aa0aa}.grid{stroke:#d5d8de}.axis{stroke:#4a4d55}\n"
           ".band{fill:#0072B2;fill-opacity:.07}.edge{stroke:#3d4047;fill:none}\n"
           ".arrow{fill:#3d4047}.crit{stroke:#000000;stroke-width:2.5}.barlabel{fill:#000000}\n"
           "@media (prefers-color-scheme: dark){\n"
           ".bg{fill:#17191e}.fg{fill:#e9eaee}.muted{fill:#a9adb6}.box{fill:#23262d;stroke:#a9adb6}"
           "\n"
           ".cluster{fill:#1d2026;stroke:#5c616c}.grid{stroke:#343842}.axis{stroke:#a9adb6}\n"
           ".band{fill:#56B4E9;fill-opacity:.10}.edge{stroke:#c4c7ce}.arrow{fill:#c4c7ce}\n"
           ".crit{stroke:#ffffff}}\n"
           "</style>\n";
}

// Colours by step status (anything else, e.g. the legend's OTHER, is grey).
std::string status_color(std::string_view status) {
    const auto step = parse_step_status(status);
    if (step == StepStatus::succeeded) return "#009E73";
    if (step == StepStatus::reused) return "#56B4E9";
    if (step == StepStatus::failed || step == StepStatus::timed_out) return "#D55E00";
    if (step == StepStatus::canceled) return "#E69F00";
    if (step == StepStatus::running) return "#F0E442";
    return "#999999";
}

std::string status_fill(std::string_view status) {
    const auto step = parse_step_status(status);
    if (step == StepStatus::failed || step == StepStatus::timed_out) return "url(#pat-failed)";
    if (step == StepStatus::canceled) return "url(#pat-canceled)";
    if (step == StepStatus::reused) return "url(#pat-reused)";
    return status_color(status);
}

std::string status_patterns() {
    // Cross-hatch for failures, stripes for cancellations, dots for reused builds: the
    // status reads without colour (and in a greyscale print).
    return "<defs>\n"
           "<pattern id=\"pat-failed\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
           "<rect width=\"6\" height=\"6\" fill=\"#D55E00\"/>"
           "<path d=\"M0,0L6,6M6,0L0,6\" stroke=\"#000\" stroke-opacity=\".45\"/></pattern>\n"
           "<pattern id=\"pat-canceled\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
           "<rect width=\"6\" height=\"6\" fill=\"#E69F00\"/>"
           "<path d=\"M0,6L6,0\" stroke=\"#000\" stroke-opacity=\".45\"/></pattern>\n"
           "<pattern id=\"pat-reused\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\">"
           "<rect width=\"5\" height=\"5\" fill=\"#56B4E9\"/>"
           "<circle cx=\"2.5\" cy=\"2.5\" r=\"1\" fill=\"#000\" fill-opacity=\".5\"/></pattern>\n"
           "<marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
           "markerHeight=\"7\" orient=\"auto\"><path class=\"arrow\" d=\"M0,0L10,5L0,10z\"/>"
           "</marker>\n"
           "</defs>\n";
}

double nice_step(double span, int target) {
    if (span <= 0 || target < 1) return 1;
    const double raw = span / target;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (const double m : {1.0, 2.0, 5.0, 10.0})
        if (raw <= m * power) return m * power;
    return 10 * power;
}

}  // namespace depctl::svg
