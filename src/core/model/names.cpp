#include "depctl/names.hpp"

#include <algorithm>
#include <cctype>

#include "depctl/error.hpp"
#include "util/utf8.hpp"

namespace depctl {
namespace {

bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                              std::tolower(static_cast<unsigned char>(b[j - 1]));
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

bool has_control_character(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (is_control(c)) return true;
        if (c == 0xc2 && i + 1 < text.size()) {
            const auto next = static_cast<unsigned char>(text[i + 1]);
            if (next >= 0x80 && next <= 0x9f) return true;
        }
    }
    return false;
}

std::string trim(std::string_view text) {
    const auto is_space = [](unsigned char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    };
    std::size_t begin = 0;
    std::size_t end = text.size();
    while (begin < end && is_space(static_cast<unsigned char>(text[begin]))) ++begin;
    while (end > begin && is_space(static_cast<unsigned char>(text[end - 1]))) --end;
    return std::string(text.substr(begin, end - begin));
}

// ASCII letters only, as std::tolower in the "C" locale, but inline: name lookups compare
// names in loops (1,000-service files), where a libc call per character showed in profiles.
inline char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

std::string show_name(std::string_view name) {
    constexpr std::size_t k_shown = 60;
    std::string out = "\"";
    std::size_t shown = 0;
    // A message must stay valid UTF-8 even when the name is not.
    const bool escape_high = !is_valid_utf8(name);
    for (unsigned char c : name) {
        if (shown == k_shown) {
            out += "...";
            break;
        }
        if (is_control(c) || (escape_high && c >= 0x80)) {
            static const char* k_hex = "0123456789abcdef";
            out += "\\x";
            out += k_hex[c >> 4];
            out += k_hex[c & 0xf];
        } else if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(c);
        }
        ++shown;
    }
    out += '"';
    if (shown == k_shown && name.size() > k_shown) {
        out += " (" + std::to_string(display_length(name)) + " characters)";
    }
    return out;
}

bool is_valid_utf8(std::string_view text) {
    return util::valid_utf8(text);
}

std::size_t display_length(std::string_view text) {
    // UTF-8 continuation bytes do not start a character.
    std::size_t count = 0;
    for (unsigned char c : text) count += (c & 0xC0) != 0x80;
    return count;
}

std::string name_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (!is_valid_utf8(name)) return "is not valid UTF-8";
    if (display_length(name) > k_max_name_length) {
        return "is " + std::to_string(display_length(name)) + " characters long (at most " +
               std::to_string(k_max_name_length) + ")";
    }
    if (has_control_character(name)) return "contains a control character";
    return {};
}

std::string checked_name(std::string_view raw, std::string_view what) {
    std::string name = trim(raw);
    const std::string problem = name_problem(name);
    if (!problem.empty()) {
        const std::string message = name.empty() ? "the " + std::string(what) + " name is empty"
                                                 : "invalid " + std::string(what) + " name " +
                                                       show_name(name) + ": it " + problem;
        throw Error(ErrorKind::Refused, message,
                    "names are 1-100 characters, without control characters");
    }
    return name;
}

std::vector<std::string> close_matches(std::string_view wanted,
                                       const std::vector<std::string>& candidates) {
    std::vector<std::pair<std::size_t, std::string>> scored;
    const std::string lowered = to_lower(wanted);
    for (const auto& candidate : candidates) {
        const std::string lower_candidate = to_lower(candidate);
        std::size_t score = edit_distance(wanted, candidate);
        const std::size_t allowed = std::max<std::size_t>(2, candidate.size() / 3);
        const bool contains =
            !lowered.empty() && (lower_candidate.find(lowered) != std::string::npos ||
                                 lowered.find(lower_candidate) != std::string::npos);
        if (contains) score = std::min<std::size_t>(score, 1);
        if (score <= allowed) scored.emplace_back(score, candidate);
    }
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> out;
    for (auto& [score, name] : scored) {
        if (out.size() == 3) break;
        out.push_back(std::move(name));
    }
    return out;
}

std::string suggestion_hint(std::string_view wanted, const std::vector<std::string>& candidates) {
    const auto matches = close_matches(wanted, candidates);
    if (!matches.empty()) {
        std::string hint = "did you mean ";
        for (std::size_t i = 0; i < matches.size(); ++i) {
            if (i > 0) hint += (i + 1 == matches.size()) ? " or " : ", ";
            hint += show_name(matches[i]);
        }
        return hint + "?";
    }
    if (candidates.empty()) return {};
    std::string hint = "known: ";
    constexpr std::size_t k_listed = 10;
    for (std::size_t i = 0; i < candidates.size() && i < k_listed; ++i) {
        if (i > 0) hint += ", ";
        hint += show_name(candidates[i]);
    }
    if (candidates.size() > k_listed)
        hint += ", ... (" + std::to_string(candidates.size()) + " in all)";
    return hint;
}

}  // namespace depctl
