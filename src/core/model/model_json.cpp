// JSON (de)serialisation of the state. Optional and empty fields are left out on write
// so the file stays small and diffs stay readable.
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <type_traits>

#include "core/record/definition.hpp"
#include "depctl/error.hpp"
#include "depctl/model.hpp"
#include "depctl/rules.hpp"
#include "depctl/state_fast_read.hpp"
#include "depctl/state_fast_write.hpp"
#include "depctl/validate.hpp"

namespace depctl {

using nlohmann::json;

namespace {

void put_if(json& j, const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
}

template <typename T>
void put_if(json& j, const char* key, const std::optional<T>& value) {
    if (value) j[key] = *value;
}

std::string get_string(const json& j, const char* key, bool required = false) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required) throw Error(ErrorKind::Corrupt, std::string("missing field \"") + key + "\"");
        return {};
    }
    if (!it->is_string())
        throw Error(ErrorKind::Corrupt, std::string("field \"") + key + "\" is not a string");
    return it->get<std::string>();
}

bool get_bool(const json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end()) return false;
    if (!it->is_boolean())
        throw Error(ErrorKind::Corrupt, std::string("field \"") + key + "\" is not a boolean");
    return it->get<bool>();
}

// The limits the CLI enforces (rules.hpp), so that a hand-edited state cannot hold what the
// CLI refuses: a negative timeout would mean "no timeout".
constexpr double k_max_seconds = k_max_timeout_s;
constexpr double k_positive = std::numeric_limits<double>::min();

// Checked against [low, high] before the conversion: a double outside int's range
// converts with undefined behaviour.
template <typename T>
std::optional<T> get_number(const json& j, const char* key, double low, double high) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_number())
        throw Error(ErrorKind::Corrupt, std::string("field \"") + key + "\" is not a number");
    const double value = it->get<double>();
    if (!(value >= low && value <= high)) {
        std::ostringstream range;
        range.precision(15);
        range << "field \"" << key << "\" is out of range: " << it->dump() << " (allowed: ";
        if (low == k_positive) {
            range << "more than 0 up";
        } else {
            range << low;
        }
        range << " to " << high << ")";
        throw Error(ErrorKind::Corrupt, range.str());
    }
    if (std::is_integral_v<T> && value != std::floor(value)) {
        throw Error(ErrorKind::Corrupt,
                    std::string("field \"") + key + "\" is not a whole number: " + it->dump());
    }
    return static_cast<T>(value);
}

const json& get_array(const json& j, const char* key) {
    static const json k_empty = json::array();
    const auto it = j.find(key);
    if (it == j.end()) return k_empty;
    if (!it->is_array())
        throw Error(ErrorKind::Corrupt, std::string("field \"") + key + "\" is not an array");
    return *it;
}

const json& get_object(const json& j, const char* key) {
    static const json k_empty = json::object();
    const auto it = j.find(key);
    if (it == j.end()) return k_empty;
    if (!it->is_object())
        throw Error(ErrorKind::Corrupt, std::string("field \"") + key + "\" is not an object");
    return *it;
}

void require_object(const json& j, const std::string& what) {
    if (!j.is_object()) throw Error(ErrorKind::Corrupt, what + " is not an object");
}

Stage stage_from_json(const json& j) {
    require_object(j, "a stage");
    return Stage{get_string(j, "id", true), get_string(j, "name", true),
                 get_string(j, "description"),
                 get_number<int>(j, "max_parallel", 1, k_max_parallelism)};
}

HealthCheck health_from_json(const json& j) {
    require_object(j, "a health check");
    HealthCheck h;
    h.http = get_string(j, "http");
    h.cmd = get_string(j, "cmd");
    h.attempts = get_number<int>(j, "attempts", 1, k_max_attempts);
    h.interval_s = get_number<double>(j, "interval_s", k_positive, k_max_seconds);
    h.connect_timeout_s = get_number<double>(j, "connect_timeout_s", k_positive, k_max_seconds);
    h.timeout_s = get_number<double>(j, "timeout_s", k_positive, k_max_seconds);
    h.expect = get_string(j, "expect");
    h.start_period_s = get_number<double>(j, "start_period_s", k_positive, k_max_seconds);
    return h;
}

// A depends_on entry: a plain service id is a `healthy` edge (every state written before
// edge conditions, and the short form kept for it); any other condition is an object
// {"condition": "...", "id": "svc_..."}.
Dependency dependency_from_json(const json& dep) {
    if (dep.is_string()) return {dep.get<std::string>(), EdgeCondition::healthy};
    if (!dep.is_object())
        throw Error(ErrorKind::Corrupt, "a depends_on entry is neither an id nor an object");
    const std::string condition = get_string(dep, "condition", true);
    const auto parsed = parse_edge_condition(condition);
    if (!parsed || condition != to_string(*parsed))
        throw Error(ErrorKind::Corrupt, "unknown depends_on condition \"" + condition + "\"");
    return {get_string(dep, "id", true), *parsed};
}

