// The history record of one deployment (DESIGN §5) and what it changes in the state.
#pragma once

#include <nlohmann/json.hpp>
#include <unordered_map>

#include "depctl/deploy.hpp"
#include "depctl/executor.hpp"

namespace depctl {

class HistoryRecord {
public:
    enum class Operation { deploy, stop };
    HistoryRecord(Operation operation, const Plan& plan, const std::string& project,
                  const std::string& version, const LockHolder& who, const std::string& trigger,
                  int parallelism);
    void add_hook(const std::string& name, const StepReport& report);
    void set_field(const std::string& key, nlohmann::json value) { m_json[key] = std::move(value); }
    void finish(const ExecResult& result, const std::vector<StepReport>& reports, bool hooks_ok,
                bool canceled);
    // Sets each deployed service's current version and status (by id; renamed or deleted
    // services are handled gracefully).
    void apply_to(State& state) const;
    const nlohmann::json& json() const { return m_json; }
    const std::string& status() const { return m_status; }

private:
    Operation m_operation;
    const Plan& m_plan;
    nlohmann::json m_json;
    std::string m_status;
    std::chrono::steady_clock::time_point m_started;
    std::vector<std::string> m_service_status;                     // per planned service
    std::unordered_map<std::string, std::string> m_planned_names;  // service id -> name

    nlohmann::json planned_dependencies(const PlannedService& ps) const;
};

}  // namespace depctl
