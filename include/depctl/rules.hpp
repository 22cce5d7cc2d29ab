// The rules on every stored field that the CLI checks, in one place: the CLI refuses input
// with them and the loader refuses a state that breaks them (DESIGN §3, issue #14 item 10).
// Each *_problem function returns an empty string when the value is fine, else why not.
#pragma once

#include <string>
#include <string_view>

#include "depctl/error.hpp"
#include "depctl/model.hpp"

namespace depctl {

inline constexpr int k_max_timeout_s = 7 * 24 * 3600;
inline constexpr int k_max_retries = 100;
inline constexpr int k_max_attempts = 100000;
inline constexpr std::size_t k_max_description = 1000;
inline constexpr std::size_t k_max_version = 200;
inline constexpr std::size_t k_max_command = 64 * 1024;
inline constexpr int k_max_parallelism = 1024;  // --parallelism and a stage's max_parallel

// A variable or secret key: letters, digits and _, not starting with a digit.
bool is_variable_name(std::string_view key);
std::string variable_name_problem(std::string_view key);  // also refuses DEPCTL_*

// "env:VARIABLE" or "file:PATH".
bool is_secret_source(std::string_view source);

std::string health_url_problem(std::string_view url);
std::string health_expect_problem(std::string_view expect);
std::string description_problem(std::string_view description);  // after trimming
std::string version_problem(std::string_view version);          // after trimming
std::string command_problem(std::string_view text);             // commands, workdir, values

// Every rule above applied to one stored service; throws Error{kind} naming the field.
void validate_service(const Service& service, ErrorKind kind);

}  // namespace depctl
