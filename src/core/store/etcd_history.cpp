// EtcdStore's deployment history: PREFIX/history/<env-id>/<20-digit sequence>, one record
// per key, oldest first by key order. A record too large for one etcd value is written in
// pieces under PREFIX/history-parts/ first; the sequence key that points to them is
// written last, so a reader never sees half a record. Step logs stay local (log_root).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/store/endpoint_memory.hpp"
#include "core/store/etcd_client.hpp"
#include "core/store/store_ids.hpp"
#include "depctl/error.hpp"
#include "depctl/etcd_store.hpp"
#include "depctl/names.hpp"

namespace depctl {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t k_part_bytes = 1024 * 1024;  // below etcd's 1.5 MiB request limit
constexpr std::int64_t k_page = 64;                // records per range request
constexpr int k_append_attempts = 100;

std::string sequence_key(const std::string& dir, std::int64_t n) {
    char digits[32];
    std::snprintf(digits, sizeof digits, "%020lld", static_cast<long long>(n));
    return dir + digits;
}

std::int64_t sequence_of(const std::string& key, const std::string& dir) {
    try {
        return std::stoll(key.substr(dir.size()));
    } catch (const std::exception&) {
        return 0;
    }
}

// Every key under `prefix`, in key order, a page at a time.
std::vector<KeyValue> range_all(EtcdClient& client, const std::string& prefix) {
    std::vector<KeyValue> all;
    const std::string end = prefix_range_end(prefix);
    std::string from = prefix;
    while (true) {
        RangeResult page = client.range(from, {end, k_page, false, false});
        for (auto& kv : page.kvs) all.push_back(std::move(kv));
        if (!page.more || page.kvs.empty()) break;
        from = all.back().key + '\0';
    }
    return all;
}

// The record's JSON text; a record stored in parts is put together again.
std::string record_text(EtcdClient& client, const KeyValue& kv) {
    if (kv.value.rfind("{\"depctl_parts\":", 0) != 0) return kv.value;
    const json pointer = json::parse(kv.value, nullptr, false);
    if (!pointer.is_object() || !pointer.contains("parts") || !pointer["parts"].is_string())
        return kv.value;
    std::string whole;
    for (const auto& part : range_all(client, pointer["parts"].get<std::string>()))
        whole += part.value;
    return whole;
}

}  // namespace

std::string EtcdStore::history_value(const std::string& environment_id, const json& record,
                                     std::size_t inline_limit) {
    if (!path_safe_id(environment_id))
        throw Error(ErrorKind::Refused, "invalid environment id " + show_name(environment_id));
    const std::string value = record.dump();
    if (value.size() <= inline_limit) return value;
    const std::string parts = key("history-parts/" + environment_id + "/" + new_id("rec_") + "/");
    const std::size_t count = (value.size() + k_part_bytes - 1) / k_part_bytes;
    for (std::size_t i = 0; i < count; ++i) {
        m_client->put(sequence_key(parts, static_cast<std::int64_t>(i)),
                      value.substr(i * k_part_bytes, k_part_bytes));
    }
    return json{{"depctl_parts", count}, {"parts", parts}, {"id", record.value("id", "")}}.dump();
}

std::string EtcdStore::next_history_key(const std::string& dir) {
    const RangeResult last = m_client->range(dir, {prefix_range_end(dir), 1, true, true});
    return sequence_key(dir, (last.kvs.empty() ? 0 : sequence_of(last.kvs.front().key, dir)) + 1);
}

void EtcdStore::append_history(const std::string& environment_id, const json& record) {
    const std::string value = history_value(environment_id, record, k_part_bytes);
    const std::string dir = key("history/" + environment_id + "/");
    std::mt19937 random{std::random_device{}()};
    for (int attempt = 0; attempt < k_append_attempts; ++attempt) {
        const std::string next = next_history_key(dir);
        if (m_client
                ->txn({{next, Compare::Target::create, 0}},
                      {{TxnOp::Kind::put, next, value, "", 0}})
                .succeeded)
            return;
        // Another record took the number; or ours did, on a member that failed to answer.
        if (const auto kv = m_client->get(next); kv && kv->value == value) return;
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 50)(random)));
    }
    throw Error(ErrorKind::Busy, "could not append a deployment record under " + dir +
                                     " (too many concurrent writers)");
}

std::vector<json> EtcdStore::list_history(const std::string& environment_id) {
    std::vector<json> records;
    if (!path_safe_id(environment_id)) return records;
    for (const auto& kv : range_all(*m_client, key("history/" + environment_id + "/"))) {
        json record = json::parse(record_text(*m_client, kv), nullptr, false);
        if (!record.is_discarded() && record.is_object()) records.push_back(std::move(record));
    }
    return records;
}

std::vector<json> EtcdStore::query_history(const std::string& environment_id,
                                           const HistoryFilter& filter) {
    std::vector<json> records;  // newest first until the end
    if (!path_safe_id(environment_id)) return records;
    // Newest first, a page at a time, parsing only the records that contain the text.
    const std::string dir = key("history/" + environment_id + "/");
    std::string end = prefix_range_end(dir);
    while (filter.newest == 0 || records.size() < filter.newest) {
        const RangeResult page = m_client->range(dir, {end, k_page, true, false});
        for (const auto& kv : page.kvs) {
            const std::string text = record_text(*m_client, kv);
            if (!filter.containing.empty() && text.find(filter.containing) == std::string::npos)
                continue;
            json record = json::parse(text, nullptr, false);
            if (record.is_discarded() || !record.is_object()) continue;
            records.push_back(std::move(record));
            if (filter.newest && records.size() == filter.newest) break;
        }
        if (!page.more || page.kvs.empty()) break;
        end = page.kvs.back().key;  // range_end is exclusive: continue below it
    }
    std::reverse(records.begin(), records.end());
    return records;
}

// PREFIX/running/<env-id>: the record of the deployment under way.
void EtcdStore::put_running_record(const std::string& environment_id, const json& record,
                                   std::size_t /*reserve: a file-store concern*/) {
    if (!path_safe_id(environment_id))
        throw Error(ErrorKind::Refused, "invalid environment id " + show_name(environment_id));
    m_client->put(key("running/" + environment_id), record.dump());
}

std::optional<json> EtcdStore::running_record(const std::string& environment_id) {
    if (!path_safe_id(environment_id)) return std::nullopt;
    const auto kv = m_client->get(key("running/" + environment_id));
    if (!kv) return std::nullopt;
    json doc = json::parse(kv->value, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return json::object();
    return doc;
}

void EtcdStore::clear_running_record(const std::string& environment_id) {
    if (!path_safe_id(environment_id)) return;
    m_client->txn({}, {{TxnOp::Kind::remove, key("running/" + environment_id), "", "", 0}});
}

fs::path EtcdStore::log_root() const {
    const fs::path base = user_state_home();
    // One directory per project prefix, readable and collision-free: "team_shop-1a2b3c4d".
    std::string name;
    for (const char c : m_config.prefix.substr(1)) {
        name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
    }
    std::uint32_t hash = 2166136261u;  // FNV-1a
    for (const char c : m_config.prefix) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "-%08x", hash);
    return base / "depctl" / "logs" / (name.substr(0, 80) + suffix);
}

}  // namespace depctl
