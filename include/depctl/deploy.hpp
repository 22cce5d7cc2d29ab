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

#include "depctl/deploy_types.hpp"
#include "depctl/plan.hpp"
#include "depctl/record.hpp"
#include "depctl/step_estimates.hpp"
#include "depctl/store.hpp"
#include "util/cancel.hpp"

namespace depctl {

// What a failed deployment does next (DESIGN §9): `stop` leaves the services that deployed
// on their new version (fail fast, the default); `rollback` returns the services whose
// release or deploy step ran to their previous version and definition, under the same lock.
enum class OnFailure { stop, rollback };

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
    // `environment rollback` (env_rollback.hpp): every service's version and definition of
    // an earlier deployment; `rollback_to` names it (else the one before the current).
    bool environment_rollback = false;
    std::optional<std::string> rollback_to;
    // --only-changed: leave out services whose version and definition are those of their
    // last successful deployment (DESIGN §9 "Only what changed").
    bool only_changed = false;
    OnFailure on_failure = OnFailure::stop;  // --on-failure
};

struct DeployPreview;

// Asked when the environment requires approval and --yes was not given: shows the plan
// and returns the user's answer. Null when nobody can be asked (no TTY).
using ApprovalPrompt = std::function<bool(const DeployPreview&)>;

struct DeployOutcome {
    DeploymentRecord record;
    int exit_code = 0;  // 0 deployed, 1 failed, 130 canceled
    // --only-changed found nothing to deploy: nothing ran, nothing was recorded (`record`
    // is empty) and the exit code is 0.
    bool nothing_changed = false;
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
    // `environment rollback`: EnvironmentRollback::to_json(); null otherwise.
    nlohmann::json restores = nullptr;
    // --on-failure rollback: what would go back if every planned service ran and the
    // deployment then failed (FailureRollbackPlan::to_json()); null otherwise.
    nlohmann::json on_failure_rollback = nullptr;
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