json dependency_to_json(const Dependency& dep) {
    if (dep.condition == EdgeCondition::healthy) return dep.id;
    return {{"condition", std::string(to_string(dep.condition))}, {"id", dep.id}};
}

Service service_from_json(const json& j) {
    require_object(j, "a service");
    Service s;
    s.id = get_string(j, "id", true);
    s.name = get_string(j, "name", true);
    const std::string type = get_string(j, "type", true);
    const auto parsed = parse_service_type(type);
    if (!parsed) throw Error(ErrorKind::Corrupt, "unknown service type \"" + type + "\"");
    s.type = *parsed;
    s.stage_id = get_string(j, "stage_id", true);
    s.skipped = get_bool(j, "skipped");
    s.workdir = get_string(j, "workdir");
    s.build = get_string(j, "build");
    s.release = get_string(j, "release");
    s.deploy = get_string(j, "deploy");
    s.stop = get_string(j, "stop");
    s.health = health_from_json(get_object(j, "health"));
    for (const auto& [key, value] : get_object(j, "env").items()) {
        if (!value.is_string())
            throw Error(ErrorKind::Corrupt, "env value of \"" + key + "\" is not a string");
        s.env[key] = value.get<std::string>();
    }
    for (const auto& secret : get_array(j, "secrets")) {
        require_object(secret, "a secret");
        s.secrets.push_back({get_string(secret, "key", true), get_string(secret, "source", true)});
    }
    s.build_timeout_s = get_number<int>(j, "build_timeout_s", 1, k_max_seconds);
    s.deploy_timeout_s = get_number<int>(j, "deploy_timeout_s", 1, k_max_seconds);
    s.retries = get_number<int>(j, "retries", 0, k_max_retries);
    for (const auto& dep : get_array(j, "depends_on"))
        s.depends_on.push_back(dependency_from_json(dep));
    if (const std::string from = get_string(j, "version_from"); !from.empty()) {
        const auto parsed_from = parse_version_from(from);
        if (!parsed_from) throw Error(ErrorKind::Corrupt, "unknown version_from \"" + from + "\"");
        s.version_from = *parsed_from;
    }
    const json& current = get_object(j, "current");
    s.current = {get_string(current, "version"), get_string(current, "status"),
                 get_string(current, "updated_at"), get_string(current, "deployment_id")};
    return s;
}

Environment environment_from_json(const json& j) {
    require_object(j, "an environment");
    Environment e;
    e.id = get_string(j, "id", true);
    e.name = get_string(j, "name", true);
    const std::string type = get_string(j, "type");
    if (!type.empty()) {
        const auto parsed = parse_environment_type(type);
        if (!parsed) throw Error(ErrorKind::Corrupt, "unknown environment type \"" + type + "\"");
        e.type = *parsed;
    }
    e.require_approval = get_bool(j, "require_approval");
    e.pre_deploy = get_string(j, "pre_deploy");
    e.post_deploy = get_string(j, "post_deploy");
    for (const auto& stage : get_array(j, "stages")) e.stages.push_back(stage_from_json(stage));
    for (const auto& [type_name, stage_id] : get_object(j, "default_stages").items()) {
        if (!parse_service_type(type_name) || !stage_id.is_string()) {
            throw Error(ErrorKind::Corrupt, "bad default_stages entry \"" + type_name + "\"");
        }
        e.default_stages[type_name] = stage_id.get<std::string>();
    }
    for (const auto& service : get_array(j, "services"))
        e.services.push_back(service_from_json(service));
    return e;
}

}  // namespace

Service parse_service(const json& j) {
    return service_from_json(j);
}

json to_json(const Stage& stage) {
    json j = {{"id", stage.id}, {"name", stage.name}};
    put_if(j, "description", stage.description);
    put_if(j, "max_parallel", stage.max_parallel);
    return j;
}

