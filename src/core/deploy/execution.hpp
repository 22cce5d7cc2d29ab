// The deploy's adapter to the executor (depctl/executor.hpp): the plan's steps as
// executor steps, executor events as observer calls, and every step's report collected.
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "core/deploy/step_runner.hpp"
#include "depctl/executor.hpp"

namespace depctl {

// What the step runner reports a step's output to. The executor starts a step without
// waiting for its start to reach the observer (a stdout that blocks must not hold up
// other steps), so a step's lines are held here until step_started has been delivered:
// no observer sees output before the start. Holding is bounded: past k_held_max bytes a
// step waits for its start like before. Lines of hooks (no step) pass straight through.
class OutputAfterStart final : public DeployObserver {
public:
    static constexpr std::size_t k_held_max = std::size_t{1} << 20;

    OutputAfterStart(DeployObserver& observer, std::size_t steps)
        : m_observer(observer), m_held(steps) {}
    bool wants_output() const override { return m_observer.wants_output(); }
    void step_output(const Plan& plan, std::size_t step, std::string_view line) override;
    // Delivers the step's start, then what it wrote meanwhile; its later lines go straight.
    void started(const Plan& plan, std::size_t step);
    // What the observer threw at one of the step's held lines, if it did.
    std::exception_ptr error_of(std::size_t step);

private:
    struct Held {
        bool started = false;
        std::size_t bytes = 0;
        std::vector<std::string> lines;
        std::exception_ptr error;
    };
    void release(const Plan& plan, std::size_t step);

    DeployObserver& m_observer;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<Held> m_held;
};

// Runs a plan's steps: turns executor callbacks into observer calls and collects every
// step's report.
class Execution {
public:
    Execution(const Plan& plan, const StepRunContext& context, DeployObserver& observer)
        : m_plan(plan),
          m_observer(observer),
          m_output(observer, plan.steps.size()),
          m_runner(plan, context, m_output),
          m_reports(plan.steps.size()) {}

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
    DeployObserver& m_observer;
    OutputAfterStart m_output;  // declared before m_runner, which reports to it
    StepRunner m_runner;
    std::vector<StepReport> m_reports;
};

}  // namespace depctl
