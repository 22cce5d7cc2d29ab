// What a running deployment reports: a step's report and the observer that receives
// progress. Its own header so that the step runner and the history record need not
// include the deploy narrative that includes them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "depctl/plan.hpp"
#include "depctl/status.hpp"
#include "util/cancel.hpp"

namespace depctl {

// What happened to one step, as reported to observers and written to history.
struct StepReport {
    // nullopt: the step never reported (it never started). A runner that threw reports
    // FAILED with the exception's text in `error` (core/deploy/execution.cpp).
    std::optional<StepStatus> status;
    int exit_code = 0;
    std::chrono::milliseconds duration{0};
    std::string error;
    std::string log_path;
    int attempts = 0;
    int probes = 0;  // a health step's probes, when more than its attempts
    // When the step began (steady clock); recorded as `start_ms` from the deployment's start
    // so that the timeline and `deployment explain` can place it. Unset for steps never run.
    std::optional<std::chrono::steady_clock::time_point> started;
};

// Receives the progress of a deployment. Calls about steps come from one thread at a time
// (the executor serialises events); step_output may come concurrently from several steps
// and must synchronise itself. A step's output never comes before its step_started.
class DeployObserver {
public:
    virtual ~DeployObserver() = default;
    virtual void deployment_started(const Plan&, const std::string& /*deployment_id*/,
                                    const std::string& /*version*/) {}
    virtual void step_started(const Plan&, std::size_t /*step*/) {}
    virtual void step_finished(const Plan&, std::size_t /*step*/, const StepReport&) {}
    virtual void hook_finished(const std::string& /*name*/, const StepReport&) {}
    // Complete lines of a step's output; only called when wants_output() is true.
    virtual bool wants_output() const { return false; }
    virtual void step_output(const Plan&, std::size_t /*step*/, std::string_view /*line*/) {}
    virtual void cancel_requested(CancelLevel) {}
    // --on-failure rollback (DESIGN §9): the forward part failed and the steps that follow
    // are those of `redeploy` (previous versions, dependents first), then of `stop` (the
    // services that had never deployed before). `status`: DEPLOYED when all went back.
    virtual void rollback_started(const Plan& /*redeploy*/, const Plan& /*stop*/) {}
    virtual void rollback_finished(DeploymentStatus /*status*/) {}
};

}  // namespace depctl
