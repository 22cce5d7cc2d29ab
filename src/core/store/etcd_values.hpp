// The etcd store's values (DESIGN §7): how a state is split into the project key and one
// key per environment, and read back from one consistent snapshot of them.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/store/etcd_client.hpp"
#include "depctl/model.hpp"

namespace depctl::etcd_values {

inline constexpr const char* k_corrupt_hint =
    "the keys were left as they are; restore them from an etcd snapshot, or fix them with etcdctl "
    "(docs/etcd.md)";

// The keys read by one consistent snapshot: the project key and every environment key.
struct Snapshot {
    std::optional<KeyValue> project;
    std::map<std::string, KeyValue> environments;  // by key

    const KeyValue* find(const std::string& key) const {
        if (project && project->key == key) return &*project;
        const auto it = environments.find(key);
        return it == environments.end() ? nullptr : &it->second;
    }
};

// One request: a txn of two ranges, which etcd answers at one revision.
Snapshot read_snapshot(EtcdClient& client, const std::string& prefix);

// The values a state is stored as, by key (see etcd_store.hpp for the layout).
std::map<std::string, std::string> split_state(const State& state, const std::string& prefix);

// The state a snapshot holds; throws Error{NotFound} without a project key and
// Error{Corrupt} for values that do not read.
State assemble_state(const Snapshot& snapshot, const std::string& prefix,
                     const std::string& location);

}  // namespace depctl::etcd_values
