// The deploy narrative. Read top to bottom: deploy_environment() is the story.
#include "depctl/deploy.hpp"

#include <cstdlib>
#include <mutex>

#include "depctl/error.hpp"
#include "depctl/executor.hpp"
#include "depctl/file_util.hpp"
#include "depctl/names.hpp"
#include "depctl/process.hpp"
#include "history_record.hpp"
#include "step_runner.hpp"

namespace depctl {
namespace fs = std::filesystem;

std::string resolve_version(const std::optional<std::string>& explicit_version, const fs::path& project_dir) {
    if (explicit_version) {
        const std::string version = trim(*explicit_version);
        if (version.empty() || version.size() > 200 || version.find_first_of("\r\n\t") != std::string::npos) {
            throw Error(ErrorKind::Refused, "invalid version " + show_name(*explicit_version));
        }
        return version;
    }
    if (const char* from_env = std::getenv("DEPCTL_VERSION"); from_env && *from_env) {
        return resolve_version(std::string(from_env), project_dir);
    }
    std::string output;
    ProcessSpec git{"git rev-parse HEAD", project_dir, {}, std::chrono::milliseconds(10000), std::chrono::milliseconds(1000)};
    const ProcessResult result = run_process(git, [&](std::string_view chunk) { output.append(chunk); }, nullptr);
    const std::string head = trim(output);
    if (result.end == ProcessEnd::exited && result.exit_code == 0 && head.size() == 40) return head;
    throw Error(ErrorKind::Refused, "cannot tell which version to deploy",
                "pass --version V, set DEPCTL_VERSION, or run inside a git repository with a commit");
}

nlohmann::json DeployPreview::to_json() const {
    nlohmann::json out = plan_to_json(plan);
    out["dry_run"] = true;
    out["version"] = version.empty() ? nlohmann::json(nullptr) : nlohmann::json(version);
    if (!version_problem.empty()) out["version_problem"] = version_problem;
    return out;
}

std::string DeployPreview::to_text() const {
    std::string out = "Dry run: deploy of environment \"" + plan.environment_name + "\", version " +
                      (version.empty() ? "(unresolved: " + version_problem + ")" : version) + "\n\n";
    out += render_plan_text(plan);
    std::size_t steps = 0;
    for (const auto& step : plan.steps) steps += step.kind != StepKind::barrier;
    out += std::to_string(plan.services.size()) + " services, " + std::to_string(steps) +
           " steps. Nothing was run and nothing was written.\n";
    return out;
}

DeployPreview preview_deployment(StateStore& store, const DeployRequest& request) {
    const State state = store.load();
    const Environment* env = state.find_environment_by_id(request.environment_id);
    if (!env) throw Error(ErrorKind::Refused, "environment not found");
    DeployPreview preview{make_plan(*env, {request.services}), {}, {}};
    try {
        preview.version = resolve_version(request.version, store.project_dir());
    } catch (const Error& e) {
        preview.version_problem = e.what();
    }
    return preview;
}

namespace {

// Turns executor callbacks into observer calls and collects every step's report.
class Execution {
public:
    Execution(const Plan& plan, StepRunner& runner, DeployObserver& observer)
        : m_plan(plan), m_runner(runner), m_observer(observer), m_reports(plan.steps.size()) {}

    ExecResult run(int parallelism, CancelSignal& cancel) {
        std::vector<ExecStep> steps;
        steps.reserve(m_plan.steps.size());
        for (std::size_t i = 0; i < m_plan.steps.size(); ++i) {
            const PlanStep& step = m_plan.steps[i];
            const bool build = step.kind == StepKind::build;
            std::string name = step.kind == StepKind::barrier
                                   ? "barrier"
                                   : m_plan.services[step.service].service.name + "/" + std::string(to_string(step.kind));
            steps.push_back({std::move(name), build ? StepClass::build : StepClass::deploy, step.deps, step.priority,
                             [this, i](StepContext& context) { return run_step(i, context); }});
        }
        return execute(steps, {parallelism}, cancel, [this](const ExecEvent& event) { on_event(event); });
    }

