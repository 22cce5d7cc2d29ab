// Stage, service and environment operations: pure functions on the model that either
// apply a whole change or throw Error{Refused} and leave their input untouched in spirit
// (callers run them inside a store transaction, which discards the copy on error).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "depctl/model.hpp"

namespace depctl {

inline constexpr const char* k_default_stage_description =
    "Rename me to avoid default/legacy ordering";

// --- lookups: case-insensitive, "did you mean" on failure -------------------------------
Environment& find_environment(State& state, std::string_view name);
const Environment& find_environment(const State& state, std::string_view name);
Stage& find_stage(Environment& env, std::string_view name);
const Stage& find_stage(const Environment& env, std::string_view name);
Service& find_service(Environment& env, std::string_view name);
const Service& find_service(const Environment& env, std::string_view name);

// The stage a new service of `type` goes to: the type's default (HELM uses APPLICATION's),
// tracked by id through renames; the last stage if that default was deleted.
const Stage& default_stage_for(const Environment& env, ServiceType type);

// --- project and environments -----------------------------------------------------------
State new_state(std::string_view project_name);
void rename_project(State& state, std::string_view new_name);
void set_enforced_order(State& state, const std::vector<std::string>& environment_names);

struct EnvironmentCreate {
    std::string name;
    EnvironmentType type = EnvironmentType::development;
    std::optional<std::string> clone_from;  // environment name
};
Environment& create_environment(State& state, const EnvironmentCreate& request);

struct EnvironmentEdit {
    std::optional<std::string> new_name;
    std::optional<EnvironmentType> type;
    std::optional<bool> require_approval;
    std::optional<std::string> pre_deploy;
    std::optional<std::string> post_deploy;
};
void edit_environment(State& state, std::string_view name, const EnvironmentEdit& edit);
void delete_environment(State& state, std::string_view name);

// --- stages -------------------------------------------------------------------------------
struct Placement {
    enum class Kind { end, before, after, position } kind = Kind::end;
    std::string stage;  // for before/after
    int position = 0;   // 1-based, for position
};
Stage& create_stage(Environment& env, std::string_view name, std::string_view description,
                    const Placement& where);
// A stage's cap on services rolling out at once (1 to k_max_parallelism); nullopt removes it.
void set_stage_max_parallel(Environment& env, std::string_view name, std::optional<int> cap);
void edit_stage(Environment& env, std::string_view name, const std::optional<std::string>& new_name,
                const std::optional<std::string>& new_description);
// Returns the names of the services moved out (empty when the stage was empty).
std::vector<std::string> delete_stage(Environment& env, std::string_view name,
                                      const std::optional<std::string>& move_services_to);
void reorder_stage(Environment& env, std::string_view name, const Placement& where);
// Returns the stage's final name (as stored) for messages.
const Stage& move_service(Environment& env, std::string_view service, std::string_view stage);
void set_skipped(Environment& env, std::string_view service, bool skipped);

// --- services -------------------------------------------------------------------------------
// Every option of `service create/edit`; unset fields are left as they are.
struct ServiceChanges {
    std::optional<std::string> new_name;
    std::optional<ServiceType> type;
    std::optional<std::string> stage;
    std::optional<std::string> workdir;
    std::optional<std::string> build;
    std::optional<std::string> release;
    std::optional<std::string> deploy;
    std::optional<std::string> stop;
    std::optional<std::string> health_http;
    std::optional<std::string> health_cmd;
    std::optional<int> health_attempts;
    std::optional<double> health_interval_s;
    std::optional<double> health_connect_timeout_s;
    std::optional<double> health_timeout_s;
    std::optional<std::string> health_expect;
    std::optional<double> health_start_period_s;
    std::optional<int> build_timeout_s;
    std::optional<int> deploy_timeout_s;
    std::optional<int> retries;
    std::optional<VersionFrom> version_from;
    std::vector<std::string> env_set;  // "K=V"
    std::vector<std::string> env_unset;
    std::vector<std::string> secret_set;  // "K=env:VAR" | "K=file:PATH"
    std::vector<std::string> secret_unset;

    bool empty() const;
};
// Whether create_service looks through the environment for a service of the same name
// (one command's create), or the caller has made sure there is none (the pipeline file,
// which checks its names in one pass: a scan per service is quadratic at 20,000 services).
enum class NameCheck { scan, done_by_caller };
Service& create_service(Environment& env, std::string_view name, ServiceType type,
                        const ServiceChanges& options, NameCheck check = NameCheck::scan);
void edit_service(Environment& env, std::string_view name, const ServiceChanges& changes);
void delete_service(Environment& env, std::string_view name);
// Adds the edge, or changes the condition of an existing one; the same edge with the same
// condition is refused.
void add_dependency(Environment& env, std::string_view service, std::string_view on,
                    EdgeCondition condition = EdgeCondition::healthy);
void remove_dependency(Environment& env, std::string_view service, std::string_view on);

// Names of the services that depend on `service_id`.
std::vector<std::string> dependents_of(const Environment& env, std::string_view service_id);

}  // namespace depctl
