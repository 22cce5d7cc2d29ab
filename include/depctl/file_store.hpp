// The default backend: one JSON file guarded by flock, written atomically (DESIGN §2).
//   <dir>/state.json, <dir>/state.lock, <dir>/locks/<env-id>.lock,
//   <dir>/locks/<env-id>.queue/ (the --wait queue, src/core/store/file_queue.hpp),
//   <dir>/history/<env-id>.jsonl, <dir>/logs/<deployment-id>/...
#pragma once

#include "depctl/store.hpp"

namespace depctl {

class FileStore final : public StateStore {
public:
    FileStore(std::filesystem::path state_file, StoreOptions options);

    std::string location() const override { return m_state_file.string(); }
    void initialize(const State& state) override;
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
    // Skips lines without filter.containing before parsing them, reading from the end.
    std::vector<nlohmann::json> query_history(const std::string& environment_id,
                                              const HistoryFilter& filter) override;
    std::filesystem::path log_root() const override { return m_dir / "logs"; }
    std::filesystem::path project_dir() const override;

private:
    std::string read_state_bytes() const;
    std::filesystem::path m_state_file;
    std::filesystem::path m_dir;
    StoreOptions m_options;
};

}  // namespace depctl
