#include "depctl/secrets.hpp"

#include <algorithm>
#include <cstdlib>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "util/files.hpp"

namespace depctl {

std::vector<std::pair<std::string, std::string>> resolve_secrets(const Service& service) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& secret : service.secrets) {
        const std::string& source = secret.source;
        if (source.rfind("env:", 0) == 0) {
            const std::string variable = source.substr(4);
            const char* value = std::getenv(variable.c_str());
            if (!value) {
                throw Error(ErrorKind::Refused,
                            "secret " + secret.key + " of service " + show_name(service.name) +
                                ": environment variable " + variable + " is not set",
                            "export " + variable + " before deploying; nothing was run");
            }
            out.emplace_back(secret.key, value);
        } else {
            const std::string path = source.substr(5);
            std::optional<std::string> value;
            std::string why = "it does not exist";
            try {
                // A regular file of at most the size of one environment variable (the
                // kernel's limit); a link is fine (Kubernetes mounts secrets as links), a
                // FIFO or /dev/zero is refused without reading.
                value = read_file(path, k_max_secret_bytes, Links::follow);
            } catch (const util::Error& e) {
                value.reset();
                why = e.what();
            }
            if (!value) {
                throw Error(ErrorKind::Refused,
                            "secret " + secret.key + " of service " + show_name(service.name) +
                                ": cannot read file " + path + " (" + why + ")",
                            "check the path and its permissions; nothing was run");
            }
            // Files usually end with a newline that is not part of the secret.
            if (!value->empty() && value->back() == '\n') value->pop_back();
            if (!value->empty() && value->back() == '\r') value->pop_back();
            out.emplace_back(secret.key, std::move(*value));
        }
    }
    return out;
}

std::vector<std::string> mask_patterns(
    const std::vector<std::pair<std::string, std::string>>& secrets) {
    std::vector<std::string> patterns;
    for (const auto& [key, value] : secrets) {
        if (value.empty()) continue;
        patterns.push_back(value);
        if (value.find('\n') == std::string::npos) continue;
        std::size_t start = 0;
        for (std::size_t nl; start <= value.size(); start = nl + 1) {
            nl = value.find('\n', start);
            if (nl == std::string::npos) nl = value.size();
            std::string line = value.substr(start, nl - start);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty()) patterns.push_back(std::move(line));
        }
    }
    std::sort(patterns.begin(), patterns.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    patterns.erase(std::unique(patterns.begin(), patterns.end()), patterns.end());
    return patterns;
}

SecretMasker::SecretMasker(std::vector<std::string> patterns) : m_patterns(std::move(patterns)) {
    std::sort(m_patterns.begin(), m_patterns.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& p : m_patterns) m_longest = std::max(m_longest, p.size());
}

std::string SecretMasker::replace_complete(std::string_view text, std::size_t& consumed,
                                           bool final_pass) const {
    std::string out;
    std::size_t pos = 0;
    for (;;) {
        std::size_t best = std::string_view::npos;
        std::size_t best_length = 0;
        for (const auto& pattern : m_patterns) {  // longest first: ties go to the longest
            const std::size_t found = text.find(pattern, pos);
            if (found < best) {
                best = found;
                best_length = pattern.size();
            }
        }
        if (best == std::string_view::npos) break;
        out.append(text.substr(pos, best - pos));
        out.append(k_secret_mask);
        pos = best + best_length;
    }
    // Hold back a tail that could be the start of a value split across chunks.
    const std::size_t rest = text.size() - pos;
    const std::size_t keep = final_pass ? 0 : std::min(rest, m_longest - 1);
    out.append(text.substr(pos, rest - keep));
    consumed = text.size() - keep;
    return out;
}

std::string SecretMasker::feed(std::string_view chunk) {
    if (m_patterns.empty()) return std::string(chunk);
    const std::string text = m_carry + std::string(chunk);
    std::size_t consumed = 0;
    std::string out = replace_complete(text, consumed, false);
    m_carry = text.substr(consumed);
    return out;
}

std::string SecretMasker::finish() {
    if (m_patterns.empty()) return {};
    std::size_t consumed = 0;
    std::string out = replace_complete(m_carry, consumed, true);
    m_carry.clear();
    return out;
}

std::string mask_secrets(std::string_view text, const std::vector<std::string>& patterns) {
    SecretMasker masker(patterns);
    std::string out = masker.feed(text);
    return out + masker.finish();
}

}  // namespace depctl
