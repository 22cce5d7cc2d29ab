// The shared backend: the state in etcd, reached through its v3 JSON gateway (DESIGN §7).
// Selected with `--state etcd://HOST:PORT[,HOST:PORT...]/PREFIX` (`etcds://` for TLS).
// Keys under PREFIX (see docs/etcd.md):
//   PREFIX/project                          schema_version, project, environment ids in order
//   PREFIX/env/<env-id>                     one environment (stages, services, settings)
//   PREFIX/locks/<env-id>                   deployment lock, bound to a lease
//   PREFIX/history/<env-id>/<20-digit seq>  one deployment record
//   PREFIX/history-parts/<env-id>/<uid>/<n> pieces of a record too large for one value
#pragma once

#include <memory>
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
    State load() override;
    State transact(const std::function<void(State&)>& change) override;
    std::unique_ptr<EnvironmentLock> lock_environment(const std::string& environment_id,
                                                      const LockHolder& me, LockWait wait) override;
    std::optional<LockHolder> environment_lock_holder(const std::string& environment_id) override;
    void append_history(const std::string& environment_id, const nlohmann::json& record) override;
    std::vector<nlohmann::json> list_history(const std::string& environment_id) override;
    void put_running_record(const std::string& environment_id,
                            const nlohmann::json& record) override;
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
    std::string key(const std::string& suffix) const { return m_config.prefix + "/" + suffix; }
    EtcdConfig m_config;
    StoreOptions m_options;
    std::unique_ptr<EtcdClient> m_client;
};

}  // namespace depctl
