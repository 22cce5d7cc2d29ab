// Where etcd is and how to talk to it: `etcd://HOST:PORT[,HOST:PORT...]/PREFIX` and the
// DEPCTL_ETCD_* variables (DESIGN §7). Its own header so that the etcd client needs only
// this, not the store built on the client (an include cycle otherwise).
#pragma once

#include <string>
#include <vector>

namespace depctl {

// Where etcd is and how to talk to it: the URL plus the DEPCTL_ETCD_* environment.
struct EtcdConfig {
    std::vector<std::string> endpoints;        // "host:port", tried in order
    bool tls = false;                          // etcds://
    std::string prefix;                        // "/team/shop": no trailing slash
    std::string ca_file, cert_file, key_file;  // DEPCTL_ETCD_CACERT / _CERT / _KEY
    std::string user, password;                // DEPCTL_ETCD_USER / _PASSWORD
    double connect_timeout_s = 2;
    double request_timeout_s = 5;  // DEPCTL_ETCD_TIMEOUT
    int lease_ttl_s = 10;          // DEPCTL_ETCD_LEASE_TTL

    std::string url() const;  // etcd://h:p,h:p/prefix
};

bool is_etcd_location(const std::string& location);
// Parses the URL and reads the DEPCTL_ETCD_* variables; Error{Refused} on a bad URL.
EtcdConfig parse_etcd_location(const std::string& location);

}  // namespace depctl
