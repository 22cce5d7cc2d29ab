// A small client of etcd's v3 JSON gateway (etcd 3.4: POST /v3/kv/range, /v3/kv/txn, ...)
// over the project's one libcurl wrapper. Keys and values travel base64-encoded, int64
// fields come back as strings, and fields that are zero, false or empty are left out.
// Not thread-safe: one client per thread. Which endpoint answered last is shared by every
// client of the process with the same endpoint list (the keep-alive thread's, the lock
// release's), so a hung member costs one timeout per process, not one per client.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "depctl/etcd_config.hpp"
#include "util/http.hpp"
#include "util/http_plain.hpp"

namespace depctl {

std::string base64_encode(std::string_view bytes);
// Throws Error{Store} on invalid input.
std::string base64_decode(std::string_view text);
// The smallest key after every key that starts with `prefix` (etcd's range_end for a prefix).
std::string prefix_range_end(const std::string& prefix);

struct KeyValue {
    std::string key;
    std::string value;
    std::int64_t create_revision = 0;
    std::int64_t mod_revision = 0;
    std::int64_t lease = 0;
};

// A comparison of a txn: the key's create or mod revision equals `revision` (0 = absent).
struct Compare {
    enum class Target { create, mod };
    std::string key;
    Target target = Target::mod;
    std::int64_t revision = 0;
};

// One operation of a txn branch.
struct TxnOp {
    enum class Kind { put, remove, range };
    Kind kind = Kind::put;
    std::string key;
    std::string value;       // put
    std::string range_end;   // remove/range: empty = just `key`
    std::int64_t lease = 0;  // put
};

struct RangeOptions {
    std::string range_end;  // empty = just the key
    std::int64_t limit = 0;
    bool descending = false;  // by key
    bool keys_only = false;
};

struct RangeResult {
    std::vector<KeyValue> kvs;
    bool more = false;
    std::int64_t revision = 0;
};

struct TxnResult {
    bool succeeded = false;
    // The request was sent again to another member after one failed without an answer: the
    // first may have been applied, so a failed compare may be this very txn (ambiguous).
    bool resent = false;
    std::vector<RangeResult> ranges;  // results of the range ops of the branch taken, in order
};

class EtcdClient {
public:
    explicit EtcdClient(EtcdConfig config);

    RangeResult range(const std::string& key, const RangeOptions& options = {});
    std::optional<KeyValue> get(const std::string& key);
    void put(const std::string& key, const std::string& value, std::int64_t lease = 0);
    TxnResult txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                  const std::vector<TxnOp>& failure = {});

    // Returns the lease id.
    std::int64_t lease_grant(int ttl_s);
    // Returns the remaining TTL, 0 when the lease is gone.
    std::int64_t lease_keepalive(std::int64_t id);
    // A lease that no longer exists is not an error.
    void lease_revoke(std::int64_t id);

    const EtcdConfig& config() const { return m_config; }

private:
    // POSTs `body` to `path` on the first endpoint that answers, starting with the last
    // one that did in this process. Throws Error{Store} naming the endpoints when none
    // answers, or with etcd's message when etcd refuses the request. Logs in again once
    // when etcd refuses the token (an expired simple token).
    nlohmann::json call(const std::string& path, const nlohmann::json& body);
    // One round over the endpoints. nullopt when etcd refused our token and
    // token_may_expire; otherwise a refusal throws etcd's message.
    std::optional<nlohmann::json> post(const std::string& path, const std::string& payload,
                                       bool token_may_expire);
    HttpRequest request_to(const std::string& endpoint, const std::string& path,
                           const std::string& payload) const;
    [[noreturn]] void throw_unreachable(const std::vector<std::string>& failures) const;
    void authenticate();

    // The request over m_plain when it can go that way (http://, an IP literal), else over
    // libcurl, loaded only then.
    HttpResponse perform(const HttpRequest& request);

    EtcdConfig m_config;
    PlainHttpClient m_plain;
    std::unique_ptr<HttpClient> m_http;     // created on first use: it loads libcurl
    std::atomic<std::size_t>& m_preferred;  // index of the endpoint that answered last
    bool m_resent = false;                  // the last post() needed more than one member
    std::string m_token;                    // with DEPCTL_ETCD_USER
};

}  // namespace depctl
