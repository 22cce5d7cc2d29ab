// The deploy narrative. Read top to bottom: deploy_environment() is the story.
#include "depctl/deploy.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "core/deploy/deploy_plan.hpp"
#include "core/deploy/execution.hpp"
#include "core/deploy/failure_rollback.hpp"
#include "core/deploy/interrupted.hpp"
#include "core/deploy/outcome_room.hpp"
#include "core/deploy/record_outcome.hpp"
#include "core/deploy/step_runner.hpp"
#include "core/record/history_record.hpp"
#include "depctl/build_cache.hpp"
#include "depctl/env_rollback.hpp"
#include "depctl/error.hpp"
#include "depctl/executor.hpp"
#include "depctl/history.hpp"
#include "depctl/names.hpp"
#include "depctl/promotion.hpp"
#include "depctl/rules.hpp"
#include "depctl/secrets.hpp"
#include "depctl/step_estimates.hpp"
#include "util/files.hpp"
#include "util/process.hpp"
#include "util/step_guard.hpp"

namespace depctl {
namespace fs = std::filesystem;

namespace {

// Everything a deploy or stop shares once the plan is made: lock, hooks, execution,
// record. `approve` runs under the lock, before anything else happens.
struct Operation {
    HistoryRecord::Operation kind;
    const State& state;
    const Environment& env;
    Plan plan;
    std::string version;
    std::string pre_hook;
    std::string post_hook;
    nlohmann::json restores = nullptr;  // environment rollback: what it restores
};

// Makes the operation from a state. It runs twice: before the lock, so that a refusal costs
// nothing, and again under it from the state read there, so that what runs (and what an
// approval shows) is the definition as it is once nobody else can deploy (DESIGN §5).
using Planner = std::function<Operation(const State&)>;

// The secrets of a plan's services, resolved (and their values masked in logs, their env:
// sources scrubbed from the steps' environment).
void resolve_plan_secrets(StepRunContext& context, const Plan& plan) {
    std::vector<std::pair<std::string, std::string>> every_secret;
    context.secrets.clear();
    for (const PlannedService& ps : plan.services) {
        for (const auto& secret : ps.service.secrets) {
            if (secret.source.rfind("env:", 0) == 0)
                context.scrub.push_back(secret.source.substr(4));
        }
        context.secrets.push_back(resolve_secrets(ps.service));
        every_secret.insert(every_secret.end(), context.secrets.back().begin(),
                            context.secrets.back().end());
    }
    context.mask = mask_patterns(every_secret);
}

// The context every step runs in, with the secrets of the planned services resolved.
StepRunContext context_with_secrets(StateStore& store, const DeployRequest& request,
                                    const Operation& op) {
    StepRunContext context{
        op.state.project.name, op.env.name, {}, op.version, store.project_dir(), {},
        request.grace,         {},          {}, {}};
    for (const Service& s : op.env.services) {
        for (const auto& secret : s.secrets) {
            if (secret.source.rfind("env:", 0) == 0)
                context.scrub.push_back(secret.source.substr(4));
        }
    }
    resolve_plan_secrets(context, op.plan);
    return context;
}

void check_parallelism(int parallelism) {
    if (parallelism < 1 || parallelism > 1024) {
        throw Error(ErrorKind::Refused,
                    "parallelism " + std::to_string(parallelism) + " is out of range",
                    "allowed: 1 to 1024");
    }
}

// Runs, shows and records a pre- or post-deploy hook, alike; true if none or it succeeded.
bool run_hook(StepRunner& runner, const char* name, const std::string& command,
              CancelSignal& cancel, DeployObserver& observer, HistoryRecord& record) {
    if (command.empty()) return true;
    const auto started = std::chrono::steady_clock::now();
    StepReport report = runner.run_hook(name, command, cancel);
    report.started = started;
    observer.hook_finished(name, report);
    record.add_hook(name, report);
    return report.status == StepStatus::succeeded;
}

// The outcome and its exit code: 0 for the good ends, else canceled or failed. A failed
// deployment whose --on-failure rollback was cancelled exits as cancelled (docs/decisions.md).
DeployOutcome outcome_of(const DeploymentRecord& record) {
    if (deployment_ok(record.status)) return {record, 0};
    const bool rollback_canceled = record.on_failure_rollback &&
                                   record.on_failure_rollback->status == DeploymentStatus::canceled;
    if (record.status == DeploymentStatus::canceled || rollback_canceled)
        return {record, exit_code_of(ErrorKind::Canceled)};
    return {record, exit_code_of(ErrorKind::Failed)};
}

DeployOutcome nothing_changed() {
    DeployOutcome outcome{{}, 0};
    outcome.nothing_changed = true;
    return outcome;
}

// The result of a deployment none of whose steps started.
ExecResult nothing_ran(const Plan& plan) {
    return {std::vector<StepState>(plan.steps.size(), StepState::not_started), false, false};
}

// The plan's steps through the executor (none if a cancel came first), their reports kept.
ExecResult run_steps(const Plan& plan, const StepRunContext& context, DeployObserver& observer,
                     int parallelism, CancelSignal& cancel, std::vector<StepReport>& reports) {
    if (cancel.level() != CancelLevel::none) return nothing_ran(plan);
    Execution execution(plan, context, observer);
    ExecResult result = execution.run(parallelism, cancel);
    reports = execution.reports();
    return result;
}

// What a deployer holds while it runs: the environment's lock and the steps lock.
struct Held {
    LockHolder me;
    std::unique_ptr<EnvironmentLock> lock;
    std::unique_ptr<StepsLock> steps_lock;
    // Started with the first step, ended (and waited for) before the steps lock is let go.
    std::unique_ptr<StepGuard> guard;
};

// Takes the environment's lock (waiting for it with --wait, cancellable), then the steps
// lock: steps of a dead deployer end before any of ours start; then it is recorded.
Held hold_environment(StateStore& store, const DeployRequest& request, CancelSignal& cancel,
                      const Operation& first) {
    Held held{LockHolder::current_process(first.kind == HistoryRecord::Operation::stop ? "stop"
                                                                                       : "deploy"),
              {},
              {},
              {}};
    held.me.deployment_id = new_id("dep_");
    store.cancel_waits_on(&cancel);
    held.lock = store.lock_environment(first.env.id, held.me, request.wait);
    store.cancel_waits_on(nullptr);
    held.steps_lock = take_steps_lock(store, first.env.id, request.grace, &cancel);
    held.guard = std::make_unique<StepGuard>(held.steps_lock->held_fd());
    held.guard->start_early();  // its exec overlaps the planning and the running record
    record_interrupted(store, first.env.id, held.me.deployment_id);
    return held;
}

// --on-failure rollback (DESIGN §9): after a failure (not a cancel, not a lost lock), still
// under the lock and before the record, the services whose release or deploy step ran go
// back to their previous version and definition; the record holds both halves.
void roll_back_on_failure(StateStore& store, const DeployRequest& request, CancelSignal& cancel,
                          DeployObserver& observer, const Operation& op,
                          const StepRunContext& context, const Held& held, HistoryRecord& record) {
    const DeploymentStatus status = record.record().status;
    if (request.on_failure != OnFailure::rollback || deployment_ok(status) ||
        status == DeploymentStatus::canceled || cancel.level() != CancelLevel::none ||
        held.lock->lost())
        return;
    const std::set<std::string> ran = services_that_ran(record.record());
    if (ran.empty()) return;  // nothing changed: nothing to undo
    FailureRollback back;
    try {
        FailureRollbackPlan plan =
            plan_failure_rollback(op.env, ran, load_history(store, op.env.id));
        if (!request.force_build) mark_reused_builds(plan.redeploy, store, op.state, op.version);
        observer.rollback_started(plan.redeploy, plan.stop);
        const RunRollbackPlan run = [&](const Plan& part, std::vector<StepReport>& reports) {
            StepRunContext part_context = context;
            resolve_plan_secrets(part_context, part);
            part_context.log_dir = context.log_dir / "rollback";  // beside the forward's logs
            ensure_own_directory(part_context.log_dir);
            ExecResult result =
                run_steps(part, part_context, observer, request.parallelism, cancel, reports);
            // A cancel before the part started, or as its last step ended, is a cancel too.
            if (cancel.level() != CancelLevel::none) result.canceled = true;
            return result;
        };
        back = run_failure_rollback(plan, record.record(), held.me, run);
    } catch (const std::exception& e) {  // a previous definition unreadable, a secret gone
        back.status = DeploymentStatus::deployment_error;
        back.failed_step = FailedStep{"", "rollback", 0, StepStatus::failed, "", e.what()};
    }
    observer.rollback_finished(back.status);
    record.set_failure_rollback(std::move(back));
}

// Room for the final record, so that a disk that fills up meanwhile cannot lose it; with
// --on-failure rollback, room for its rollback half too.
std::size_t final_record_room(StateStore& store, const DeployRequest& request,
                              const Operation& op) {
    std::size_t room = record_room(op.plan);
    if (request.on_failure == OnFailure::rollback)
        room += failure_rollback_room(op.env, op.plan, load_history(store, op.env.id));
    return room;
}

DeployOutcome run_operation(StateStore& store, const DeployRequest& request, CancelSignal& cancel,
                            DeployObserver& observer, const State& state, const Planner& plan_for,
                            const std::function<void(const Operation&)>& approve) {
    check_parallelism(request.parallelism);
    const Operation first = plan_for(state);
    // --only-changed, nothing changed: no lock, no hooks, no record (asked again under it).
    if (request.only_changed && first.plan.services.empty()) return nothing_changed();
    // Secrets are read before the lock: a missing one fails the deploy before any step.
    (void)context_with_secrets(store, request, first);
    const Held held = hold_environment(store, request, cancel, first);
    const LockHolder& me = held.me;
    const auto& lock = held.lock;

    // The plan that runs is made from the state read under the lock: while this deployer
    // waited, another may have deployed, or someone edited a service (`--wait`, or the
    // moment between the first read and the lock).
    const State locked_state = store.load();
    const Operation op = plan_for(locked_state);
    if (request.only_changed && op.plan.services.empty()) return nothing_changed();
    StepRunContext context = context_with_secrets(store, request, op);
    if (approve) approve(op);
    context.guard = held.guard.get();
    context.fencing_token = lock->fencing_token();
    // A lost lock (DESIGN §9 "Fencing"): no new step, the running ones killed at once.
    lock->on_loss([&cancel] { cancel.request(CancelLevel::immediate); });
    context.deployment_id = me.deployment_id;
    context.log_dir = store.log_root() / me.deployment_id;
    ensure_own_directory(store.log_root());
    ensure_own_directory(context.log_dir);
    HistoryRecord record(op.kind, op.plan, op.state.project.name, op.version, me, request.trigger,
                         request.parallelism);
    record.set_rollback(request.rollback || request.environment_rollback);
    if (op.restores.is_object()) record.set_rolled_back_to(op.restores.value("to", ""));
    check_outcome_fits(store, locked_state, op.plan, op.kind, record.record());
    store.put_running_record(op.env.id, record.record().to_json(),
                             final_record_room(store, request, op));
    StepRunner runner(op.plan, context, observer);
    observer.deployment_started(op.plan, me.deployment_id, op.version);

    // The pre-deploy hook runs before any step: it may stop a scheduler or take a backup.
    bool hooks_ok = run_hook(runner, "pre-deploy", op.pre_hook, cancel, observer, record);

    std::vector<StepReport> reports(op.plan.steps.size());
    ExecResult result =
        hooks_ok ? run_steps(op.plan, context, observer, request.parallelism, cancel, reports)
                 : nothing_ran(op.plan);
    if (cancel.level() != CancelLevel::none) result.canceled = true;

    // The post-deploy hook runs only after a complete rollout.
    if (hooks_ok && !result.failed && !result.canceled)
        hooks_ok = run_hook(runner, "post-deploy", op.post_hook, cancel, observer, record);

    // Record while still holding the lock, so the next deploy sees this one's outcome.
    record.finish(result, reports, hooks_ok, cancel.level() != CancelLevel::none);
    roll_back_on_failure(store, request, cancel, observer, op, context, held, record);
    // The final write is conditional on the lock (DESIGN §9 "Fencing"): a loss that the
    // keep-alive has not seen yet still refuses it.
    if (lock->lost() || !record_outcome(store, record.record(), lock->fencing_token()))
        return {record_lock_lost(store, op.env.id, record.record()), exit_code_of(ErrorKind::Busy)};

    return outcome_of(record.record());
}

// `environment rollback` (DESIGN §9): each service's own version; no enforced order.
Operation rollback_operation(StateStore& store, const State& s, const Environment& env,
                             const DeployRequest& request, std::optional<PastDurations>& past) {
    RollbackPlan rb =
        plan_environment_rollback(store, s, env, request.rollback_to, request.force_build);
    past = rank_by_past_durations(rb.plan, store, env.id);
    return Operation{HistoryRecord::Operation::deploy,
                     s,
                     env,
                     std::move(rb.plan),
                     rb.rollback.target_version,
                     env.pre_deploy,
                     env.post_deploy,
                     rb.rollback.to_json()};
}

}  // namespace

// The version a deploy runs: the one asked for, or the rollback target, checked against
// the promotion order (as in github/branch-deploy; a rollback skips it).
std::string checked_version(StateStore& store, const State& state, const Environment& env,
                            const DeployRequest& request, const std::string& resolved) {
    const std::string version =
        request.rollback ? rollback_version(store, env, request.version) : resolved;
    if (request.rollback) return version;
    const PromotionVerdict verdict = check_enforced_order(store, state, env, version);
    if (!verdict.allowed) {
        throw Error(
            ErrorKind::Policy,
            "cannot deploy " + version + " to " + show_name(env.name) + ": " + verdict.message(),
            "deploy " + version + " to the earlier environments first, or use --rollback");
    }
    return version;
}

const Environment& environment_in(const State& state, const std::string& environment_id) {
    const Environment* env = state.find_environment_by_id(environment_id);
    if (!env) throw Error(ErrorKind::Refused, "environment not found");
    return *env;
}

DeployOutcome deploy_environment(StateStore& store, const State& state,
                                 const DeployRequest& request, CancelSignal& cancel,
                                 DeployObserver& observer, const ApprovalPrompt& approve) {
    // The version of the code is fixed when the command starts (git HEAD now), not when the
    // lock is free; everything else is planned from the state (see Planner).
    const bool from_history = request.rollback || request.environment_rollback;
    const std::string resolved =
        from_history ? std::string() : resolve_version(request.version, store.project_dir());
    std::optional<PastDurations> past;
    const Planner plan_for = [&](const State& s) {
        const Environment& env = environment_in(s, request.environment_id);
        if (request.environment_rollback) return rollback_operation(store, s, env, request, past);
        const std::string version = checked_version(store, s, env, request, resolved);
        PlanOptions options(request.services);
        if (!request.rollback)  // one earlier version for every service: no own versions
            options =
                deploy_plan_options(store, env, std::move(options), request.only_changed, version);
        Plan plan = make_plan(env, options);
        if (!request.force_build) mark_reused_builds(plan, store, s, version);
        past = rank_by_past_durations(plan, store, env.id);
        return Operation{HistoryRecord::Operation::deploy,
                         s,
                         env,
                         std::move(plan),
                         version,
                         env.pre_deploy,
                         env.post_deploy};
    };

    // Approval (Spryker's Please_approve): under the lock, of the plan that will run.
    // Asked of the environment as it is under the lock: switched on or off while this deploy
    // waited, it is what holds now.
    std::function<void(const Operation&)> approval;
    if (!request.assume_yes) {
        approval = [&](const Operation& op) {
            if (!op.env.require_approval) return;
            if (!approve) {
                throw Error(ErrorKind::Policy,
                            "environment " + show_name(op.env.name) + " requires approval",
                            "pass --yes, or run from a terminal to be asked; nothing was run");
            }
            DeployPreview preview{op.plan,
                                  op.version,
                                  {},
                                  nlohmann::json::object(),
                                  request.rollback || request.environment_rollback,
                                  estimate_of(op.plan, *past, request.parallelism),
                                  op.restores};
            if (!approve(preview)) {
                throw Error(ErrorKind::Policy,
                            "deployment of " + show_name(op.env.name) + " was not approved",
                            "nothing was run");
            }
        };
    }
    return run_operation(store, request, cancel, observer, state, plan_for, approval);
}

DeployOutcome stop_environment(StateStore& store, const State& state, const DeployRequest& request,
                               CancelSignal& cancel, DeployObserver& observer) {
    const Planner plan_for = [&](const State& s) {
        const Environment& env = environment_in(s, request.environment_id);
        return Operation{HistoryRecord::Operation::stop,
                         s,
                         env,
                         make_stop_plan(env, {request.services}),
                         {},
                         {},
                         {}};
    };
    return run_operation(store, request, cancel, observer, state, plan_for, {});
}

}  // namespace depctl
