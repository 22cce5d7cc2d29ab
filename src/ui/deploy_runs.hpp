// Deployments started from the web console: each runs the core's deploy_environment on a
// thread of its own and keeps its events (the `-o json` events) for server-sent events.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "depctl/deploy.hpp"
#include "depctl/error.hpp"
#include "depctl/store.hpp"
#include "util/cancel.hpp"

namespace depctl::ui {

class DeployRun : public DeployObserver {
public:
    DeployRun(std::string id, std::string environment_id);
    ~DeployRun() override;

    const std::string& id() const { return m_id; }
    const std::string& environment_id() const { return m_environment_id; }
    void start(std::unique_ptr<StateStore> store, DeployRequest request);
    // Blocks until the deployment started or was refused before starting (then throws
    // that refusal, e.g. the environment is locked or needs approval).
    void wait_started();
    void cancel() { m_cancel.request(CancelLevel::graceful); }

    // Events from index `from` on, waiting up to `wait` for at least one; `done` is set
    // when no event will follow.
    std::vector<nlohmann::json> events_from(std::size_t from, std::chrono::milliseconds wait,
                                            bool& done);
    bool finished();

    void deployment_started(const Plan&, const std::string&, const std::string&) override;
    void step_started(const Plan&, std::size_t) override;
    void step_finished(const Plan&, std::size_t, const StepReport&) override;
    void hook_finished(const std::string&, const StepReport&) override;
    bool wants_output() const override { return true; }
    void step_output(const Plan&, std::size_t, std::string_view) override;
    void cancel_requested(CancelLevel) override;
    void rollback_started(const Plan&, const Plan&) override;
    void rollback_finished(DeploymentStatus) override;

private:
    void push(nlohmann::json event, bool last = false);
    std::string m_id;
    std::string m_environment_id;
    CancelSignal m_cancel;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<nlohmann::json> m_events;
    bool m_finished = false;
    std::optional<Error> m_refusal;
    std::thread m_thread;
};

class DeployRuns {
public:
    ~DeployRuns();
    std::shared_ptr<DeployRun> start(std::unique_ptr<StateStore> store, DeployRequest request);
    std::shared_ptr<DeployRun> find(const std::string& id);
    // The newest run of the environment that has not finished, if any.
    std::shared_ptr<DeployRun> running_in(const std::string& environment_id);
    void cancel_all();

private:
    std::mutex m_mutex;
    std::map<std::string, std::shared_ptr<DeployRun>> m_runs;
};

}  // namespace depctl::ui
