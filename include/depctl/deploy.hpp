// The deploy narrative (DESIGN §5): lock -> plan -> pre-hook -> execute -> post-hook ->
// record history and status -> release the lock.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "depctl/plan.hpp"
#include "depctl/step_estimates.hpp"
#include "depctl/store.hpp"
#include "util/cancel.hpp"

namespace depctl {

// Deployment status values of history records and of services' current status.
inline constexpr const char* k_status_deployed = "DEPLOYED";
inline constexpr const char* k_status_build_error = "BUILD_ERROR";
inline constexpr const char* k_status_deployment_error = "DEPLOYMENT_ERROR";
inline constexpr const char* k_status_canceled = "CANCELED";
inline constexpr const char* k_status_stopped = "STOPPED";
inline constexpr const char* k_status_stop_error = "STOP_ERROR";

struct DeployRequest {
    std::string environment_id;
    std::optional<std::string> version;  // else DEPCTL_VERSION, else git rev-parse HEAD
    std::vector<std::string> services;   // subset by name; empty = all
    int parallelism = 4;
    LockWait wait = LockWait::no;
    std::chrono::milliseconds grace{10000};
    std::string trigger = "cli";
    bool force_build = false;  // build again even when a reusable build exists
    bool assume_yes = false;   // --yes: approval given up front
    bool rollback = false;     // redeploy an earlier version; skips the enforced order
};

// What happened to one step, as reported to observers and written to history.
struct StepReport {
    std::string status;  // SUCCEEDED, FAILED, TIMED_OUT, CANCELED, NOT_STARTED
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

// Receives the progress of a deployment. Calls about steps come from worker threads but
// never concurrently with each other (the executor serialises events); step_output may
// come concurrently from several steps and must synchronise itself.
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
};

struct DeployPreview;

// Asked when the environment requires approval and --yes was not given: shows the plan
// and returns the user's answer. Null when nobody can be asked (no TTY).
using ApprovalPrompt = std::function<bool(const DeployPreview&)>;

struct DeployOutcome {
    nlohmann::json record;
    std::string status;
    int exit_code = 0;  // 0 deployed, 1 failed, 130 canceled
};

// The version to deploy: explicit, else DEPCTL_VERSION, else `git rev-parse HEAD` in
// `project_dir`; throws Error{Refused} with the way out when none is found.
std::string resolve_version(const std::optional<std::string>& explicit_version,
                            const std::filesystem::path& project_dir);

// Dry run: the plan and the version that a deploy would use; runs and writes nothing.
struct DeployPreview {
    Plan plan;
    std::string version;  // empty when it cannot be resolved
    std::string version_problem;
    nlohmann::json promotion;  // the enforced-order verdict (PromotionVerdict::to_json)
    bool rollback = false;
    std::optional<DeploymentEstimate> estimate;  // absent when no step has a past duration
    nlohmann::json to_json() const;
    // The dry run's text; with dry_run false, the same plan shown before the approval
    // question, without saying that nothing will run.
    std::string to_text(bool dry_run = true) const;
};
// In these three, `state` is the state as the caller loaded it from `store` (to find the
// environment): the plan is made from it rather than from a second read of the store.
// The outcome is recorded in a transaction of its own.
DeployPreview preview_deployment(StateStore& store, const State& state,
                                 const DeployRequest& request);

DeployOutcome deploy_environment(StateStore& store, const State& state,
                                 const DeployRequest& request, CancelSignal& cancel,
                                 DeployObserver& observer, const ApprovalPrompt& approve = {});

// `environment stop`: each service's stop command, stages in reverse order; recorded in
// history (STOPPED / STOP_ERROR / CANCELED) and sets the services' status to STOPPED.
DeployOutcome stop_environment(StateStore& store, const State& state, const DeployRequest& request,
                               CancelSignal& cancel, DeployObserver& observer);

}  // namespace depctl
