// Names of environments, stages and services (DESIGN §3) and "did you mean" suggestions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace depctl {

inline constexpr std::size_t k_max_name_length = 100;

// Trims and checks a user-given name; throws Error{Refused} naming the problem.
// `what` is the kind of object, e.g. "stage", used in the message.
std::string checked_name(std::string_view raw, std::string_view what);

// Returns an empty string when the name is fine, else why it is not.
std::string name_problem(std::string_view name);

// True when `text` is well-formed UTF-8 (no stray, overlong or surrogate sequences). The
// state is JSON, which holds UTF-8 only, so every text depctl stores must pass this.
bool is_valid_utf8(std::string_view text);

// C0 controls, DEL and the C1 controls U+0080-U+009F (UTF-8: C2 80 - C2 9F), refused in
// names, descriptions and versions alike (DESIGN §3).
bool has_control_character(std::string_view text);

// Length in characters (UTF-8 code points), as names are limited in characters.
std::size_t display_length(std::string_view text);

// Letter case is folded for ASCII letters only (documented in docs/decisions.md).
bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view text);
std::string trim(std::string_view text);

// Close matches of `wanted` among `candidates`, best first (edit distance, prefix, substring).
std::vector<std::string> close_matches(std::string_view wanted,
                                       const std::vector<std::string>& candidates);

// "did you mean \"A\" or \"B\"?" / known names list, or empty.
std::string suggestion_hint(std::string_view wanted, const std::vector<std::string>& candidates);

// Renders a name for messages: quoted, control characters (and every byte above 0x7f of a
// name that is not valid UTF-8) escaped, long names shortened.
std::string show_name(std::string_view name);

}  // namespace depctl
