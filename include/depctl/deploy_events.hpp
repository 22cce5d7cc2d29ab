// The JSON events of a deployment, one object per event: the lines of `environment deploy
// -o json` and the server-sent events of the web console (docs/json-output.md). Built in
// one place so both front ends report the same thing.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "depctl/deploy.hpp"
#include "depctl/plan.hpp"
#include "util/cancel.hpp"

namespace depctl {

// "Backend build": the service and step a line of output or a log belongs to.
std::string step_label(const Plan& plan, std::size_t step);

nlohmann::json deployment_started_event(const Plan& plan, const std::string& deployment_id,
                                        const std::string& version);
nlohmann::json step_started_event(const Plan& plan, std::size_t step);
nlohmann::json step_finished_event(const Plan& plan, std::size_t step, const StepReport& report);
nlohmann::json hook_finished_event(const std::string& name, const StepReport& report);
// `step` may be k_no_step for a hook's output.
nlohmann::json output_event(const Plan& plan, std::size_t step, std::string_view line);
nlohmann::json cancel_requested_event(CancelLevel level);
// --on-failure rollback: {"event": "rollback_started", "redeploy": [{"service", "version"}],
// "stop": [names]}, and its end {"event": "rollback_finished", "status": "DEPLOYED"|...}.
nlohmann::json rollback_started_event(const Plan& redeploy, const Plan& stop);
nlohmann::json rollback_finished_event(DeploymentStatus status);
nlohmann::json deployment_finished_event(const DeployOutcome& outcome);

}  // namespace depctl
