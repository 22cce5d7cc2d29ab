// The history record of one deployment (or stop), typed (DESIGN §5). JSON appears only
// where a record is stored or printed: to_json / from_json, whose form is the one of
// docs/json-output.md, so history written by earlier versions still reads.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "depctl/status.hpp"

namespace depctl {

// One step of a service, or a hook (then `name` is the hook's name, stored as "name").
struct StepRecord {
    std::string name;  // build, deploy, health, stop, ... or pre-deploy / post-deploy
    StepStatus status = StepStatus::not_started;
    int exit_code = 0;
    std::int64_t duration_ms = 0;
    std::string log;
    std::string error;      // empty = none (not stored)
    int attempts = 0;       // stored only when above 1
    std::string build_key;  // build steps only
    // Milliseconds from the deployment's start to the step's; absent for a step never run
    // (and in records written before it was kept). The timeline places steps by it.
    std::optional<std::int64_t> start_ms;
    int probes = 0;  // a health step's probes, stored only when more than its attempts

    // Whether the step ran, to any end: what it did may have taken effect (a deploy step
    // that ran may have replaced the version). A step cancelled before it started has no
    // start time.
    bool ran() const;
};

// A dependency the plan honoured, by name, so a record explains its waits on its own.
struct DependencyRecord {
    std::string service;
    std::string condition = "healthy";
};

struct ServiceRecord {
    std::string id;
    std::string name;
    std::string type;
    ServiceStatus status = ServiceStatus::not_started;
    std::vector<StepRecord> steps;
    std::vector<DependencyRecord> depends_on;  // stored always (empty array when none)
    // The service's definition as deployed (commands, env, ...), for whole-environment
    // rollback: an object in deploy records ({} when it holds nothing but defaults), null in
    // stop records and in records written before definitions were kept (not stored).
    nlohmann::json definition = nlohmann::json::object();
    // The version this service was deployed at when it is not the record's (an environment
    // rollback gives each service its own); empty = the record's (not stored).
    std::string version;
};

struct StageRecord {
    std::size_t position = 0;
    std::string name;
    std::vector<ServiceRecord> services;
    std::vector<std::string> left_out;
};

struct FailedStep {
    std::string service;
    std::string step;
    int exit_code = 0;
    StepStatus status = StepStatus::failed;
    std::string log;
    std::string error;
};

// Who found a deployment whose deployer died, and what it left (INTERRUPTED records).
struct InterruptedInfo {
    std::string found_by;           // the id of the deployment that found it
    std::string found_at;           // ISO 8601
    std::vector<std::string> logs;  // the step logs it left on this machine
};

// `environment deploy --on-failure rollback` (DESIGN §9): after the forward part failed, the
// services whose release or deploy step ran went back to their previous version and
// definition. Stored in the record as `on_failure_rollback` (docs/json-output.md).
struct FailureRollback {
    // DEPLOYED: every service went back (the record says ROLLED_BACK); FAILED: a step of the
    // rollback failed (the record says FAILED); CANCELED: cut short by a cancel.
    DeploymentStatus status = DeploymentStatus::deployed;
    std::string started_at;
    std::int64_t duration_ms = 0;
    // The services redeployed at their previous version (each with its own `version` and
    // the previous `definition`), then those stopped because they had none.
    std::vector<StageRecord> stages;
    std::vector<std::string> stopped;     // never deployed before: their stop command ran
    std::vector<std::string> left_as_is;  // never deployed before and no stop command
    std::optional<FailedStep> failed_step;
};

struct DeploymentRecord {
    enum class Operation { deploy, stop };

    std::string id;
    Operation operation = Operation::deploy;
    std::string project;
    std::string environment_id;
    std::string environment;
    std::string version;
    DeploymentStatus status = DeploymentStatus::running;
    std::string trigger;
    std::string user;
    std::string host;
    std::int64_t pid = 0;
    std::string started_at;
    std::string finished_at;
    std::int64_t duration_ms = 0;
    int parallelism = 0;
    bool rollback = false;  // stored only when true
    // `environment rollback`: the deployment whose services' versions and definitions this
    // one restored (DESIGN §9); empty = none (not stored).
    std::string rolled_back_to;
    std::vector<StepRecord> hooks;
    std::vector<StageRecord> stages;
    std::optional<FailedStep> failed_step;  // stored as null when none
    // The environment lock's fencing token this deployment held (etcd: the lock key's
    // revision); absent when the backend has none.
    std::optional<std::int64_t> fencing_token;
    // Why a deployment ended without an outcome of its steps (INTERRUPTED, LOCK_LOST); empty
    // = none (not stored).
    std::string error;
    std::optional<InterruptedInfo> interrupted;          // INTERRUPTED records only
    std::optional<FailureRollback> on_failure_rollback;  // absent = none
    // Top-level fields this version does not know (written by a newer one, or by hand):
    // kept so that reading and printing a record never drops what it holds.
    nlohmann::json unknown_fields = nlohmann::json::object();

    nlohmann::json to_json() const;
    // Tolerant of fields that older versions did not write; Error{Corrupt} on a field of
    // the wrong type or an unknown status.
    static DeploymentRecord from_json(const nlohmann::json& j);

    std::size_t service_count() const;
    // The version `service` (one of this record's) was deployed at.
    const std::string& version_of(const ServiceRecord& service) const {
        return service.version.empty() ? version : service.version;
    }
};

}  // namespace depctl
