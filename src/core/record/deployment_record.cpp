// DeploymentRecord <-> JSON: the record's stored and printed form (docs/json-output.md).
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <type_traits>
#include <utility>

#include "depctl/error.hpp"
#include "depctl/record.hpp"

namespace depctl {
namespace {

using json = nlohmann::json;

const std::set<std::string, std::less<>> k_known_fields = {"id",
                                                           "operation",
                                                           "project",
                                                           "environment_id",
                                                           "environment",
                                                           "version",
                                                           "status",
                                                           "trigger",
                                                           "user",
                                                           "host",
                                                           "pid",
                                                           "started_at",
                                                           "finished_at",
                                                           "duration_ms",
                                                           "parallelism",
                                                           "rollback",
                                                           "hooks",
                                                           "stages",
                                                           "failed_step",
                                                           "fencing_token",
                                                           "error",
                                                           "interrupted",
                                                           "rolled_back_to",
                                                           "on_failure_rollback"};

[[noreturn]] void corrupt(const std::string& what) {
    throw Error(ErrorKind::Corrupt, "a history record is unreadable: " + what,
                "the history was left as it is; restore it from a backup or fix it by hand");
}

const json& member(const json& j, const char* key) {
    static const json null_value;
    if (!j.is_object()) corrupt("expected an object holding \"" + std::string(key) + "\"");
    const auto it = j.find(key);
    return it == j.end() ? null_value : *it;
}

// Older records lack some fields: absent (or null) reads as the default. A number field
// must be an integer that fits T: nlohmann converts 1e300 to an integer with undefined
// behaviour, and a silent wrap would misreport a pid or a duration.
template <typename T>
T field(const json& j, const char* key, T fallback = T{}) {
    const json& value = member(j, key);
    if (value.is_null()) return fallback;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        const bool fits = (value.is_number_unsigned() &&
                           value.get<std::uint64_t>() <=
                               static_cast<std::uint64_t>(std::numeric_limits<T>::max())) ||
                          (value.is_number_integer() && !value.is_number_unsigned() &&
                           std::in_range<T>(value.get<std::int64_t>()));
        if (!fits) corrupt("field \"" + std::string(key) + "\" is not an integer in range");
        return value.is_number_unsigned() ? static_cast<T>(value.get<std::uint64_t>())
                                          : static_cast<T>(value.get<std::int64_t>());
    } else {
        try {
            return value.get<T>();
        } catch (const json::exception&) {
            corrupt("field \"" + std::string(key) + "\" has the wrong type");
        }
    }
}

const json& array_of(const json& j, const char* key) {
    static const json empty = json::array();
    const json& value = member(j, key);
    if (value.is_null()) return empty;
    if (!value.is_array()) corrupt("field \"" + std::string(key) + "\" is not an array");
    return value;
}

template <typename Enum>
Enum status_field(const json& j, std::optional<Enum> (*parse)(std::string_view), Enum fallback) {
    const json& value = member(j, "status");
    if (value.is_null()) return fallback;
    if (!value.is_string()) corrupt("field \"status\" is not a string");
    const auto parsed = parse(value.get_ref<const std::string&>());
    if (!parsed) corrupt("unknown status \"" + value.get<std::string>() + "\"");
    return *parsed;
}

json step_to_json(const StepRecord& s, const char* name_key) {
    json j = {{name_key, s.name},
              {"status", to_string(s.status)},
              {"exit_code", s.exit_code},
              {"duration_ms", s.duration_ms},
              {"log", s.log}};
    if (!s.error.empty()) j["error"] = s.error;
    if (s.attempts > 1) j["attempts"] = s.attempts;
    if (!s.build_key.empty()) j["build_key"] = s.build_key;
    if (s.start_ms) j["start_ms"] = *s.start_ms;
    if (s.probes > 0) j["probes"] = s.probes;
    return j;
}

StepRecord step_from_json(const json& j, const char* name_key) {
    StepRecord s;
    s.name = field<std::string>(j, name_key);
    s.status = status_field(j, parse_step_status, StepStatus::not_started);
    s.exit_code = field<int>(j, "exit_code");
    s.duration_ms = field<std::int64_t>(j, "duration_ms");
    s.log = field<std::string>(j, "log");
    s.error = field<std::string>(j, "error");
    s.attempts = field<int>(j, "attempts", 1);
    s.build_key = field<std::string>(j, "build_key");
    s.probes = field<int>(j, "probes");
    if (const json& start = member(j, "start_ms"); start.is_number_integer())
        s.start_ms = start.get<std::int64_t>();
    return s;
}

json service_to_json(const ServiceRecord& s) {
    json steps = json::array();
    for (const StepRecord& step : s.steps) steps.push_back(step_to_json(step, "step"));
    json depends_on = json::array();
    for (const DependencyRecord& dep : s.depends_on)
        depends_on.push_back({{"service", dep.service}, {"condition", dep.condition}});
    json j = {{"id", s.id},     {"name", s.name},
              {"type", s.type}, {"status", to_string(s.status)},
              {"steps", steps}, {"depends_on", depends_on}};
    if (s.definition.is_object()) j["definition"] = s.definition;
    if (!s.version.empty()) j["version"] = s.version;
    return j;
}

ServiceRecord service_from_json(const json& j) {
    ServiceRecord s;
    s.id = field<std::string>(j, "id");
    s.name = field<std::string>(j, "name");
    s.type = field<std::string>(j, "type");
    s.status = status_field(j, parse_service_status, ServiceStatus::not_started);
    for (const json& step : array_of(j, "steps")) s.steps.push_back(step_from_json(step, "step"));
    for (const json& dep : array_of(j, "depends_on"))
        s.depends_on.push_back(
            {field<std::string>(dep, "service"), field<std::string>(dep, "condition", "healthy")});
    const json& definition = member(j, "definition");
    s.definition = definition.is_object() ? definition : json();  // absent: an older record
    s.version = field<std::string>(j, "version");
    return s;
}

json failed_to_json(const FailedStep& f) {
    json j = {{"service", f.service},
              {"step", f.step},
              {"exit_code", f.exit_code},
              {"status", to_string(f.status)},
              {"log", f.log}};
    if (!f.error.empty()) j["error"] = f.error;
    return j;
}

FailedStep failed_from_json(const json& j) {
    return {
        field<std::string>(j, "service"), field<std::string>(j, "step"),
        field<int>(j, "exit_code"),       status_field(j, parse_step_status, StepStatus::failed),
        field<std::string>(j, "log"),     field<std::string>(j, "error")};
}

json stages_to_json(const std::vector<StageRecord>& stages) {
    json stage_list = json::array();
    for (const StageRecord& stage : stages) {
        json services_json = json::array();
        for (const ServiceRecord& s : stage.services) services_json.push_back(service_to_json(s));
        stage_list.push_back({{"position", stage.position},
                              {"name", stage.name},
                              {"services", services_json},
                              {"left_out", stage.left_out}});
    }
    return stage_list;
}

std::vector<StageRecord> stages_from_json(const json& j) {
    std::vector<StageRecord> out;
    for (const json& stage : array_of(j, "stages")) {
        StageRecord s{field<std::size_t>(stage, "position"),
                      field<std::string>(stage, "name"),
                      {},
                      field<std::vector<std::string>>(stage, "left_out")};
        for (const json& service : array_of(stage, "services"))
            s.services.push_back(service_from_json(service));
        out.push_back(std::move(s));
    }
    return out;
}

json failure_rollback_to_json(const FailureRollback& r) {
    return {{"status", to_string(r.status)},
            {"started_at", r.started_at},
            {"duration_ms", r.duration_ms},
            {"stages", stages_to_json(r.stages)},
            {"stopped", r.stopped},
            {"left_as_is", r.left_as_is},
            {"failed_step", r.failed_step ? failed_to_json(*r.failed_step) : json(nullptr)}};
}

FailureRollback failure_rollback_from_json(const json& j) {
    FailureRollback r;
    r.status = status_field(j, parse_deployment_status, DeploymentStatus::deployment_error);
    r.started_at = field<std::string>(j, "started_at");
    r.duration_ms = field<std::int64_t>(j, "duration_ms");
    r.stages = stages_from_json(j);
    r.stopped = field<std::vector<std::string>>(j, "stopped");
    r.left_as_is = field<std::vector<std::string>>(j, "left_as_is");
    if (const json& failed = member(j, "failed_step"); failed.is_object())
        r.failed_step = failed_from_json(failed);
    return r;
}

}  // namespace

