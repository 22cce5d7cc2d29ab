// Parsing `etcd://HOST:PORT[,HOST:PORT...]/PREFIX` and the DEPCTL_ETCD_* variables.
#include "depctl/etcd_config.hpp"

#include <cstdio>
#include <cstdlib>

#include "depctl/error.hpp"
#include "depctl/names.hpp"

namespace depctl {
namespace {

constexpr const char* k_url_hint =
    "write it as etcd://HOST:PORT[,HOST:PORT...]/PREFIX, e.g. etcd://127.0.0.1:2379/shop";

std::string env_or_empty(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

double env_seconds(const char* name, double fallback, double min, double max) {
    const std::string text = env_or_empty(name);
    if (text.empty()) return fallback;
    try {
        std::size_t used = 0;
        const double value = std::stod(text, &used);
        if (used == text.size() && value >= min && value <= max) return value;
    } catch (const std::exception&) {
    }
    char range[64];
    std::snprintf(range, sizeof range, "%g to %g", min, max);
    throw Error(ErrorKind::Refused,
                std::string(name) + "=" + show_name(text) + " is not a number of seconds",
                std::string("allowed: ") + range);
}

std::string check_endpoint(std::string endpoint, const std::string& location) {
    endpoint = trim(endpoint);
    if (endpoint.empty())
        throw Error(ErrorKind::Refused, "empty endpoint in " + show_name(location), k_url_hint);
    if (endpoint.find_first_of("@/?# \t\r\n") != std::string::npos) {
        throw Error(
            ErrorKind::Refused, "invalid etcd endpoint " + show_name(endpoint),
            endpoint.find('@') != std::string::npos
                ? "credentials go in DEPCTL_ETCD_USER and DEPCTL_ETCD_PASSWORD, not in the URL"
                : k_url_hint);
    }
    // No port: etcd's client port. "[::1]" is an IPv6 address without a port.
    const auto bracket = endpoint.rfind(']');
    const auto colon = endpoint.rfind(':');
    if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket))
        endpoint += ":2379";
    return endpoint;
}

}  // namespace

bool is_etcd_location(const std::string& location) {
    return location.rfind("etcd://", 0) == 0 || location.rfind("etcds://", 0) == 0;
}

std::string EtcdConfig::url() const {
    std::string out = tls ? "etcds://" : "etcd://";
    for (std::size_t i = 0; i < endpoints.size(); ++i) out += (i ? "," : "") + endpoints[i];
    return out + prefix;
}

EtcdConfig parse_etcd_location(const std::string& location) {
    EtcdConfig config;
    config.tls = location.rfind("etcds://", 0) == 0;
    const std::string rest = location.substr(location.find("://") + 3);
    const auto slash = rest.find('/');
    std::string path = slash == std::string::npos ? "" : rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.pop_back();
    while (path.size() > 1 && path[1] == '/') path.erase(0, 1);
    if (path.empty()) {
        throw Error(ErrorKind::Refused,
                    "the etcd URL " + show_name(location) + " has no key prefix",
                    "every project needs its own prefix: " + std::string(k_url_hint));
    }
    for (const char c : path) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            throw Error(ErrorKind::Refused, "the etcd key prefix of " + show_name(location) +
                                                " has a control character");
        }
    }
    config.prefix = path;
    const std::string hosts = rest.substr(0, slash);
    std::size_t start = 0;
    while (true) {
        const auto comma = hosts.find(',', start);
        config.endpoints.push_back(check_endpoint(hosts.substr(start, comma - start), location));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }

    config.ca_file = env_or_empty("DEPCTL_ETCD_CACERT");
    config.cert_file = env_or_empty("DEPCTL_ETCD_CERT");
    config.key_file = env_or_empty("DEPCTL_ETCD_KEY");
    if (!config.ca_file.empty() || !config.cert_file.empty() || !config.key_file.empty())
        config.tls = true;
    config.user = env_or_empty("DEPCTL_ETCD_USER");
    config.password = env_or_empty("DEPCTL_ETCD_PASSWORD");
    config.request_timeout_s =
        env_seconds("DEPCTL_ETCD_TIMEOUT", config.request_timeout_s, 0.1, 600);
    config.lease_ttl_s =
        static_cast<int>(env_seconds("DEPCTL_ETCD_LEASE_TTL", config.lease_ttl_s, 1, 3600));
    return config;
}

}  // namespace depctl
