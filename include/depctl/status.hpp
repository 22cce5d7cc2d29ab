// Every status depctl writes or reads, as enums with one to/from-string table
// (src/core/record/status.cpp). The strings are the ones of history records, of the state
// and of --json output (docs/json-output.md); nothing else spells them.
#pragma once

#include <optional>
#include <string_view>

namespace depctl {

// Of a deployment (or stop) as a whole: a history record's "status".
enum class DeploymentStatus {
    running,
    deployed,
    build_error,
    deployment_error,
    canceled,
    stopped,
    stop_error,
    rolled_back,  // failed, then --on-failure rollback put the previous versions back
    interrupted,  // the deployer died; found by the next one
    lock_lost,    // the environment lock expired while the deployment ran
};

// Of one step (or hook) of a deployment.
enum class StepStatus {
    not_started,
    running,
    succeeded,
    failed,
    timed_out,
    canceled,
    skipped,
    reused
};

// Of one service in a record, and a service's current status in the state.
enum class ServiceStatus {
    never_deployed,  // only in views: the state keeps no status then
    not_started,
    deployed,
    build_error,
    deployment_error,
    // In the state only: its deploy step ran in a deployment that failed, so the attempted
    // version may be (partly) live (DESIGN §9 "Honest status"). The record says
    // DEPLOYMENT_ERROR.
    failed,
    canceled,
    stopped,
    stop_error,
    rolled_back,
    interrupted,
    lock_lost,
};

std::string_view to_string(DeploymentStatus status);
std::string_view to_string(StepStatus status);
std::string_view to_string(ServiceStatus status);

// Exact (upper-case) match; nullopt for anything else.
std::optional<DeploymentStatus> parse_deployment_status(std::string_view text);
std::optional<StepStatus> parse_step_status(std::string_view text);
std::optional<ServiceStatus> parse_service_status(std::string_view text);

// A step that ends well for what follows: it ran and succeeded, or its build was reused.
inline bool step_succeeded(StepStatus status) {
    return status == StepStatus::succeeded || status == StepStatus::reused;
}

// A service's status that depends on which operation failed at which step.
ServiceStatus service_status_of(DeploymentStatus status);

// The status a service is left in when its record says `status` (DEPLOYED and STOPPED
// are the two good ends).
inline bool deployment_ok(DeploymentStatus status) {
    return status == DeploymentStatus::deployed || status == DeploymentStatus::stopped;
}

}  // namespace depctl
