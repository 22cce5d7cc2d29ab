#include "depctl/state_fast_read.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "core/model/state_fast_reader.hpp"
#include "depctl/rules.hpp"

namespace depctl {
namespace {

using fast_read::NotFast;
using fast_read::Reader;
using fast_read::Seen;

constexpr double k_positive = std::numeric_limits<double>::min();
constexpr double k_max_seconds = k_max_timeout_s;

// A number within model_json.cpp's limits; one outside them, or a fraction where a whole
// number belongs, goes to the tree, whose message names the field.
template <typename T>
std::optional<T> bounded(Reader& in, double low, double high) {
    const double value = in.number();
    if (!(value >= low && value <= high)) throw NotFast{};
    if (std::is_integral_v<T> && value != std::floor(value)) throw NotFast{};
    return static_cast<T>(value);
}

Stage read_stage(Reader& in) {
    Stage stage;
    Seen seen;
    in.object([&](std::string_view key) {
        if (key == "id")
            seen.mark(0), stage.id = in.string();
        else if (key == "name")
            seen.mark(1), stage.name = in.string();
        else if (key == "description")
            seen.mark(2), stage.description = in.string();
        else if (key == "max_parallel")
            seen.mark(3), stage.max_parallel = bounded<int>(in, 1, k_max_parallelism);
        else
            throw NotFast{};
    });
    if (!seen.has(0) || !seen.has(1)) throw NotFast{};
    return stage;
}

HealthCheck read_health(Reader& in) {
    HealthCheck health;
    Seen seen;
    in.object([&](std::string_view key) {
        if (key == "http")
            seen.mark(0), health.http = in.string();
        else if (key == "cmd")
            seen.mark(1), health.cmd = in.string();
        else if (key == "expect")
            seen.mark(2), health.expect = in.string();
        else if (key == "attempts")
            seen.mark(3), health.attempts = bounded<int>(in, 1, k_max_attempts);
        else if (key == "interval_s")
            seen.mark(4), health.interval_s = bounded<double>(in, k_positive, k_max_seconds);
        else if (key == "connect_timeout_s")
            seen.mark(5), health.connect_timeout_s = bounded<double>(in, k_positive, k_max_seconds);
        else if (key == "timeout_s")
            seen.mark(6), health.timeout_s = bounded<double>(in, k_positive, k_max_seconds);
        else if (key == "start_period_s")
            seen.mark(7), health.start_period_s = bounded<double>(in, k_positive, k_max_seconds);
        else
            throw NotFast{};
    });
    return health;
}

std::vector<std::string> read_strings(Reader& in) {
    std::vector<std::string> out;
    in.array([&] { out.push_back(in.string()); });
    return out;
}

// A service's secrets: references (key, where its value comes from), never values.
std::vector<SecretRef> read_secrets(Reader& in) {
    std::vector<SecretRef> secrets;
    in.array([&] {
        SecretRef secret;
        Seen fields;
        in.object([&](std::string_view field) {
            if (field == "key")
                fields.mark(0), secret.key = in.string();
            else if (field == "source")
                fields.mark(1), secret.source = in.string();
            else
                throw NotFast{};
        });
        if (!fields.has(0) || !fields.has(1)) throw NotFast{};
        secrets.push_back(std::move(secret));
    });
    return secrets;
}

// What runs now: the last deployment's version and status for this service.
ServiceCurrent read_current(Reader& in) {
    ServiceCurrent current;
    Seen fields;
    in.object([&](std::string_view field) {
        if (field == "version")
            fields.mark(0), current.version = in.string();
        else if (field == "status")
            fields.mark(1), current.status = in.string();
        else if (field == "updated_at")
            fields.mark(2), current.updated_at = in.string();
        else if (field == "deployment_id")
            fields.mark(3), current.deployment_id = in.string();
        else
            throw NotFast{};
    });
    return current;
}

Service read_service(Reader& in) {
    Service s;
    Seen seen;
    in.object([&](std::string_view key) {
        if (key == "id")
            seen.mark(0), s.id = in.string();
        else if (key == "name")
            seen.mark(1), s.name = in.string();
        else if (key == "type") {
            seen.mark(2);
            const auto type = parse_service_type(in.string());
            if (!type) throw NotFast{};
            s.type = *type;
        } else if (key == "stage_id")
            seen.mark(3), s.stage_id = in.string();
        else if (key == "skipped")
            seen.mark(4), s.skipped = in.boolean();
        else if (key == "workdir")
            seen.mark(5), s.workdir = in.string();
        else if (key == "build")
            seen.mark(6), s.build = in.string();
        else if (key == "release")
            seen.mark(7), s.release = in.string();
        else if (key == "deploy")
            seen.mark(8), s.deploy = in.string();
        else if (key == "stop")
            seen.mark(9), s.stop = in.string();
        else if (key == "health")
            seen.mark(10), s.health = read_health(in);
        else if (key == "env") {
            seen.mark(11);
            in.object([&](std::string_view name) {
                if (!s.env.emplace(std::string(name), in.string()).second) throw NotFast{};
            });
        } else if (key == "secrets") {
            seen.mark(12), s.secrets = read_secrets(in);
        } else if (key == "depends_on")
            seen.mark(13), s.depends_on = read_strings(in);
        else if (key == "current") {
            seen.mark(14), s.current = read_current(in);
        } else if (key == "build_timeout_s") {
            seen.mark(15), s.build_timeout_s = bounded<int>(in, 1, k_max_seconds);
        } else if (key == "deploy_timeout_s") {
            seen.mark(16), s.deploy_timeout_s = bounded<int>(in, 1, k_max_seconds);
        } else if (key == "retries") {
            seen.mark(17), s.retries = bounded<int>(in, 0, k_max_retries);
        } else {
            throw NotFast{};  // a field this reader does not know
        }
    });
    if (!seen.has(0) || !seen.has(1) || !seen.has(2) || !seen.has(3)) throw NotFast{};
    return s;
}

Environment read_environment(Reader& in) {
    Environment e;
    Seen seen;
    in.object([&](std::string_view key) {
        if (key == "id")
            seen.mark(0), e.id = in.string();
        else if (key == "name")
            seen.mark(1), e.name = in.string();
        else if (key == "type") {
            seen.mark(2);
            const std::string text = in.string();
            if (!text.empty()) {
                const auto type = parse_environment_type(text);
                if (!type) throw NotFast{};
                e.type = *type;
            }
        } else if (key == "require_approval")
            seen.mark(3), e.require_approval = in.boolean();
        else if (key == "pre_deploy")
            seen.mark(4), e.pre_deploy = in.string();
        else if (key == "post_deploy")
            seen.mark(5), e.post_deploy = in.string();
        else if (key == "stages")
            seen.mark(6), in.array([&] { e.stages.push_back(read_stage(in)); });
        else if (key == "default_stages") {
            seen.mark(7);
            in.object([&](std::string_view type) {
                if (!parse_service_type(type)) throw NotFast{};
                if (!e.default_stages.emplace(std::string(type), in.string()).second)
                    throw NotFast{};
            });
        } else if (key == "services")
            seen.mark(8), in.array([&] { e.services.push_back(read_service(in)); });
        else
            throw NotFast{};
    });
    if (!seen.has(0) || !seen.has(1)) throw NotFast{};
    return e;
}

}  // namespace

std::optional<State> read_state_fast(std::string_view bytes) {
    try {
        Reader in(bytes);
        State state;
        Seen seen;
        in.object([&](std::string_view key) {
            if (key == "schema_version") {
                seen.mark(0);
                const int version = in.small_integer();
                if (version < 1 || version > k_schema_version) throw NotFast{};
            } else if (key == "project") {
                seen.mark(1);
                Seen fields;
                in.object([&](std::string_view field) {
                    if (field == "id")
                        fields.mark(0), state.project.id = in.string();
                    else if (field == "name")
                        fields.mark(1), state.project.name = in.string();
                    else if (field == "enforced_order")
                        fields.mark(2), state.project.enforced_order = read_strings(in);
                    else if (field == "applied_file_sha256")
                        fields.mark(3), state.project.applied_file_sha256 = in.string();
                    else
                        throw NotFast{};
                });
                if (!fields.has(0) || !fields.has(1)) throw NotFast{};
            } else if (key == "environments") {
                seen.mark(2);
                in.array([&] { state.environments.push_back(read_environment(in)); });
            } else {
                throw NotFast{};
            }
        });
        in.finish();
        if (!seen.has(0) || !seen.has(1)) throw NotFast{};
        state.schema_version = k_schema_version;
        return state;
    } catch (const NotFast&) {
        return std::nullopt;
    }
}

}  // namespace depctl
