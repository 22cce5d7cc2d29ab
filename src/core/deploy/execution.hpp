// The deploy's adapter to the executor (depctl/executor.hpp): the plan's steps as
// executor steps, executor events as observer calls, and every step's report collected.
#pragma once

#include <vector>

#include "core/deploy/step_runner.hpp"
#include "depctl/executor.hpp"

namespace depctl {

// Turns executor callbacks into observer calls and collects every step's report.
class Execution {
public:
    Execution(const Plan& plan, StepRunner& runner, DeployObserver& observer)
        : m_plan(plan), m_runner(runner), m_observer(observer), m_reports(plan.steps.size()) {}

    ExecResult run(int parallelism, CancelSignal& cancel);
    const std::vector<StepReport>& reports() const { return m_reports; }

private:
    // A stage's max_parallel: each of its services takes a slot with its first rollout step
    // and gives it back with its last (DESIGN §9, per-stage caps). One cap group per stage.
    std::vector<int> stage_caps(std::vector<ExecStep>& steps) const;
    StepOutcome run_step(std::size_t i, StepContext& context);
    StepReport run_or_report(std::size_t i, const CancelSignal& cancel);
    void on_event(const ExecEvent& event);

    const Plan& m_plan;
    StepRunner& m_runner;
    DeployObserver& m_observer;
    std::vector<StepReport> m_reports;
};

}  // namespace depctl
