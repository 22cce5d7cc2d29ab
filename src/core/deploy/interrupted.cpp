#include "core/deploy/interrupted.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "core/record/apply_record.hpp"
#include "depctl/error.hpp"

namespace depctl {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_listed_logs = 1000;
constexpr std::chrono::milliseconds k_steps_lock_margin{5000};

// The step logs a deployment left on this machine: the steps it started.
std::vector<std::string> logs_left(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        names.push_back(it->path().filename().string());
        if (names.size() == k_listed_logs) break;
    }
    std::sort(names.begin(), names.end());
    return names;
}

bool in_history(StateStore& store, const std::string& environment_id, const std::string& id) {
    for (const auto& r : store.query_history(environment_id, {"\"id\":\"" + id + "\"", 8}))
        if (r.value("id", "") == id) return true;
    return false;
}

// The record of a deployment that ran to its end but could not write all of it (disk
// full, etcd refused): into the history unless it got there, into the state again (that
// changes nothing when the state took it), then cleared.
std::string finish_recording(StateStore& store, const std::string& environment_id,
                             const DeploymentRecord& record, const nlohmann::json& stored) {
    if (!in_history(store, environment_id, record.id)) store.append_history(environment_id, stored);
    store.transact([&](State& s) { apply_record_to_state(record, s); });
    store.clear_running_record(environment_id);
    return record.id;
}

}  // namespace

StepsLock::StepsLock(FileLock lock) : m_lock(std::move(lock)) {
    m_held = ::fcntl(m_lock.fd(), F_DUPFD_CLOEXEC, 10);
    if (m_held < 0) throw_errno("cannot duplicate the steps lock descriptor", errno);
}

StepsLock::~StepsLock() {
    ::close(m_held);
}

std::unique_ptr<StepsLock> take_steps_lock(const StateStore& store,
                                           const std::string& environment_id,
                                           std::chrono::milliseconds grace,
                                           const CancelSignal* cancel) {
    const fs::path dir = store.log_root() / ".steps";
    ensure_own_directory(store.log_root());  // never a link: the lock file is depctl's own
    ensure_own_directory(dir);
    FileLock lock =
        FileLock::acquire(dir / (environment_id + ".lock"), grace + k_steps_lock_margin, cancel);
    if (!lock.locked() && cancel && cancel->level() != CancelLevel::none) {
        throw Error(ErrorKind::Canceled,
                    "canceled while waiting for the steps of an earlier deployment of this "
                    "environment to end",
                    "nothing was run and nothing was recorded");
    }
    if (!lock.locked()) {
        throw Error(ErrorKind::Busy,
                    "steps of an earlier deployment of this environment are still running on "
                    "this machine",
                    "their deployer is gone and they did not end within the grace period; find "
                    "them with `ps -eo pid,pgid,args` and end them, then try again");
    }
    return std::make_unique<StepsLock>(std::move(lock));
}

std::string record_interrupted(StateStore& store, const std::string& environment_id,
                               const std::string& found_by) {
    const auto running = store.running_record(environment_id);
    if (!running || !running->is_object()) return {};
    const std::string id = running->value("id", "");
    if (id == found_by) return {};
    // A finished deployment whose recording failed (record_outcome.hpp): finished now. One
    // that cannot be read is recorded INTERRUPTED below, like a RUNNING one, so that the
    // environment is never stuck behind it.
    if (running->value("status", "") != to_string(DeploymentStatus::running)) {
        std::optional<DeploymentRecord> finished;
        try {
            finished = DeploymentRecord::from_json(*running);
        } catch (const Error&) {
        }
        if (finished) return finish_recording(store, environment_id, *finished, *running);
    }
    // Killed after its record was appended but before this one was cleared: recorded.
    if (in_history(store, environment_id, id)) {
        store.clear_running_record(environment_id);
        return {};
    }
    DeploymentRecord record;
    try {
        record = DeploymentRecord::from_json(*running);
    } catch (const Error&) {
        // Written by a newer or broken depctl: what is readable of it is kept as it is.
        record.id = id;
        record.unknown_fields = *running;
        record.unknown_fields.erase("status");
    }
    record.status = DeploymentStatus::interrupted;
    record.finished_at = now_iso8601();
    record.failed_step.reset();
    record.error = "the deployer (pid " + std::to_string(record.pid) + " on " +
                   (record.host.empty() ? std::string("?") : record.host) +
                   ") ended without recording an outcome: killed, crashed or lost its lock; "
                   "the outcome of the steps it started is unknown";
    record.interrupted = InterruptedInfo{found_by, record.finished_at, {}};
    const bool plain_id = id.rfind("dep_", 0) == 0 && id.find('/') == std::string::npos &&
                          id.find("..") == std::string::npos;
    if (plain_id) record.interrupted->logs = logs_left(store.log_root() / id);
    if (!id.empty()) store.append_history(environment_id, record.to_json());
    store.clear_running_record(environment_id);
    return id;
}

DeploymentRecord record_lock_lost(StateStore& store, const std::string& environment_id,
                                  DeploymentRecord record) {
    record.status = DeploymentStatus::lock_lost;
    record.error =
        "the deployer lost the environment's lock (its lease expired, or the lock key changed "
        "before the final write) while the deployment ran: no step was started after the loss "
        "was found and the running ones were killed; the state was not written, another "
        "deployer may hold the lock";
    // The new holder may already have recorded this deployment INTERRUPTED (it found its
    // running record, which is then no longer ours to clear): recorded once.
    if (!in_history(store, environment_id, record.id))
        store.append_history(environment_id, record.to_json());
    return record;
}

}  // namespace depctl
