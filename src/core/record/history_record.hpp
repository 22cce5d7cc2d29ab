// Builds the history record of one deployment (DESIGN §5); record/apply_record.hpp applies it.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "depctl/deploy_types.hpp"
#include "depctl/executor.hpp"
#include "depctl/model.hpp"
#include "depctl/record.hpp"
#include "depctl/store.hpp"

namespace depctl {

class HistoryRecord {
public:
    using Operation = DeploymentRecord::Operation;
    HistoryRecord(Operation operation, const Plan& plan, const std::string& project,
                  const std::string& version, const LockHolder& who, const std::string& trigger,
                  int parallelism);
    void add_hook(const std::string& name, const StepReport& report);
    void set_rollback(bool rollback) { m_record.rollback = rollback; }
    void set_rolled_back_to(const std::string& id) { m_record.rolled_back_to = id; }
    void finish(const ExecResult& result, const std::vector<StepReport>& reports, bool hooks_ok,
                bool canceled);
    // --on-failure rollback, after finish(): its part of the record; ROLLED_BACK when every
    // service went back, else the forward part's status stays. The end time moves on.
    void set_failure_rollback(FailureRollback back);
    const DeploymentRecord& record() const { return m_record; }

private:
    ServiceRecord service_record(const PlannedService& ps, const ExecResult& result,
                                 const std::vector<StepReport>& reports);

    Operation m_operation;
    const Plan& m_plan;
    DeploymentRecord m_record;
    std::chrono::steady_clock::time_point m_started;
    std::vector<ServiceStatus> m_service_status;                   // per planned service
    std::unordered_map<std::string, std::string> m_planned_names;  // service id -> name

    std::vector<DependencyRecord> planned_dependencies(const PlannedService& ps) const;
};

}  // namespace depctl
