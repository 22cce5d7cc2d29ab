#include "depctl/rules.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "depctl/names.hpp"

namespace depctl {

bool is_variable_name(std::string_view key) {
    if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0]))) return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

std::string variable_name_problem(std::string_view key) {
    if (!is_variable_name(key)) return "is not a variable name";
    if (key.rfind("DEPCTL_", 0) == 0) return "is reserved (DEPCTL_* variables are set by depctl)";
    return {};
}

bool is_secret_source(std::string_view source) {
    if (source.rfind("env:", 0) == 0) return is_variable_name(source.substr(4));
    return source.rfind("file:", 0) == 0 && source.size() > 5 &&
           source.find('\0') == std::string_view::npos;
}

std::string health_url_problem(std::string_view url) {
    const bool scheme = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
    if (!scheme) return "is not http://HOST[:PORT]/PATH or https://...";
    const std::size_t host_start = url.find("//") + 2;
    if (url.size() <= host_start || url[host_start] == '/' || has_control_character(url) ||
        url.find_first_of(" \t\r\n") != std::string_view::npos) {
        return "is not http://HOST[:PORT]/PATH or https://...";
    }
    return {};
}

std::string health_expect_problem(std::string_view expect) {
    // "200-399" or "200": three-digit statuses, low <= high.
    const auto is_status = [](std::string_view s) {
        return s.size() == 3 &&
               std::all_of(s.begin(), s.end(),
                           [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
               s[0] >= '1' && s[0] <= '5';
    };
    const auto dash = expect.find('-');
    const std::string_view low = expect.substr(0, dash);
    const std::string_view high = dash == std::string_view::npos ? low : expect.substr(dash + 1);
    if (!is_status(low) || !is_status(high) || low > high)
        return "is not a status or range such as 200-399";
    return {};
}

std::string description_problem(std::string_view description) {
    if (description.size() > k_max_description) {
        return "is " + std::to_string(description.size()) + " characters long (at most " +
               std::to_string(k_max_description) + ")";
    }
    if (!is_valid_utf8(description)) return "is not valid UTF-8";
    if (has_control_character(description)) return "contains a control character";
    return {};
}

std::string version_problem(std::string_view version) {
    if (version.empty()) return "is empty";
    if (version.size() > k_max_version) return "is longer than 200 bytes";
    if (!is_valid_utf8(version)) return "is not valid UTF-8";
    if (has_control_character(version)) return "contains a control character";
    return {};
}

std::string command_problem(std::string_view text) {
    if (text.find('\0') != std::string_view::npos) return "contains a NUL byte";
    if (text.size() > k_max_command) return "is longer than 64 KiB";
    return {};
}

namespace {

// Messages are made only for a refusal: a valid state (every read and every write) builds
// none, where it used to build one per field checked.
template <typename What>
void require(const std::string& problem, const What& what, ErrorKind kind) {
    if (!problem.empty()) throw Error(kind, what() + " " + problem);
}

template <typename What>
void check_range(const std::optional<int>& value, int low, int high, const What& what,
                 ErrorKind kind) {
    if (value && (*value < low || *value > high))
        throw Error(kind, what() + " " + std::to_string(*value) + " is out of range");
}

template <typename What>
void check_seconds(const std::optional<double>& value, const What& what, ErrorKind kind) {
    if (value && (!std::isfinite(*value) || *value <= 0 || *value > k_max_timeout_s))
        throw Error(kind, what() + " is not a positive number of seconds (at most 7 days)");
}

}  // namespace

void validate_service(const Service& s, ErrorKind kind) {
    const auto of = [&s] { return " of service " + show_name(s.name); };
    const auto field = [&of](const char* what) { return [&of, what] { return what + of(); }; };
    const std::pair<const std::string*, const char*> texts[] = {
        {&s.workdir, "the workdir"},         {&s.build, "the build command"},
        {&s.release, "the release command"}, {&s.deploy, "the deploy command"},
        {&s.stop, "the stop command"},       {&s.health.cmd, "the health command"},
    };
    for (const auto& text : texts) require(command_problem(*text.first), field(text.second), kind);
    if (!s.health.http.empty())
        require(health_url_problem(s.health.http), field("the health URL"), kind);
    if (!s.health.expect.empty())
        require(health_expect_problem(s.health.expect), field("the expected health status"), kind);
    if (!s.health.http.empty() && !s.health.cmd.empty())
        throw Error(kind, "service " + show_name(s.name) + " has both a health URL and command");
    check_range(s.health.attempts, 1, k_max_attempts, field("health attempts"), kind);
    check_seconds(s.health.interval_s, field("the health interval"), kind);
    check_seconds(s.health.connect_timeout_s, field("the health connect timeout"), kind);
    check_seconds(s.health.timeout_s, field("the health timeout"), kind);
    check_range(s.build_timeout_s, 1, k_max_timeout_s, field("the build timeout"), kind);
    check_range(s.deploy_timeout_s, 1, k_max_timeout_s, field("the deploy timeout"), kind);
    check_range(s.retries, 0, k_max_retries, field("retries"), kind);
    for (const auto& entry : s.env) {
        const std::string& key = entry.first;
        require(
            variable_name_problem(key), [&] { return "variable " + show_name(key) + of(); }, kind);
        require(
            command_problem(entry.second),
            [&] { return "the value of variable " + show_name(key) + of(); }, kind);
    }
    for (const auto& secret : s.secrets) {
        require(
            variable_name_problem(secret.key),
            [&] { return "secret " + show_name(secret.key) + of(); }, kind);
        // The source is never shown: a malformed one may be the secret value itself.
        if (!is_secret_source(secret.source)) {
            throw Error(kind, "secret " + show_name(secret.key) + of() +
                                  " has an invalid source (not shown; expected env:VARIABLE or "
                                  "file:PATH)");
        }
        if (s.env.count(secret.key))
            throw Error(kind,
                        "secret " + show_name(secret.key) + of() + " is also a plain variable");
    }
    if (!s.current.version.empty())
        require(version_problem(s.current.version), field("the deployed version"), kind);
}

}  // namespace depctl
