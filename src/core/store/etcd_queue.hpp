// EtcdStore's queue of `--wait` waiters for an environment's lock (DESIGN §9 "Queue"), etcd's
// own lock recipe (clientv3/concurrency): every waiter puts
//   PREFIX/queue/<env-id>/<its lease id, 16 hex digits>   {holder..., "wait": "yes"|"newest"}
// bound to a lease of its own that it keeps alive while it waits. The keys' create revisions
// are the order; the waiter with no older key takes PREFIX/locks/<env-id> as before. A dead
// waiter's key goes with its lease; a replaced one gets "superseded_by" in its value.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/store/etcd_client.hpp"
#include "depctl/store.hpp"

namespace depctl {

class EtcdQueuePlace {
public:
    // Joins the queue under `dir` (PREFIX/queue/<env-id>/). With `newest`, every older waiter
    // that came with --wait=newest and is still queued is told that `me` replaced it.
    EtcdQueuePlace(EtcdClient& client, std::string dir, const LockHolder& me, bool newest,
                   int ttl_s);
    ~EtcdQueuePlace();  // leaves the queue: revokes the lease, which deletes the key
    EtcdQueuePlace(const EtcdQueuePlace&) = delete;
    EtcdQueuePlace& operator=(const EtcdQueuePlace&) = delete;

    // Reads the queue: true when no waiter still queued is older. Throws superseded_error
    // once a newer waiter replaced this one, Error{Unreachable} when its key is gone.
    bool first();
    // Renews the lease once a third of its TTL has passed since the last renewal.
    void keep_alive();

private:
    void supersede_older(const std::string& replacer);

    EtcdClient& m_client;
    std::string m_dir;
    std::string m_key;
    std::int64_t m_lease = 0;
    std::int64_t m_revision = 0;
    int m_ttl_s;
    std::chrono::steady_clock::time_point m_renewed;
};

// Waiters in the queue under `dir`, not counting those replaced.
std::size_t etcd_queued_waiters(EtcdClient& client, const std::string& dir);

}  // namespace depctl
