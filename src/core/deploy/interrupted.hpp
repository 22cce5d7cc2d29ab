// A deployment whose deployer died (DESIGN §9 "Honest status"): its steps are ended before
// the next deployment of the environment starts any, and it is recorded INTERRUPTED.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "depctl/record.hpp"
#include "depctl/store.hpp"
#include "util/files.hpp"

namespace depctl {

// The environment's steps lock on this machine (<log root>/.steps/<env-id>.lock). Every
// step guard of a deployment keeps it held (util/step_guard.cpp), so taking it waits for
// the steps a dead deployer left to be ended by their guards (at most its grace period).
// Throws Error{Busy} when they are still running after `grace` and a margin.
class StepsLock {
public:
    explicit StepsLock(FileLock lock);
    ~StepsLock();
    StepsLock(const StepsLock&) = delete;
    StepsLock& operator=(const StepsLock&) = delete;
    // A descriptor of the lock numbered 10 or above, for the step guards' fd 3.
    int held_fd() const { return m_held; }

private:
    FileLock m_lock;
    int m_held = -1;
};
// Waits up to `grace` + 5 s for it; Ctrl-C (a raised `cancel`) ends the wait at once with
// Error{Canceled}, like the wait for the environment's lock (issue #14 item 6).
std::unique_ptr<StepsLock> take_steps_lock(const StateStore& store,
                                           const std::string& environment_id,
                                           std::chrono::milliseconds grace,
                                           const CancelSignal* cancel = nullptr);

// Under the environment lock: if the store holds a RUNNING record of another deployment,
// its deployer died or lost the lock before recording an outcome. Appends it to the
// history as INTERRUPTED, with what is known (who, when, version, the step logs it left
// on this machine), and clears it. A RUNNING record that holds a finished deployment's
// outcome (its deployer could not write it all, record_outcome.hpp) is recorded as it is,
// history and state. Returns the id of that deployment, or "".
std::string record_interrupted(StateStore& store, const std::string& environment_id,
                               const std::string& found_by);

// The end of a deployment whose lock was lost (DESIGN §9 "Fencing"): recorded LOCK_LOST
// (unless the new holder recorded it already), the state left alone; returns the record
// (the deployment exits 4).
DeploymentRecord record_lock_lost(StateStore& store, const std::string& environment_id,
                                  DeploymentRecord record);

}  // namespace depctl
