// The last act of a deployment: its outcome into the history and the state (DESIGN §9
// "Fencing" and "Failure while recording").
#pragma once

#include <cstdint>

#include "depctl/record.hpp"
#include "depctl/store.hpp"

namespace depctl {

// Under the environment lock: the record into the history, its versions and statuses into
// the state (StateStore::commit_deployment, conditional on the lock where the store can
// lose it), then the RUNNING record cleared. Returns false, having written nothing, when
// the lock taken with `fencing_token` is no longer held. When a write fails (disk full,
// etcd refuses) throws Error{Io}: the steps ran, which versions now run, what could not be
// written, and how the next deployment finishes the recording; exit 6.
bool record_outcome(StateStore& store, const DeploymentRecord& record, std::int64_t fencing_token);

}  // namespace depctl
