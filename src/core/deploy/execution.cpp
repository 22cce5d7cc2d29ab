#include "core/deploy/execution.hpp"

#include <exception>

namespace depctl {

void OutputAfterStart::step_output(const Plan& plan, std::size_t step, std::string_view line) {
    if (step < m_held.size()) {
        std::unique_lock lock(m_mutex);
        Held& held = m_held[step];
        m_cv.wait(lock, [&] { return held.started || held.bytes < k_held_max; });
        // The observer refused a held line: the step fails with its text, as it would
        // have had the line gone straight through.
        if (held.error) std::rethrow_exception(held.error);
        if (!held.started) {
            held.lines.emplace_back(line);
            held.bytes += line.size() + 1;
            return;
        }
    }
    m_observer.step_output(plan, step, line);
}

void OutputAfterStart::started(const Plan& plan, std::size_t step) {
    try {
        m_observer.step_started(plan, step);
    } catch (...) {
        // The run stops (the executor rethrows), but the step must not wait for ever.
        release(plan, step);
        throw;
    }
    release(plan, step);
}

// Passes on the held lines, in order, until none is left; only then may the step's own
// thread write straight through, so no line overtakes an earlier one. A throw is kept for
// the step (a closed terminal fails the step, not the whole run) and the rest is dropped.
void OutputAfterStart::release(const Plan& plan, std::size_t step) {
    std::unique_lock lock(m_mutex);
    Held& held = m_held[step];
    while (!held.lines.empty() && !held.error) {
        std::vector<std::string> lines;
        lines.swap(held.lines);
        held.bytes = 0;
        m_cv.notify_all();
        lock.unlock();
        std::exception_ptr error;
        try {
            for (const std::string& line : lines) m_observer.step_output(plan, step, line);
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        held.error = error;
    }
    held.lines.clear();
    held.started = true;
    m_cv.notify_all();
}

std::exception_ptr OutputAfterStart::error_of(std::size_t step) {
    std::lock_guard lock(m_mutex);
    return m_held[step].error;
}

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
        StepReport report = m_runner.run(i, cancel);
        if (std::exception_ptr refused = m_output.error_of(i)) std::rethrow_exception(refused);
        return report;
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
        m_output.started(m_plan, event.step);
    } else {
        m_observer.step_finished(m_plan, event.step, m_reports[event.step]);
    }
}

}  // namespace depctl