json DeploymentRecord::to_json() const {
    json hook_list = json::array();
    for (const StepRecord& hook : hooks) hook_list.push_back(step_to_json(hook, "name"));
    const json stage_list = stages_to_json(stages);
    json j = {{"id", id},
              {"operation", operation == Operation::stop ? "stop" : "deploy"},
              {"project", project},
              {"environment_id", environment_id},
              {"environment", environment},
              {"version", version},
              {"status", to_string(status)},
              {"trigger", trigger},
              {"user", user},
              {"host", host},
              {"pid", pid},
              {"started_at", started_at},
              {"parallelism", parallelism},
              {"hooks", hook_list},
              {"stages", stage_list},
              {"failed_step", failed_step ? failed_to_json(*failed_step) : json(nullptr)},
              {"finished_at", finished_at},
              {"duration_ms", duration_ms}};
    if (rollback) j["rollback"] = true;
    if (!rolled_back_to.empty()) j["rolled_back_to"] = rolled_back_to;
    if (fencing_token) j["fencing_token"] = *fencing_token;
    if (!error.empty()) j["error"] = error;
    if (interrupted) {
        j["interrupted"] = {{"found_by", interrupted->found_by},
                            {"found_at", interrupted->found_at},
                            {"logs", interrupted->logs}};
    }
    if (on_failure_rollback)
        j["on_failure_rollback"] = failure_rollback_to_json(*on_failure_rollback);
    for (const auto& [key, value] : unknown_fields.items())
        if (!j.contains(key)) j[key] = value;
    return j;
}

