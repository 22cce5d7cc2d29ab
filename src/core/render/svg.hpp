// What the SVG pictures share: escaping, numbers, the palette and the light/dark style.
#pragma once

#include <string>
#include <string_view>

namespace depctl::svg {

// Text and attribute values: &, <, >, " and ' escaped; control characters dropped.
std::string escape(std::string_view text);
// A coordinate with at most one decimal.
std::string num(double value);
// Roughly how wide `text` is at `font_px` in the sans-serif face the pictures use.
double text_width(std::string_view text, double font_px);
// `text` cut to at most `max_chars` code points with an ellipsis.
std::string shorten(std::string_view text, std::size_t max_chars);

// The <style> element: light colours by default, dark ones under prefers-color-scheme.
std::string style();
// The Okabe–Ito colour of a step status (colour-blind safe), and the fill to use: a
// pattern for statuses that must not rely on colour alone (defined by status_patterns()).
std::string status_color(std::string_view status);
std::string status_fill(std::string_view status);
std::string status_patterns();

// Tick spacing of 1, 2 or 5 times a power of ten giving about `target` ticks over `span`.
double nice_step(double span, int target);

}  // namespace depctl::svg
