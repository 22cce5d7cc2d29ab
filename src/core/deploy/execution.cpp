#include "core/deploy/execution.hpp"

namespace depctl {

ExecResult Execution::run(int parallelism, CancelSignal& cancel) {
    std::vector<ExecStep> steps;
    steps.reserve(m_plan.steps.size());
    for (std::size_t i = 0; i < m_plan.steps.size(); ++i) {
        const PlanStep& step = m_plan.steps[i];
        const bool build = step.kind == StepKind::build;
        std::string name = step.kind == StepKind::barrier
                               ? "barrier"
                               : m_plan.services[step.service].service.name + "/" +
                                     std::string(to_string(step.kind));
        steps.push_back({std::move(name), build ? StepClass::build : StepClass::deploy, step.deps,
                         step.priority,
                         [this, i](StepContext& context) { return run_step(i, context); }});
    }
    return execute(steps, {parallelism, stage_caps(steps)}, cancel,
                   [this](const ExecEvent& event) { on_event(event); });
}

std::vector<int> Execution::stage_caps(std::vector<ExecStep>& steps) const {
    std::vector<int> caps;
    for (const PlannedStage& stage : m_plan.stages) {
        if (!stage.max_parallel) continue;
        const int group = static_cast<int>(caps.size());
        caps.push_back(*stage.max_parallel);
        for (std::size_t index : stage.services) {
            const PlannedService& ps = m_plan.services[index];
            const std::size_t first = ps.first_rollout_step();
            if (first == k_no_step) continue;
            steps[first].cap_group = steps[ps.last_step()].cap_group = group;
            steps[first].takes_slot = true;
            steps[ps.last_step()].frees_slot = true;
        }
    }
    return caps;
}

// A step that throws (a log that cannot be opened, out of memory) failed, and its report
// says why: the executor would only see "failed".
StepReport Execution::run_or_report(std::size_t i, const CancelSignal& cancel) {
    try {
        return m_runner.run(i, cancel);
    } catch (const std::exception& e) {
        StepReport report;
        report.status = StepStatus::failed;
        report.exit_code = 1;
        report.error = e.what();
        return report;
    }
}

StepOutcome Execution::run_step(std::size_t i, StepContext& context) {
    if (m_plan.steps[i].kind == StepKind::barrier) return StepOutcome::succeeded;
    const auto started = std::chrono::steady_clock::now();
    if (m_plan.steps[i].reused) {
        m_reports[i] = {StepStatus::reused, 0, {}, {}, {}, 0, 0, started};
        return StepOutcome::succeeded;
    }
    StepReport report = run_or_report(i, context.cancel);
    report.started = started;
    const StepOutcome outcome = report.status == StepStatus::succeeded  ? StepOutcome::succeeded
                                : report.status == StepStatus::canceled ? StepOutcome::canceled
                                                                        : StepOutcome::failed;
    m_reports[i] = std::move(report);  // each slot is written by exactly one worker
    return outcome;
}

void Execution::on_event(const ExecEvent& event) {
    if (m_plan.steps[event.step].kind == StepKind::barrier) return;
    if (event.kind == ExecEventKind::started) {
        m_observer.step_started(m_plan, event.step);
    } else {
        m_observer.step_finished(m_plan, event.step, m_reports[event.step]);
    }
}

}  // namespace depctl
