// What a deployment's outcome needs from the store, checked before its first step (DESIGN §9
// "Failure while recording"): room for its final record on a disk that may fill up, and a
// state that the store can still hold once every planned service has its new version.
#pragma once

#include <cstddef>
#include <vector>

#include "depctl/plan.hpp"
#include "depctl/record.hpp"
#include "depctl/store.hpp"

namespace depctl {

// The bytes a deployment's final record may take, generously: ~350 per service with two
// steps, plus the text of its definition (a deploy records it), plus the deployment's own.
std::size_t record_room(const Plan& plan);

// With --on-failure rollback the final record also holds the rollback half: the services
// that ran, at their previous definitions (which may be larger than today's). The room for
// it when every planned service ran, so that the reserve covers the largest outcome.
std::size_t failure_rollback_room(const Environment& env, const Plan& plan,
                                  const std::vector<DeploymentRecord>& history);

// Refuses (Error{Refused}, "… once this deployment is recorded", nothing run) a deployment
// whose outcome the store could not record: on etcd each service's new version grows the
// environment's value, and one over etcd's request limit would be refused after every step
// had run (#14 item 4). The projection is the largest outcome: every planned service done.
void check_outcome_fits(StateStore& store, const State& state, const Plan& plan,
                        DeploymentRecord::Operation kind, const DeploymentRecord& running);

}  // namespace depctl
