// Secrets: resolved at deploy time from the environment or a file, handed to steps that
// are not builds, and masked as *** in every byte depctl writes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "depctl/model.hpp"

namespace depctl {

inline constexpr std::string_view k_secret_mask = "***";
// A secret file larger than this is refused: 128 KiB is the most one environment variable
// can hold (MAX_ARG_STRLEN), and steps receive secrets as variables.
inline constexpr std::size_t k_max_secret_bytes = 128 * 1024 - 1024;

// KEY -> value for each of the service's secrets. Throws Error{Refused} naming the missing
// variable or unreadable file (never the value).
std::vector<std::pair<std::string, std::string>> resolve_secrets(const Service& service);

// The strings to mask for a set of resolved secrets: each value, and each line of a
// multi-line value.
std::vector<std::string> mask_patterns(
    const std::vector<std::pair<std::string, std::string>>& secrets);

// Replaces every occurrence of the patterns in a stream of chunks, even when a value is
// split across chunks: up to (longest pattern - 1) bytes are held back until the next
// chunk or finish().
class SecretMasker {
public:
    explicit SecretMasker(std::vector<std::string> patterns);
    std::string feed(std::string_view chunk);
    std::string finish();
    bool active() const { return !m_patterns.empty(); }

private:
    std::string replace_complete(std::string_view text, std::size_t& consumed,
                                 bool final_pass) const;
    std::vector<std::string> m_patterns;  // longest first
    std::size_t m_longest = 0;
    std::string m_carry;
};

// Masks a whole string at once.
std::string mask_secrets(std::string_view text, const std::vector<std::string>& patterns);

}  // namespace depctl
