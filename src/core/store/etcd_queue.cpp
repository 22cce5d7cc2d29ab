#include "core/store/etcd_queue.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/store/lock_wait.hpp"
#include "depctl/error.hpp"

namespace depctl {
namespace {

struct Waiter {
    const KeyValue* kv = nullptr;
    nlohmann::json value;
    bool superseded() const { return value.is_object() && value.contains("superseded_by"); }
    bool newest() const { return value.is_object() && value.value("wait", "") == "newest"; }
};

std::vector<Waiter> read_queue(EtcdClient& client, const std::string& dir, RangeResult& result) {
    result = client.range(dir, {prefix_range_end(dir), 0, false, false});
    std::vector<Waiter> waiters;
    for (const KeyValue& kv : result.kvs)
        waiters.push_back({&kv, nlohmann::json::parse(kv.value, nullptr, false)});
    return waiters;
}

std::string lease_hex(std::int64_t lease) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(lease));
    return text;
}

}  // namespace

EtcdQueuePlace::EtcdQueuePlace(EtcdClient& client, std::string dir, const LockHolder& me,
                               bool newest, int ttl_s)
    : m_client(client), m_dir(std::move(dir)), m_ttl_s(ttl_s) {
    m_lease = m_client.lease_grant(ttl_s);
    m_renewed = std::chrono::steady_clock::now();
    m_key = m_dir + lease_hex(m_lease);
    nlohmann::json value = me.to_json();
    value["wait"] = newest ? "newest" : "yes";
    // Put if absent, and read it back: a put resent to another member may have landed twice.
    const TxnResult result = m_client.txn({{m_key, Compare::Target::create, 0}},
                                          {{TxnOp::Kind::put, m_key, value.dump(), "", m_lease},
                                           {TxnOp::Kind::range, m_key, "", "", 0}},
                                          {{TxnOp::Kind::range, m_key, "", "", 0}});
    if (result.ranges.empty() || result.ranges.front().kvs.empty()) {
        m_client.lease_revoke(m_lease);
        throw Error(ErrorKind::Unreachable, "etcd lost the queue key " + m_key + " at once");
    }
    m_revision = result.ranges.front().kvs.front().create_revision;
    if (newest) supersede_older(me.to_json().dump());
}

EtcdQueuePlace::~EtcdQueuePlace() {
    try {
        m_client.lease_revoke(m_lease);
    } catch (const std::exception&) {
        // etcd unreachable: the key goes with the lease within its TTL.
    }
}

// Each older --wait=newest waiter gets "superseded_by" in its value, under its own lease,
// unless it changed meanwhile (it left, or another newcomer replaced it first).
void EtcdQueuePlace::supersede_older(const std::string& replacer) {
    RangeResult result;
    for (const Waiter& w : read_queue(m_client, m_dir, result)) {
        if (w.kv->create_revision >= m_revision || !w.newest() || w.superseded()) continue;
        nlohmann::json value = w.value;
        value["superseded_by"] = nlohmann::json::parse(replacer);
        try {
            m_client.txn({{w.kv->key, Compare::Target::mod, w.kv->mod_revision}},
                         {{TxnOp::Kind::put, w.kv->key, value.dump(), "", w.kv->lease}});
        } catch (const Error&) {
            // Its lease ended meanwhile: it is no longer queued.
        }
    }
}

bool EtcdQueuePlace::first() {
    RangeResult result;
    const std::vector<Waiter> waiters = read_queue(m_client, m_dir, result);
    bool first = true;
    bool found = false;
    for (const Waiter& w : waiters) {
        if (w.kv->key == m_key) {
            found = true;
            if (w.superseded())
                throw superseded_error(LockHolder::from_json(w.value["superseded_by"]));
        } else if (w.kv->create_revision < m_revision && !w.superseded()) {
            first = false;
        }
    }
    if (!found) {
        throw Error(ErrorKind::Unreachable,
                    "lost its place in the queue for the environment's lock: its lease expired",
                    "nothing was run; etcd was out of reach for longer than the lease's TTL?");
    }
    return first;
}

void EtcdQueuePlace::keep_alive() {
    const auto now = std::chrono::steady_clock::now();
    if (now - m_renewed < std::chrono::milliseconds(m_ttl_s * 1000 / 3)) return;
    m_client.lease_keepalive(m_lease);  // a lost lease is found by first()
    m_renewed = now;
}

std::size_t etcd_queued_waiters(EtcdClient& client, const std::string& dir) {
    RangeResult result;
    std::size_t count = 0;
    for (const Waiter& w : read_queue(client, dir, result)) count += !w.superseded();
    return count;
}

}  // namespace depctl
