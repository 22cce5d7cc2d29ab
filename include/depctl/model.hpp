// The project model: Project, Environment, Stage, Service, and the state that holds them.
// Objects carry stable ids; references between them use ids so renames are free.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace depctl {

inline constexpr int k_schema_version = 1;

enum class ServiceType { application, container, database, job, helm };
inline constexpr std::array<ServiceType, 5> k_service_types = {
    ServiceType::application, ServiceType::container, ServiceType::database, ServiceType::job,
    ServiceType::helm};

std::string_view to_string(ServiceType type);                          // "APPLICATION", ...
std::optional<ServiceType> parse_service_type(std::string_view text);  // any letter case

enum class EnvironmentType { development, staging, production };
std::string_view to_string(EnvironmentType type);
std::optional<EnvironmentType> parse_environment_type(std::string_view text);

struct Stage {
    std::string id;
    std::string name;
    std::string description;
    // At most this many of the stage's services in their release/deploy/health steps at
    // once (DESIGN §9, per-stage caps); unset = only the deploy's --parallelism bounds them.
    std::optional<int> max_parallel{};
};

struct SecretRef {
    std::string key;
    std::string source;  // "env:VAR" or "file:PATH" — where the value comes from, never the value
};

struct HealthCheck {
    std::string http;  // URL, or empty
    std::string cmd;   // command, or empty
    std::optional<int> attempts;
    std::optional<double> interval_s;
    std::optional<double> connect_timeout_s;
    std::optional<double> timeout_s;
    std::string expect;  // status range like "200-499", empty = default rule
    // Failures within this many seconds of the first attempt do not count (compose's
    // start_period): a slow starter gets its grace without raising `attempts`.
    std::optional<double> start_period_s;
    bool empty() const { return http.empty() && cmd.empty(); }
};

// What a dependent waits for on a depends_on edge (DESIGN §9): the other service's health
// step (the default), its deploy step only (compose's service_started), or every step of it
// (compose's service_completed_successfully: meant for jobs that run to the end).
enum class EdgeCondition { healthy, started, completed };
inline constexpr std::array<EdgeCondition, 3> k_edge_conditions = {
    EdgeCondition::healthy, EdgeCondition::started, EdgeCondition::completed};
std::string_view to_string(EdgeCondition condition);                       // "healthy", ...
std::optional<EdgeCondition> parse_edge_condition(std::string_view text);  // any letter case

// Where a service's version comes from (DESIGN §9 "Only what changed"): the deployment's
// (--version, DEPCTL_VERSION, the project's git HEAD), or the git tree hash of the service's
// own workdir, so that in a monorepo a commit that touches one service changes one version.
enum class VersionFrom { project, git_tree };
std::string_view to_string(VersionFrom from);                          // "project", "git-tree"
std::optional<VersionFrom> parse_version_from(std::string_view text);  // any letter case

// One depends_on edge: the service waited for, by id, and what is waited for.
struct Dependency {
    std::string id;
    EdgeCondition condition = EdgeCondition::healthy;
    bool operator==(const Dependency&) const = default;
};

// What the last deployment did to a service; written by the deploy engine.
struct ServiceCurrent {
    std::string version;
    std::string status;  // DEPLOYED, BUILD_ERROR, DEPLOYMENT_ERROR, CANCELED, STOPPED, ...
    std::string updated_at;
    std::string deployment_id;
    bool empty() const { return status.empty(); }
};

struct Service {
    std::string id;
    std::string name;
    ServiceType type = ServiceType::application;
    std::string stage_id;
    bool skipped = false;
    std::string workdir;
    std::string build;
    std::string release;
    std::string deploy;
    std::string stop;
    HealthCheck health;
    std::map<std::string, std::string> env;
    std::vector<SecretRef> secrets;
    std::optional<int> build_timeout_s;
    std::optional<int> deploy_timeout_s;
    std::optional<int> retries;
    std::vector<Dependency> depends_on;
    VersionFrom version_from = VersionFrom::project;
    ServiceCurrent current;
};

struct Environment {
    std::string id;
    std::string name;
    EnvironmentType type = EnvironmentType::development;
    bool require_approval = false;
    std::string pre_deploy;
    std::string post_deploy;
    std::vector<Stage> stages;  // in deployment order
    // Default stage per service type, by stage id; absent when the default was deleted.
    std::map<std::string, std::string> default_stages;
    std::vector<Service> services;  // in creation order

    const Stage* find_stage_by_id(std::string_view id) const;
    const Service* find_service_by_id(std::string_view id) const;
    Service* find_service_by_id(std::string_view id);
    std::size_t stage_index(std::string_view stage_id) const;  // npos when absent
};

struct Project {
    std::string id;
    std::string name;
    std::vector<std::string> enforced_order;  // environment ids
    // SHA-256 (hex) of the pipeline file last applied; empty when the state never came
    // from a file. Lets the CLI warn that a definition edit will be undone (DESIGN §8).
    std::string applied_file_sha256;
};

struct State {
    int schema_version = k_schema_version;
    Project project;
    std::vector<Environment> environments;

    const Environment* find_environment_by_id(std::string_view id) const;
    Environment* find_environment_by_id(std::string_view id);
    // Letter case folded as iequals folds it (names are unique that way).
    const Environment* find_environment_by_name(std::string_view name) const;
};

// Fresh random id with a type prefix: "env_", "stg_", "svc_", "prj_", "dep_".
std::string new_id(std::string_view prefix);

nlohmann::json to_json(const State& state);
nlohmann::json to_json(const Service& service);
nlohmann::json to_json(const Stage& stage);
// Parses and checks a whole state document; throws Error{Store} describing what is wrong.
State state_from_json(const nlohmann::json& doc);
// Serialises the state as the bytes written to disk (pretty, trailing newline).
std::string serialize_state(const State& state);
// `corrupt_hint` is the hint of an unreadable state (what was left where, how to repair).
inline constexpr const char* k_file_corrupt_hint =
    "the file was left as it is; restore it from a backup or fix it by hand";
State parse_state(std::string_view bytes, std::string_view origin,
                  const char* corrupt_hint = k_file_corrupt_hint);

}  // namespace depctl
