#include "depctl/cancel_deployment.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "depctl/error.hpp"
#include "depctl/history.hpp"

namespace depctl {

nlohmann::json CancelOutcome::to_json() const {
    if (!was_running) return {{"was_running", false}};
    return {{"was_running", true},
            {"deployment_id", deployment_id},
            {"holder", holder.to_json()},
            {"status", final_status_text()}};
}

std::string CancelOutcome::final_status_text() const {
    return final_status ? std::string(to_string(*final_status))
                        : "UNKNOWN (the deployer ended without a record)";
}

CancelOutcome cancel_deployment(StateStore& store, const CancelRequest& request) {
    CancelOutcome outcome;
    const auto holder = store.environment_lock_holder(request.environment_id);
    if (!holder) return outcome;
    outcome.was_running = true;
    outcome.holder = *holder;
    outcome.deployment_id = holder->deployment_id;
    const LockHolder me = LockHolder::current_process("cancel");
    if (holder->host != me.host) {
        throw Error(ErrorKind::Refused,
                    "the deployment runs on " + holder->describe() + ", not on this host",
                    "run `depctl environment cancel` on " + holder->host);
    }
    // The deployer's signal thread turns SIGTERM into a graceful cancel (SIGTERM to every
    // step, SIGKILL after its grace) and SIGQUIT into an immediate one.
    if (::kill(holder->pid, request.force ? SIGQUIT : SIGTERM) != 0 && errno != ESRCH) {
        throw Error(ErrorKind::Refused,
                    "cannot signal " + holder->describe() + ": " + std::strerror(errno));
    }
    const auto deadline = std::chrono::steady_clock::now() + request.timeout;
    auto pause = std::chrono::milliseconds(10);
    for (;;) {
        const auto now_holder = store.environment_lock_holder(request.environment_id);
        if (!now_holder || now_holder->deployment_id != holder->deployment_id) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            throw Error(
                ErrorKind::Busy,
                "deployment " + holder->deployment_id + " did not finish within the timeout",
                "try `depctl environment cancel --force`");
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(200));
    }
    const auto records = load_history(store, request.environment_id);
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
        if (it->id == holder->deployment_id) {
            outcome.final_status = it->status;
            break;
        }
    }
    return outcome;
}

}  // namespace depctl
