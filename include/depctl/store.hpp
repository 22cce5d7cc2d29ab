// Where the state lives. Every caller goes through StateStore, so the etcd backend can
// replace the file backend without changing a caller (DESIGN §2, §7).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "depctl/model.hpp"

namespace depctl {

class CancelSignal;

// Who holds a lock: shown to whoever is refused, used by `environment cancel`.
struct LockHolder {
    std::string user;
    std::string host;
    int pid = 0;
    std::string since;          // ISO 8601 UTC
    std::string deployment_id;  // when the lock is a deployment lock
    std::string operation;      // "deploy", "stop", ...

    static LockHolder current_process(std::string operation);
    std::string describe() const;  // "alice@ci-3 (pid 4242, deploy dep_x since ...)"
    nlohmann::json to_json() const;
    static LockHolder from_json(const nlohmann::json& j);
};

// Held while an environment is being deployed or stopped; released by the destructor.
// The kernel (file backend) or a lease (etcd backend) frees it if the holder dies.
class EnvironmentLock {
public:
    virtual ~EnvironmentLock() = default;
    virtual const LockHolder& holder() const = 0;
    // Grows with every acquisition of this environment's lock (DESIGN §9 "Fencing"); steps
    // get it as DEPCTL_FENCING_TOKEN. 0 when the backend has none.
    virtual std::int64_t fencing_token() const { return 0; }
    // True once the backend knows the lock is no longer ours (etcd: the lease expired while
    // the holder could not renew it, e.g. frozen or cut off). `on_loss` is called once, from
    // another thread, when that is found (DESIGN §9 "Fencing").
    virtual bool lost() const { return false; }
    virtual void on_loss(std::function<void()> callback) { (void)callback; }
};

struct StoreOptions {
    std::chrono::milliseconds lock_timeout{10000};
};

// How lock_environment waits (DESIGN §9 "Queue"): not at all (busy at once, also when
// others are queued), in the environment's first come, first served queue, or in the queue
// replacing every older waiter that also came with `newest` (each exits Error{Busy}
// "superseded by a newer deployment ...").
enum class LockWait { no, yes, newest };

// A narrower read of the history than list_history, for the deploy's own look-ups (build
// reuse, duration estimates), which must not parse every record ever written.
struct HistoryFilter {
    // A hint: a backend may leave out records whose serialised form (compact JSON, as
    // nlohmann's dump() writes it) does not contain this text. Callers still check the
    // fields of what they get.
    std::string containing;
    std::size_t newest = 0;  // at most this many of the newest matching records; 0 = all
};

class StateStore {
public:
    virtual ~StateStore() = default;

    // Human-readable location for messages: a path or an etcd URL.
    virtual std::string location() const = 0;
    // Creates the state; refuses (Error{Refused}) if one exists there already.
    virtual void initialize(const State& state) = 0;
    // Refuses (Error{Refused}), writing nothing, a state this backend could not store
    // (etcd: an environment over the request limit). Lets a caller refuse before it starts.
    virtual void check_fits(const State& state) { (void)state; }
    virtual State load() = 0;
    // Read-modify-write under the exclusive state lock: runs `change` on the current state,
    // validates the result and commits it atomically. Nothing is written if `change` throws
    // or leaves the state as it was. Returns the committed state.
    virtual State transact(const std::function<void(State&)>& change) = 0;

    // One deployment (or stop) per environment at a time. Throws Error{Busy} naming the
    // holder (or how many wait), or waits for it in the environment's queue when `wait` is
    // yes or newest.
    virtual std::unique_ptr<EnvironmentLock> lock_environment(const std::string& environment_id,
                                                              const LockHolder& me,
                                                              LockWait wait) = 0;
    // Ctrl-C and SIGTERM end a lock wait (LockWait::yes/newest) with Error{Canceled}: nothing
    // ran, and the waiter's place in the queue is given up.
    void cancel_waits_on(const CancelSignal* cancel) { m_wait_cancel = cancel; }
    virtual std::optional<LockHolder> environment_lock_holder(
        const std::string& environment_id) = 0;

    // Append-only deployment history, one JSON record per deployment, oldest first.
    virtual void append_history(const std::string& environment_id,
                                const nlohmann::json& record) = 0;
    virtual std::vector<nlohmann::json> list_history(const std::string& environment_id) = 0;
    // The end of a deployment (DESIGN §9 "Fencing"): appends `record` to the history and
    // commits `change`, only while the environment's lock acquired with `fencing_token` is
    // still held. Returns false, having written neither, when it is not (etcd: one txn that
    // also compares the lock key's create revision). The default writes one after the
    // other: the file store's lock is the kernel's, held until the process dies. When a
    // write fails, throws with what could not be written (DESIGN §9 "Failure while
    // recording"; the file store also leaves the outcome in the RUNNING record).
    virtual bool commit_deployment(const std::string& environment_id, const nlohmann::json& record,
                                   const std::function<void(State&)>& change,
                                   std::int64_t fencing_token) {
        (void)fencing_token;
        append_history(environment_id, record);
        transact(change);
        return true;
    }
    // Oldest first, like list_history. The default filters list_history's result.
    virtual std::vector<nlohmann::json> query_history(const std::string& environment_id,
                                                      const HistoryFilter& filter) {
        std::vector<nlohmann::json> records = list_history(environment_id);
        if (filter.newest > 0 && records.size() > filter.newest) {
            records.erase(records.begin(),
                          records.end() - static_cast<std::ptrdiff_t>(filter.newest));
        }
        return records;
    }

    // The record of the deployment under way (status RUNNING), kept while it runs and
    // cleared when its outcome is recorded: the next lock holder that finds one knows
    // that its deployer died (DESIGN §9 "Honest status"). `reserve`: bytes to keep
    // allocated for the same deployment's final record, so that it can still be put here
    // when the disk is full (DESIGN §9 "Failure while recording"; the file store pads the
    // file with spaces and overwrites it in place; etcd ignores it).
    virtual void put_running_record(const std::string& environment_id, const nlohmann::json& record,
                                    std::size_t reserve) = 0;
    virtual std::optional<nlohmann::json> running_record(const std::string& environment_id) = 0;
    virtual void clear_running_record(const std::string& environment_id) = 0;

    // Step logs stay on the machine that ran them, under this directory.
    virtual std::filesystem::path log_root() const = 0;
    // Base directory for services' relative workdirs.
    virtual std::filesystem::path project_dir() const = 0;

protected:
    const CancelSignal* m_wait_cancel = nullptr;
};

// Where a command's state lives: `--state`, else DEPCTL_STATE, else the nearest
// `.depctl/state.json` walking up from `cwd` (like git). With `for_init`, the default is
// `cwd/.depctl/state.json` without searching.
std::string resolve_state_location(const std::optional<std::string>& flag,
                                   const std::filesystem::path& cwd, bool for_init);

// ISO 8601 UTC timestamp of now, with milliseconds.
std::string now_iso8601();

}  // namespace depctl
