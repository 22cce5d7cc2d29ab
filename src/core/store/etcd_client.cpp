#include "core/store/etcd_client.hpp"

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/store/endpoint_memory.hpp"
#include "depctl/error.hpp"

namespace depctl {
using nlohmann::json;

namespace {

constexpr std::string_view k_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int k_grpc_unavailable = 14;
constexpr int k_grpc_unauthenticated = 16;

// int64 fields arrive as strings ("42"), sometimes as numbers, and are absent when zero.
std::int64_t get_i64(const json& j, const char* name) {
    const auto it = j.find(name);
    if (it == j.end()) return 0;
    if (it->is_number_integer()) return it->get<std::int64_t>();
    if (it->is_string()) {
        try {
            return std::stoll(it->get<std::string>());
        } catch (const std::exception&) {
            return 0;
        }
    }
    return 0;
}

json object_at(const json& j, const char* name) {
    const auto it = j.find(name);
    return it != j.end() && it->is_object() ? *it : json::object();
}

KeyValue kv_from_json(const json& j) {
    KeyValue kv;
    kv.key = base64_decode(j.value("key", ""));
    kv.value = base64_decode(j.value("value", ""));
    kv.create_revision = get_i64(j, "create_revision");
    kv.mod_revision = get_i64(j, "mod_revision");
    kv.lease = get_i64(j, "lease");
    return kv;
}

RangeResult range_from_json(const json& j) {
    RangeResult result;
    if (const auto it = j.find("kvs"); it != j.end() && it->is_array()) {
        for (const auto& kv : *it) result.kvs.push_back(kv_from_json(kv));
    }
    result.more = j.value("more", false);
    result.revision = get_i64(object_at(j, "header"), "revision");
    return result;
}

json op_to_json(const TxnOp& op) {
    json body = {{"key", base64_encode(op.key)}};
    switch (op.kind) {
        case TxnOp::Kind::put:
            body["value"] = base64_encode(op.value);
            if (op.lease) body["lease"] = std::to_string(op.lease);
            return {{"request_put", body}};
        case TxnOp::Kind::remove:
            if (!op.range_end.empty()) body["range_end"] = base64_encode(op.range_end);
            return {{"request_delete_range", body}};
        case TxnOp::Kind::range:
            if (!op.range_end.empty()) body["range_end"] = base64_encode(op.range_end);
            return {{"request_range", body}};
    }
    return body;
}

// curl says "Failed to connect to 127.0.0.1 port 2379 after 0 ms: Couldn't connect to
// server"; the caller names the endpoint already, and errno says why.
std::string short_transport_error(const HttpResponse& response) {
    const std::string& error = response.error;
    if (error.rfind("Failed to connect to ", 0) == 0) {
        if (response.os_errno) return std::strerror(response.os_errno);
        if (const auto colon = error.rfind(": "); colon != std::string::npos)
            return error.substr(colon + 2);
    }
    return error;
}

std::string hint_for(const std::string& message) {
    if (message.find("request is too large") != std::string::npos) {
        return "one write is larger than etcd's --max-request-bytes (1.5 MiB by default); see "
               "docs/etcd.md, Limits";
    }
    if (message.find("too many operations") != std::string::npos) {
        return "a project with this many environments exceeds etcd's --max-txn-ops (128 by "
               "default); see docs/etcd.md";
    }
    if (message.find("auth") != std::string::npos ||
        message.find("permission") != std::string::npos ||
        message.find("user name") != std::string::npos) {
        return "check DEPCTL_ETCD_USER / DEPCTL_ETCD_PASSWORD and the user's role on the prefix";
    }
    return {};
}

// The process's memory of which endpoint answered last, one per endpoint list: a member
// that hangs is waited for once, then every client of the process starts past it. A new
// process starts where the previous one of the user ended (endpoint_memory.hpp).
std::atomic<std::size_t>& preferred_endpoint(const std::vector<std::string>& endpoints) {
    static std::mutex mutex;
    static std::map<std::vector<std::string>, std::unique_ptr<std::atomic<std::size_t>>> table;
    std::lock_guard<std::mutex> guard(mutex);
    auto& slot = table[endpoints];
    if (!slot) slot = std::make_unique<std::atomic<std::size_t>>(recall_endpoint(endpoints));
    return *slot;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
        out += k_alphabet[(n >> 18) & 63];
        out += k_alphabet[(n >> 12) & 63];
        out += k_alphabet[(n >> 6) & 63];
        out += k_alphabet[n & 63];
    }
    if (i < bytes.size()) {
        unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
        const bool two = i + 1 < bytes.size();
        if (two) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += k_alphabet[(n >> 18) & 63];
        out += k_alphabet[(n >> 12) & 63];
        out += two ? k_alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string base64_decode(std::string_view text) {
    static const std::array<int, 256> table = [] {
        std::array<int, 256> t{};
        t.fill(-1);
        for (std::size_t i = 0; i < k_alphabet.size(); ++i)
            t[static_cast<unsigned char>(k_alphabet[i])] = static_cast<int>(i);
        return t;
    }();
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);  // padding
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    unsigned buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const int value = table[static_cast<unsigned char>(c)];
        if (value < 0) throw Error(ErrorKind::Unreachable, "etcd sent invalid base64");
        buffer = ((buffer << 6) | static_cast<unsigned>(value)) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    return out;
}

std::string prefix_range_end(const std::string& prefix) {
    std::string end = prefix;
    while (!end.empty()) {
        if (static_cast<unsigned char>(end.back()) < 0xFF) {
            end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
            return end;
        }
        end.pop_back();
    }
    return std::string(1, '\0');  // every key
}

EtcdClient::EtcdClient(EtcdConfig config)
    : m_config(std::move(config)), m_preferred(preferred_endpoint(m_config.endpoints)) {}

HttpRequest EtcdClient::request_to(const std::string& endpoint, const std::string& path,
                                   const std::string& payload) const {
    HttpRequest request;
    request.method = "POST";
    request.url = (m_config.tls ? "https://" : "http://") + endpoint + path;
    request.body = payload;
    request.headers = {"Content-Type: application/json"};
    if (!m_token.empty()) request.headers.push_back("Authorization: " + m_token);
    request.connect_timeout_s = std::min(m_config.connect_timeout_s, m_config.request_timeout_s);
    request.timeout_s = m_config.request_timeout_s;
    request.max_body_bytes = std::size_t{512} * 1024 * 1024;
    request.ca_file = m_config.ca_file;
    request.cert_file = m_config.cert_file;
    request.key_file = m_config.key_file;
    return request;
}

json EtcdClient::call(const std::string& path, const json& body) {
    if (!m_config.user.empty() && m_token.empty() && path != "/v3/auth/authenticate")
        authenticate();
    const std::string payload = body.dump();
    if (auto doc = post(path, payload, true)) return *doc;
    // Our token was refused: a simple token expires, so log in again, once. If etcd also
    // refuses the token it has just issued, post() throws its message this time (logging
    // in again and again would never end).
    m_token.clear();
    authenticate();
    return *post(path, payload, false);
}

std::optional<json> EtcdClient::post(const std::string& path, const std::string& payload,
                                     bool token_may_expire) {
    std::vector<std::string> failures;
    const std::size_t count = m_config.endpoints.size();
    const std::size_t first = m_preferred.load();
    for (std::size_t attempt = 0; attempt < count; ++attempt) {
        m_resent = !failures.empty();
        const std::size_t index = (first + attempt) % count;
        const std::string& endpoint = m_config.endpoints[index];
        const HttpResponse response = perform(request_to(endpoint, path, payload));
        if (!response.transport_ok) {
            failures.push_back(endpoint + ": " + short_transport_error(response));
            continue;
        }
        const json doc = json::parse(response.body, nullptr, false);
        if (response.status == 200 && doc.is_object()) {
            // Stay with the endpoint that answers, in this process and the next ones.
            if (m_preferred.exchange(index) != index) remember_endpoint(m_config.endpoints, index);
            return doc;
        }
        std::string message = "HTTP " + std::to_string(response.status);
        int code = 0;
        if (doc.is_object()) {
            if (doc.contains("message") && doc["message"].is_string())
                message = doc["message"].get<std::string>();
            if (doc.contains("code") && doc["code"].is_number_integer())
                code = doc["code"].get<int>();
        }
        if (code == k_grpc_unavailable) {  // e.g. a member without a leader: another may do
            failures.push_back(endpoint + ": " + message);
            continue;
        }
        if (token_may_expire && !m_token.empty() &&
            (code == k_grpc_unauthenticated ||
             message.find("invalid auth token") != std::string::npos))
            return std::nullopt;
        throw Error(ErrorKind::Unreachable,
                    "etcd at " + endpoint + " refused a request (" + path + "): " + message,
                    hint_for(message));
    }
    throw_unreachable(failures);
}

HttpResponse EtcdClient::perform(const HttpRequest& request) {
    if (PlainHttpClient::handles(request)) return m_plain.perform(request);
    if (!m_http) m_http = std::make_unique<HttpClient>();
    return m_http->perform(request);
}

void EtcdClient::throw_unreachable(const std::vector<std::string>& failures) const {
    std::string endpoints;
    for (const auto& e : m_config.endpoints) endpoints += (endpoints.empty() ? "" : ", ") + e;
    std::string what = "etcd at " + endpoints + " is unreachable: ";
    if (failures.size() == 1) {
        what += failures.front().substr(failures.front().find(": ") + 2);
    } else {
        for (std::size_t i = 0; i < failures.size(); ++i) what += (i ? "; " : "") + failures[i];
    }
    const bool tls_problem =
        what.find("SSL") != std::string::npos || what.find("certificate") != std::string::npos;
    throw Error(
        ErrorKind::Unreachable, what,
        tls_problem
            ? "check DEPCTL_ETCD_CACERT, DEPCTL_ETCD_CERT and DEPCTL_ETCD_KEY (docs/etcd.md); "
              "nothing was changed"
            : "is etcd running there? check --state / DEPCTL_STATE (" + m_config.url() +
                  ") and DEPCTL_ETCD_TIMEOUT; nothing was changed");
}

void EtcdClient::authenticate() {
    const json reply =
        call("/v3/auth/authenticate", {{"name", m_config.user}, {"password", m_config.password}});
    m_token = reply.value("token", "");
    if (m_token.empty())
        throw Error(ErrorKind::Unreachable,
                    "etcd did not issue an auth token for user " + m_config.user);
}

RangeResult EtcdClient::range(const std::string& key, const RangeOptions& options) {
    json body = {{"key", base64_encode(key)}};
    if (!options.range_end.empty()) body["range_end"] = base64_encode(options.range_end);
    if (options.limit) body["limit"] = std::to_string(options.limit);
    if (options.descending) {
        body["sort_order"] = "DESCEND";
        body["sort_target"] = "KEY";
    }
    if (options.keys_only) body["keys_only"] = true;
    return range_from_json(call("/v3/kv/range", body));
}

std::optional<KeyValue> EtcdClient::get(const std::string& key) {
    RangeResult result = range(key);
    if (result.kvs.empty()) return std::nullopt;
    return std::move(result.kvs.front());
}

void EtcdClient::put(const std::string& key, const std::string& value, std::int64_t lease) {
    json body = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
    if (lease) body["lease"] = std::to_string(lease);
    call("/v3/kv/put", body);
}

TxnResult EtcdClient::txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                          const std::vector<TxnOp>& failure) {
    json body = json::object();
    json compare_list = json::array();
    for (const auto& c : compares) {
        const bool create = c.target == Compare::Target::create;
        compare_list.push_back(
            {{"key", base64_encode(c.key)},
             {"target", create ? "CREATE" : "MOD"},
             {"result", "EQUAL"},
             {create ? "create_revision" : "mod_revision", std::to_string(c.revision)}});
    }
    body["compare"] = compare_list;
    json success_list = json::array();
    for (const auto& op : success) success_list.push_back(op_to_json(op));
    body["success"] = success_list;
    json failure_list = json::array();
    for (const auto& op : failure) failure_list.push_back(op_to_json(op));
    body["failure"] = failure_list;

    m_resent = false;
    const json reply = call("/v3/kv/txn", body);
    TxnResult result;
    result.succeeded = reply.value("succeeded", false);
    result.resent = m_resent;
    if (const auto it = reply.find("responses"); it != reply.end() && it->is_array()) {
        for (const auto& response : *it) {
            if (response.contains("response_range"))
                result.ranges.push_back(range_from_json(response["response_range"]));
        }
    }
    return result;
}

std::int64_t EtcdClient::lease_grant(int ttl_s) {
    const json reply = call("/v3/lease/grant", {{"TTL", std::to_string(ttl_s)}});
    const std::int64_t id = get_i64(reply, "ID");
    if (!id)
        throw Error(ErrorKind::Unreachable,
                    "etcd granted no lease: " + reply.value("error", std::string("no ID")));
    return id;
}

std::int64_t EtcdClient::lease_keepalive(std::int64_t id) {
    // A streaming call on the gateway: one request, one {"result": {...}} message.
    const json reply = call("/v3/lease/keepalive", {{"ID", std::to_string(id)}});
    // A stream error (no leader, ...) says nothing about the lease: not an answer.
    if (reply.contains("error") || !reply.contains("result"))
        throw Error(ErrorKind::Unreachable, "etcd did not answer the lease renewal");
    return get_i64(object_at(reply, "result"), "TTL");  // 0: the lease expired
}

void EtcdClient::lease_revoke(std::int64_t id) {
    try {
        call("/v3/lease/revoke", {{"ID", std::to_string(id)}});
    } catch (const Error& e) {
        if (std::string(e.what()).find("lease not found") == std::string::npos) throw;
    }
}

}  // namespace depctl
