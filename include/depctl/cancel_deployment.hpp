// `environment cancel` from another shell: signal the process that holds the environment's
// deployment lock (the lock names it) and wait until it has recorded the outcome.
#pragma once

#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "depctl/status.hpp"
#include "depctl/store.hpp"

namespace depctl {

struct CancelRequest {
    std::string environment_id;
    bool force = false;  // SIGQUIT: the deployer kills its steps at once
    std::chrono::milliseconds timeout{60000};
};

struct CancelOutcome {
    bool was_running = false;
    LockHolder holder;
    std::string deployment_id;
    // From the history record; nullopt when the deployer ended without writing one.
    std::optional<DeploymentStatus> final_status;
    std::string final_status_text() const;
    nlohmann::json to_json() const;
};

// Throws Error{Refused} when the deployer runs on another host (it cannot be signalled from
// here) and Error{Busy} when it did not finish within the timeout.
CancelOutcome cancel_deployment(StateStore& store, const CancelRequest& request);

}  // namespace depctl
