#include "ui/deploy_runs.hpp"

#include <nlohmann/json.hpp>

#include "depctl/deploy_events.hpp"
#include "depctl/error.hpp"

namespace depctl::ui {
using nlohmann::json;

DeployRun::DeployRun(std::string id, std::string environment_id)
    : m_id(std::move(id)), m_environment_id(std::move(environment_id)) {}

DeployRun::~DeployRun() {
    m_cancel.request(CancelLevel::graceful);
    if (m_thread.joinable()) m_thread.join();
}

void DeployRun::start(std::unique_ptr<StateStore> store, DeployRequest request) {
    m_thread = std::thread([this, store = std::move(store), request = std::move(request)] {
        try {
            const State state = store->load();
            const DeployOutcome outcome =
                deploy_environment(*store, state, request, m_cancel, *this);
            push(deployment_finished_event(outcome), true);
        } catch (const Error& e) {
            std::lock_guard lock(m_mutex);
            m_refusal = e;
            m_events.push_back({{"event", "error"},
                                {"error", e.what()},
                                {"hint", e.hint()},
                                {"exit_code", e.exit_code()}});
            m_finished = true;
            m_changed.notify_all();
        } catch (const std::exception& e) {
            std::lock_guard lock(m_mutex);
            m_refusal = Error(ErrorKind::Io, e.what());
            m_events.push_back({{"event", "error"}, {"error", e.what()}, {"exit_code", 6}});
            m_finished = true;
            m_changed.notify_all();
        }
    });
}

void DeployRun::wait_started() {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return !m_events.empty() || m_finished; });
    if (m_refusal && m_events.size() == 1) throw *m_refusal;
}

void DeployRun::push(json event, bool last) {
    event["at"] = now_iso8601();
    std::lock_guard lock(m_mutex);
    m_events.push_back(std::move(event));
    if (last) m_finished = true;
    m_changed.notify_all();
}

std::vector<json> DeployRun::events_from(std::size_t from, std::chrono::milliseconds wait,
                                         bool& done) {
    std::unique_lock lock(m_mutex);
    m_changed.wait_for(lock, wait, [&] { return m_events.size() > from || m_finished; });
    std::vector<json> out;
    for (std::size_t i = from; i < m_events.size(); ++i) out.push_back(m_events[i]);
    done = m_finished;
    return out;
}

bool DeployRun::finished() {
    std::lock_guard lock(m_mutex);
    return m_finished;
}

void DeployRun::deployment_started(const Plan& plan, const std::string& id,
                                   const std::string& version) {
    push(deployment_started_event(plan, id, version));
}
void DeployRun::step_started(const Plan& plan, std::size_t step) {
    push(step_started_event(plan, step));
}
void DeployRun::step_finished(const Plan& plan, std::size_t step, const StepReport& report) {
    push(step_finished_event(plan, step, report));
}
void DeployRun::hook_finished(const std::string& name, const StepReport& report) {
    push(hook_finished_event(name, report));
}
void DeployRun::step_output(const Plan& plan, std::size_t step, std::string_view line) {
    push(output_event(plan, step, line));
}
void DeployRun::cancel_requested(CancelLevel level) {
    push(cancel_requested_event(level));
}
void DeployRun::rollback_started(const Plan& redeploy, const Plan& stop) {
    push(rollback_started_event(redeploy, stop));
}
void DeployRun::rollback_finished(DeploymentStatus status) {
    push(rollback_finished_event(status));
}

DeployRuns::~DeployRuns() {
    cancel_all();
}

std::shared_ptr<DeployRun> DeployRuns::start(std::unique_ptr<StateStore> store,
                                             DeployRequest request) {
    auto run = std::make_shared<DeployRun>(new_id("run_"), request.environment_id);
    {
        std::lock_guard lock(m_mutex);
        m_runs[run->id()] = run;
    }
    run->start(std::move(store), std::move(request));
    return run;
}

std::shared_ptr<DeployRun> DeployRuns::find(const std::string& id) {
    std::lock_guard lock(m_mutex);
    const auto it = m_runs.find(id);
    return it == m_runs.end() ? nullptr : it->second;
}

std::shared_ptr<DeployRun> DeployRuns::running_in(const std::string& environment_id) {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, run] : m_runs) {
        if (run->environment_id() == environment_id && !run->finished()) return run;
    }
    return nullptr;
}

void DeployRuns::cancel_all() {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, run] : m_runs) run->cancel();
}

}  // namespace depctl::ui
