// The shared backend: the state in etcd, reached through its v3 JSON gateway (DESIGN §7).
// Selected with `--state etcd://HOST:PORT[,HOST:PORT...]/PREFIX` (`etcds://` for TLS).
// Keys under PREFIX (see docs/etcd.md):
//   PREFIX/project                          schema_version, project, environment ids in order
//   PREFIX/env/<env-id>                     one environment (stages, services, settings)
//   PREFIX/locks/<env-id>                   deployment lock, bound to a lease
//   PREFIX/queue/<env-id>/<lease id>        a --wait waiter, bound to its own lease
//   PREFIX/history/<env-id>/<20-digit seq>  one deployment record
//   PREFIX/history-parts/<env-id>/<uid>/<n> pieces of a record too large for one value
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "depctl/etcd_config.hpp"
#include "depctl/store.hpp"

namespace depctl {

class EtcdClient;

class EtcdStore final : public StateStore {
public:
    EtcdStore(EtcdConfig config, StoreOptions options);
    ~EtcdStore() override;

    std::string location() const override { return m_config.url(); }
    void initialize(const State& state) override;
    void check_fits(const State& state) override;
    State load() override;
    State transact(const std::function<void(State&)>& change) override;
    std::unique_ptr<EnvironmentLock> lock_environment(const std::string& environment_id,
                                                      const LockHolder& me, LockWait wait) override;
    std::optional<LockHolder> environment_lock_holder(const std::string& environment_id) override;
    void append_history(const std::string& environment_id, const nlohmann::json& record) override;
    std::vector<nlohmann::json> list_history(const std::string& environment_id) override;
    bool commit_deployment(const std::string& environment_id, const nlohmann::json& record,
                           const std::function<void(State&)>& change,
                           std::int64_t fencing_token) override;
    void put_running_record(const std::string& environment_id, const nlohmann::json& record,
                            std::size_t reserve) override;
    std::optional<nlohmann::json> running_record(const std::string& environment_id) override;
    void clear_running_record(const std::string& environment_id) override;
    // Reads newest first and stops at `filter.newest`; skips records without the text.
    std::vector<nlohmann::json> query_history(const std::string& environment_id,
                                              const HistoryFilter& filter) override;
    // Step logs stay on the machine that ran them: $XDG_STATE_HOME/depctl/logs/<prefix>
    // (default ~/.local/state/depctl/logs/<prefix>); history records name the host.
    std::filesystem::path log_root() const override;
    // There is no project directory in etcd: relative workdirs and `git rev-parse` use
    // the current working directory of the depctl process.
    std::filesystem::path project_dir() const override;

private:
    // A deployment's final write: the history record to add in the same txn, and the lock
    // key whose create revision must still be the fencing token.
    struct FinalWrite {
        std::string history_dir;   // PREFIX/history/<env-id>/
        std::string record_value;  // the record, or a pointer to its parts
        std::string lock_key;
        std::int64_t fencing_token = 0;
        // Writes the record's parts and returns the pointer to them: for a record that fits
        // inline alone but not beside the state's values in one request.
        std::function<std::string()> in_parts;
    };
    // transact(), plus the final write's compares and put when `final` is set; returns
    // nullopt, having written nothing, when the lock key is no longer the fenced one.
    std::optional<State> commit(const std::function<void(State&)>& change, const FinalWrite* final);
    // The value a history record is stored as: itself, or a pointer to parts written first
    // when it is larger than `inline_limit`.
    std::string history_value(const std::string& environment_id, const nlohmann::json& record,
                              std::size_t inline_limit);
    // The next free sequence key under `dir` (it may be taken before it is written).
    std::string next_history_key(const std::string& dir);
    std::string key(const std::string& suffix) const { return m_config.prefix + "/" + suffix; }
    EtcdConfig m_config;
    StoreOptions m_options;
    std::unique_ptr<EtcdClient> m_client;
};

}  // namespace depctl
