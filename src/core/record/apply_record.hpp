// What a finished deployment's record changes in the state: each service's current version
// and status (DESIGN §2). One function for the deployer and for the next lock holder that
// finishes a recording the deployer could not (DESIGN §9 "Failure while recording").
#pragma once

#include "depctl/model.hpp"
#include "depctl/record.hpp"

namespace depctl {

// Sets the current version and status of each service of `record` (by id; renamed or
// deleted services are handled gracefully). Applying a record twice changes nothing more.
void apply_record_to_state(const DeploymentRecord& record, State& state);

}  // namespace depctl
