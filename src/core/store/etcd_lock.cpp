// EtcdStore's deployment lock: PREFIX/locks/<env-id>, created only if absent and bound to
// a lease that a thread keeps alive. If the holder dies, the lease and the key expire
// within the TTL; a clean release revokes the lease, which deletes the key at once.
#include <poll.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "core/store/etcd_client.hpp"
#include "core/store/etcd_queue.hpp"
#include "core/store/lock_wait.hpp"
#include "core/store/store_ids.hpp"
#include "depctl/error.hpp"
#include "depctl/etcd_store.hpp"
#include "depctl/names.hpp"
#include "util/cancel.hpp"

namespace depctl {
namespace {

std::optional<LockHolder> parse_holder(const std::string& value) {
    const auto doc = nlohmann::json::parse(value, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
    return LockHolder::from_json(doc);
}

class EtcdEnvironmentLock final : public EnvironmentLock {
public:
    EtcdEnvironmentLock(const EtcdConfig& config, std::int64_t lease, LockHolder holder,
                        std::int64_t token)
        : m_config(config), m_lease(lease), m_holder(std::move(holder)), m_token(token) {
        m_keeper = std::thread([this] { keep_alive(); });
    }

    ~EtcdEnvironmentLock() override {
        {
            std::lock_guard<std::mutex> guard(m_mutex);
            m_stop = true;
        }
        m_wake.notify_all();
        m_keeper.join();
        try {
            EtcdClient(m_config).lease_revoke(m_lease);  // deletes the key now
        } catch (const std::exception&) {
            // etcd unreachable: the lease expires on its own within the TTL.
        }
    }

    const LockHolder& holder() const override { return m_holder; }
    // The lock key's create revision: etcd's revisions only grow.
    std::int64_t fencing_token() const override { return m_token; }

private:
    // Renews the lease three times per TTL, so one lost renewal does not lose the lock.
    // No member is waited for longer than TTL/3: a renewal sent to a hung member moves on
    // to the next one in time, starting from the one that answered last (issue #14 item 3).
    void keep_alive() {
        EtcdConfig config = m_config;
        config.request_timeout_s = std::min(config.request_timeout_s, m_config.lease_ttl_s / 3.0);
        EtcdClient client(config);  // a client per thread: curl handles are not shared
        const auto interval = std::chrono::milliseconds(m_config.lease_ttl_s * 1000 / 3);
        std::unique_lock<std::mutex> lock(m_mutex);
        while (!m_wake.wait_for(lock, interval, [this] { return m_stop; })) {
            lock.unlock();
            try {
                // An expired lease is answered with HTTP 200 and no TTL: the key is gone and
                // somebody else may hold the lock now.
                if (client.lease_keepalive(m_lease) <= 0) {
                    mark_lost();
                    return;
                }
            } catch (const std::exception&) {
                // Retried at the next tick; the deploy itself goes on either way.
            }
            lock.lock();
        }
    }

    void mark_lost() {
        std::function<void()> callback;
        {
            std::lock_guard<std::mutex> guard(m_mutex);
            m_lost = true;
            callback = m_on_loss;
        }
        if (callback) callback();
    }

public:
    bool lost() const override {
        std::lock_guard<std::mutex> guard(m_mutex);
        return m_lost;
    }
    void on_loss(std::function<void()> callback) override {
        bool already = false;
        {
            std::lock_guard<std::mutex> guard(m_mutex);
            m_on_loss = callback;
            already = m_lost;
        }
        if (already && callback) callback();
    }

private:
    EtcdConfig m_config;
    std::int64_t m_lease;
    LockHolder m_holder;
    std::int64_t m_token;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    bool m_lost = false;
    std::function<void()> m_on_loss;
    std::thread m_keeper;
};

}  // namespace

namespace {

// One try at the lock key: created only if absent, bound to a new lease. nullptr when it is
// held, with `holder` saying by whom when its value is readable.
std::unique_ptr<EnvironmentLock> take_lock_key(EtcdClient& client, const EtcdConfig& config,
                                               const std::string& lock_key, const LockHolder& me,
                                               std::optional<LockHolder>& holder) {
    const std::string value = me.to_json().dump();
    const std::int64_t lease = client.lease_grant(config.lease_ttl_s);
    const TxnResult result = client.txn(
        {{lock_key, Compare::Target::create, 0}},
        {{TxnOp::Kind::put, lock_key, value, "", lease}, {TxnOp::Kind::range, lock_key, "", "", 0}},
        {{TxnOp::Kind::range, lock_key, "", "", 0}});
    const KeyValue* current = !result.ranges.empty() && !result.ranges.front().kvs.empty()
                                  ? &result.ranges.front().kvs.front()
                                  : nullptr;
    // Our own put may have landed on a member that failed before answering.
    if (result.succeeded || (current && current->lease == lease && current->value == value)) {
        const std::int64_t token = current ? current->create_revision : 0;
        return std::make_unique<EtcdEnvironmentLock>(config, lease, me, token);
    }
    client.lease_revoke(lease);
    holder = current ? parse_holder(current->value) : std::nullopt;
    return nullptr;
}

// Sleeps `pause`; Ctrl-C (a raised `cancel`) ends the wait at once.
void nap(const CancelSignal* cancel, std::chrono::milliseconds pause) {
    if (!cancel) {
        std::this_thread::sleep_for(pause);
        return;
    }
    if (cancel->level() == CancelLevel::none) {
        pollfd fd{cancel->fd(), POLLIN, 0};
        ::poll(&fd, 1, static_cast<int>(pause.count()));
    }
    if (cancel->level() != CancelLevel::none) throw canceled_while_waiting();
}

}  // namespace

// Without --wait: one try, refused while others are queued. With it: a place in the queue
// (etcd_queue.hpp); its first waiter polls the lock key and takes it once it is gone.
std::unique_ptr<EnvironmentLock> EtcdStore::lock_environment(const std::string& environment_id,
                                                             const LockHolder& me, LockWait wait) {
    if (!path_safe_id(environment_id))
        throw Error(ErrorKind::Refused, "invalid environment id " + show_name(environment_id));
    const std::string lock_key = key("locks/" + environment_id);
    const std::string queue_dir = key("queue/" + environment_id + "/");
    std::optional<LockHolder> holder;
    if (wait == LockWait::no) {
        const std::size_t waiting = etcd_queued_waiters(*m_client, queue_dir);
        if (waiting == 0) {
            if (auto lock = take_lock_key(*m_client, m_config, lock_key, me, holder)) return lock;
            throw busy_error(true, holder, 0);
        }
        const auto current = m_client->get(lock_key);
        throw busy_error(current.has_value(), current ? parse_holder(current->value) : std::nullopt,
                         waiting);
    }
    EtcdQueuePlace place(*m_client, queue_dir, me, wait == LockWait::newest, m_config.lease_ttl_s);
    auto pause = std::chrono::milliseconds(20);
    // Naps stay well inside the queue lease's TTL, renewed between them.
    const auto longest = std::min(std::chrono::milliseconds(500),
                                  std::chrono::milliseconds(m_config.lease_ttl_s * 1000 / 4));
    for (;;) {
        if (place.first() && !m_client->get(lock_key)) {
            if (auto lock = take_lock_key(*m_client, m_config, lock_key, me, holder)) {
                try {
                    place.first();
                } catch (const Error& e) {  // replaced meanwhile: released, it does not run
                    if (e.kind() == ErrorKind::Busy) throw;
                }
                return lock;
            }
        }
        place.keep_alive();
        nap(m_wait_cancel, pause);
        pause = std::min(pause * 3 / 2, longest);
    }
}

std::optional<LockHolder> EtcdStore::environment_lock_holder(const std::string& environment_id) {
    if (!path_safe_id(environment_id)) return std::nullopt;
    const auto kv = m_client->get(key("locks/" + environment_id));
    if (!kv) return std::nullopt;  // a lease-bound key exists only while it is held
    return parse_holder(kv->value);
}

}  // namespace depctl
