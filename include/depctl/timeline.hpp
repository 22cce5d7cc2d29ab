// A recorded deployment placed in time, and why each of its steps started when it did
// (`deployment timeline` and `deployment explain`, DESIGN §10). Times are milliseconds
// from the deployment's start, as the history record stores them.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "depctl/plan.hpp"
#include "depctl/record.hpp"

namespace depctl {

inline constexpr long long k_not_started = -1;

struct TimelineStep {
    std::string step;    // build, release, deploy, health, stop
    std::string status;  // SUCCEEDED, FAILED, REUSED, NOT_STARTED, ...
    long long start_ms = k_not_started;
    long long duration_ms = 0;
    int exit_code = 0;
    bool ran() const { return start_ms != k_not_started; }
    long long end_ms() const { return start_ms + duration_ms; }
};

struct TimelineDependency {
    std::size_t service = 0;  // index into DeploymentTimeline::services
    std::string condition;    // healthy, started, completed
};

struct TimelineService {
    std::string name;
    std::string type;
    std::string status;
    std::size_t stage = 0;  // index into DeploymentTimeline::stages
    std::vector<TimelineStep> steps;
    std::vector<TimelineDependency> depends_on;
};

struct TimelineStage {
    std::size_t position = 0;
    std::string name;
    std::vector<std::size_t> services;
};

struct DeploymentTimeline {
    std::string id;
    std::string environment;
    std::string version;
    std::string status;
    std::string operation;   // deploy or stop
    std::string started_at;  // ISO 8601, UTC
    long long duration_ms = 0;
    int parallelism = 1;
    long long steps_from_ms = 0;  // when steps could start: after the pre-deploy hook
    std::vector<TimelineStage> stages;
    std::vector<TimelineService> services;
    std::vector<std::pair<std::string, TimelineStep>> hooks;  // pre-deploy, post-deploy
};

// Throws Error{Refused} when the record has no step times (written before depctl recorded
// them), with the way out.
DeploymentTimeline timeline_from_record(const DeploymentRecord& record);

// What a step waited for, in the order the waits ended.
enum class WaitKind { start, step, stage, dependency, worker };
std::string_view to_string(WaitKind kind);

struct Wait {
    WaitKind kind;
    std::string what;       // "build", a stage name, a service name; empty for worker/start
    std::string condition;  // for a dependency
    long long from_ms = 0;
    long long until_ms = 0;
    long long ms() const { return until_ms - from_ms; }
};

struct StepRef {
    std::size_t service = 0;
    std::size_t step = 0;  // index into TimelineService::steps
};

struct StepExplanation {
    StepRef ref;
    long long ready_ms = 0;   // every prerequisite done
    std::vector<Wait> waits;  // from steps_from_ms up to the step's start
};

struct CriticalLink {
    StepRef ref;
    Wait via;  // what linked it to the previous link (kind start for the first)
};

struct PoolUse {
    int parallelism = 1;
    long long wall_ms = 0;  // first step start to last step end
    long long busy_ms = 0;  // sum of step durations
    long long idle_ms = 0;  // parallelism * wall - busy
};

struct Explanation {
    std::vector<StepExplanation> steps;  // every step that ran, by start time
    std::vector<CriticalLink> critical_path;
    long long critical_ms = 0;
    PoolUse pool;
};

Explanation explain_deployment(const DeploymentTimeline& timeline);
nlohmann::json explanation_to_json(const DeploymentTimeline& timeline, const Explanation& e,
                                   const std::string& only_service = {});
// Plain text for a terminal; `color` adds ANSI colours to statuses and the critical path.
std::string explanation_text(const DeploymentTimeline& timeline, const Explanation& e,
                             const std::string& only_service, bool color);

}  // namespace depctl