DeploymentRecord DeploymentRecord::from_json(const json& j) {
    DeploymentRecord r;
    r.id = field<std::string>(j, "id");
    r.operation = field<std::string>(j, "operation", "deploy") == "stop" ? Operation::stop
                                                                         : Operation::deploy;
    r.project = field<std::string>(j, "project");
    r.environment_id = field<std::string>(j, "environment_id");
    r.environment = field<std::string>(j, "environment");
    r.version = field<std::string>(j, "version");
    r.status = status_field(j, parse_deployment_status, DeploymentStatus::running);
    r.trigger = field<std::string>(j, "trigger");
    r.user = field<std::string>(j, "user");
    r.host = field<std::string>(j, "host");
    r.pid = field<std::int64_t>(j, "pid");
    r.started_at = field<std::string>(j, "started_at");
    r.finished_at = field<std::string>(j, "finished_at");
    r.duration_ms = field<std::int64_t>(j, "duration_ms");
    r.parallelism = field<int>(j, "parallelism");
    r.rollback = field<bool>(j, "rollback");
    r.rolled_back_to = field<std::string>(j, "rolled_back_to");
    for (const json& hook : array_of(j, "hooks")) r.hooks.push_back(step_from_json(hook, "name"));
    r.stages = stages_from_json(j);
    if (const json& failed = member(j, "failed_step"); failed.is_object())
        r.failed_step = failed_from_json(failed);
    if (const json& back = member(j, "on_failure_rollback"); back.is_object())
        r.on_failure_rollback = failure_rollback_from_json(back);
    if (const json& token = member(j, "fencing_token"); token.is_number_integer())
        r.fencing_token = token.get<std::int64_t>();
    r.error = field<std::string>(j, "error");
    if (const json& found = member(j, "interrupted"); found.is_object()) {
        r.interrupted = InterruptedInfo{field<std::string>(found, "found_by"),
                                        field<std::string>(found, "found_at"),
                                        field<std::vector<std::string>>(found, "logs")};
    }
    for (const auto& [key, value] : j.items())
        if (!k_known_fields.contains(key)) r.unknown_fields[key] = value;
    return r;
}

bool StepRecord::ran() const {
    switch (status) {
        case StepStatus::succeeded:
        case StepStatus::failed:
        case StepStatus::timed_out:
            return true;
        case StepStatus::canceled:
            return start_ms.has_value();
        default:
            return false;
    }
}

std::size_t DeploymentRecord::service_count() const {
    std::size_t n = 0;
    for (const StageRecord& stage : stages) n += stage.services.size();
    return n;
}

}  // namespace depctl