    const std::vector<StepReport>& reports() const { return m_reports; }

private:
    StepOutcome run_step(std::size_t i, StepContext& context) {
        if (m_plan.steps[i].kind == StepKind::barrier) return StepOutcome::succeeded;
        StepReport report = m_runner.run(i, context.cancel);
        const StepOutcome outcome = report.status == "SUCCEEDED" ? StepOutcome::succeeded
                                    : report.status == "CANCELED" ? StepOutcome::canceled
                                                                  : StepOutcome::failed;
        m_reports[i] = std::move(report);  // each slot is written by exactly one worker
        return outcome;
    }

    void on_event(const ExecEvent& event) {
        if (m_plan.steps[event.step].kind == StepKind::barrier) return;
        if (event.kind == ExecEventKind::started) {
            m_observer.step_started(m_plan, event.step);
        } else {
            m_observer.step_finished(m_plan, event.step, m_reports[event.step]);
        }
    }

    const Plan& m_plan;
    StepRunner& m_runner;
    DeployObserver& m_observer;
    std::vector<StepReport> m_reports;
};

}  // namespace

DeployOutcome deploy_environment(StateStore& store, const DeployRequest& request, CancelSignal& cancel,
                                 DeployObserver& observer) {
    if (request.parallelism < 1 || request.parallelism > 1024) {
        throw Error(ErrorKind::Refused, "parallelism " + std::to_string(request.parallelism) + " is out of range",
                    "allowed: 1 to 1024");
    }
    const State state = store.load();
    const Environment* env = state.find_environment_by_id(request.environment_id);
    if (!env) throw Error(ErrorKind::Refused, "environment not found");

    // Everything that can be refused is checked before the lock, so a refusal costs nothing.
    const std::string version = resolve_version(request.version, store.project_dir());
    Plan plan = make_plan(*env, {request.services});

    LockHolder me = LockHolder::current_process("deploy");
    me.deployment_id = new_id("dep_");
    const auto lock = store.lock_environment(env->id, me, request.wait);

    const fs::path log_dir = store.log_root() / me.deployment_id;
    ensure_directory(store.log_root());
    ensure_directory(log_dir);
    HistoryRecord record(plan, state.project.name, version, me, request.trigger, request.parallelism);
    StepRunner runner(plan, {state.project.name, env->name, me.deployment_id, version, store.project_dir(), log_dir,
                             request.grace},
                      observer);
    observer.deployment_started(plan, me.deployment_id, version);

    // The pre-deploy hook runs before any step: it may stop a scheduler or take a backup.
    bool hooks_ok = true;
    if (!env->pre_deploy.empty()) {
        const StepReport report = runner.run_hook("pre-deploy", env->pre_deploy, cancel);
        observer.hook_finished("pre-deploy", report);
        record.add_hook("pre-deploy", report);
        hooks_ok = report.status == "SUCCEEDED";
    }

    ExecResult result{std::vector<StepState>(plan.steps.size(), StepState::not_started), false, false};
    std::vector<StepReport> reports(plan.steps.size());
    if (hooks_ok && cancel.level() == CancelLevel::none) {
        Execution execution(plan, runner, observer);
        result = execution.run(request.parallelism, cancel);
        reports = execution.reports();
    }
    if (cancel.level() != CancelLevel::none) result.canceled = true;

    // The post-deploy hook runs only after a complete rollout.
    if (hooks_ok && !result.failed && !result.canceled && !env->post_deploy.empty()) {
        const StepReport report = runner.run_hook("post-deploy", env->post_deploy, cancel);
        observer.hook_finished("post-deploy", report);
        record.add_hook("post-deploy", report);
        hooks_ok = report.status == "SUCCEEDED";
    }

    // Record while still holding the lock, so the next deploy sees this one's outcome.
    record.finish(result, reports, hooks_ok, cancel.level() != CancelLevel::none);
    store.append_history(env->id, record.json());
    store.transact([&](State& s) { record.apply_to(s); });

    DeployOutcome outcome;
    outcome.record = record.json();
    outcome.status = record.status();
    outcome.exit_code = outcome.status == k_status_deployed ? 0 : outcome.status == k_status_canceled ? 130 : 1;
    return outcome;
}

}  // namespace depctl