json to_json(const Service& s) {
    json j = {
        {"id", s.id}, {"name", s.name}, {"type", to_string(s.type)}, {"stage_id", s.stage_id}};
    if (s.skipped) j["skipped"] = true;
    put_if(j, "workdir", s.workdir);
    put_if(j, "build", s.build);
    put_if(j, "release", s.release);
    put_if(j, "deploy", s.deploy);
    put_if(j, "stop", s.stop);
    json health = json::object();
    put_if(health, "http", s.health.http);
    put_if(health, "cmd", s.health.cmd);
    put_if(health, "attempts", s.health.attempts);
    put_if(health, "interval_s", s.health.interval_s);
    put_if(health, "connect_timeout_s", s.health.connect_timeout_s);
    put_if(health, "timeout_s", s.health.timeout_s);
    put_if(health, "expect", s.health.expect);
    put_if(health, "start_period_s", s.health.start_period_s);
    if (!health.empty()) j["health"] = health;
    if (!s.env.empty()) j["env"] = s.env;
    if (!s.secrets.empty()) {
        json secrets = json::array();
        for (const auto& secret : s.secrets)
            secrets.push_back({{"key", secret.key}, {"source", secret.source}});
        j["secrets"] = secrets;
    }
    put_if(j, "build_timeout_s", s.build_timeout_s);
    put_if(j, "deploy_timeout_s", s.deploy_timeout_s);
    put_if(j, "retries", s.retries);
    if (!s.depends_on.empty()) {
        json deps = json::array();
        for (const Dependency& dep : s.depends_on) deps.push_back(dependency_to_json(dep));
        j["depends_on"] = deps;
    }
    if (s.version_from != VersionFrom::project) j["version_from"] = to_string(s.version_from);
    if (!s.current.empty()) {
        json current = json::object();
        put_if(current, "version", s.current.version);
        put_if(current, "status", s.current.status);
        put_if(current, "updated_at", s.current.updated_at);
        put_if(current, "deployment_id", s.current.deployment_id);
        j["current"] = current;
    }
    return j;
}

json to_json(const State& state) {
    json project = {{"id", state.project.id}, {"name", state.project.name}};
    if (!state.project.enforced_order.empty())
        project["enforced_order"] = state.project.enforced_order;
    put_if(project, "applied_file_sha256", state.project.applied_file_sha256);
    json environments = json::array();
    for (const auto& e : state.environments) {
        json env = {{"id", e.id}, {"name", e.name}, {"type", to_string(e.type)}};
        if (e.require_approval) env["require_approval"] = true;
        put_if(env, "pre_deploy", e.pre_deploy);
        put_if(env, "post_deploy", e.post_deploy);
        json stages = json::array();
        for (const auto& stage : e.stages) stages.push_back(to_json(stage));
        env["stages"] = stages;
        env["default_stages"] = e.default_stages;
        json services = json::array();
        for (const auto& service : e.services) services.push_back(to_json(service));
        env["services"] = services;
        environments.push_back(std::move(env));
    }
    return {{"schema_version", state.schema_version},
            {"project", project},
            {"environments", environments}};
}

State state_from_json(const json& doc) {
    require_object(doc, "the document");
    const auto version = get_number<int>(doc, "schema_version", std::numeric_limits<int>::min(),
                                         std::numeric_limits<int>::max());
    if (!version) throw Error(ErrorKind::Corrupt, "missing field \"schema_version\"");
    if (*version > k_schema_version) {
        throw Error(ErrorKind::Corrupt,
                    "state has schema_version " + std::to_string(*version) +
                        ", newer than this depctl supports (" + std::to_string(k_schema_version) +
                        ")",
                    "upgrade depctl");
    }
    if (*version < 1)
        throw Error(ErrorKind::Corrupt, "invalid schema_version " + std::to_string(*version));
    State state;
    state.schema_version = k_schema_version;  // older versions are migrated on write
    if (!doc.contains("project")) throw Error(ErrorKind::Corrupt, "missing field \"project\"");
    const json& project = doc.at("project");
    require_object(project, "the project");
    state.project.id = get_string(project, "id", true);
    state.project.name = get_string(project, "name", true);
    state.project.applied_file_sha256 = get_string(project, "applied_file_sha256");
    for (const auto& id : get_array(project, "enforced_order")) {
        if (!id.is_string())
            throw Error(ErrorKind::Corrupt, "an enforced_order entry is not a string");
        state.project.enforced_order.push_back(id.get<std::string>());
    }
    for (const auto& env : get_array(doc, "environments"))
        state.environments.push_back(environment_from_json(env));
    return state;
}

std::string serialize_state(const State& state) {
    if (auto fast = write_state_fast(state)) return std::move(*fast);
    return to_json(state).dump(2) + "\n";
}

State parse_state(std::string_view bytes, std::string_view origin, const char* corrupt_hint) {
    // The common case is read straight into the model (state_fast_read.cpp). Whatever that
    // reader does not fully understand, and a state it read that fails validation, are
    // read below through the JSON tree, whose rules and messages are the reference.
    if (auto fast = read_state_fast(bytes)) {
        try {
            validate_state(*fast, ErrorKind::Corrupt);
            return std::move(*fast);
        } catch (const Error&) {
        }
    }
    const std::string prefix = "state " + std::string(origin) + " is unreadable: ";
    try {
        json doc = json::parse(bytes.begin(), bytes.end());
        State state = state_from_json(doc);
        validate_state(state, ErrorKind::Corrupt);
        return state;
    } catch (const json::exception& e) {
        throw Error(ErrorKind::Corrupt, prefix + e.what(), corrupt_hint);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Corrupt) throw;
        throw Error(ErrorKind::Corrupt, prefix + e.what(),
                    e.hint().empty() ? corrupt_hint : e.hint());
    }
}

}  // namespace depctl
