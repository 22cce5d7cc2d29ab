#include "depctl/state_fast_read.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "core/model/state_fast_reader.hpp"
#include "core/model/state_fields.hpp"
#include "depctl/rules.hpp"

namespace depctl {
namespace {

using fast_read::NotFast;
using fast_read::Reader;
using fast_read::Seen;

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

std::vector<std::string> read_strings(Reader& in) {
    std::vector<std::string> out;
    in.array([&] { out.push_back(in.string()); });
    return out;
}

// A depends_on entry: an id (healthy) or {"condition": ..., "id": ...}, as model_json reads.
std::vector<Dependency> read_dependencies(Reader& in) {
    std::vector<Dependency> out;
    in.array([&] {
        if (!in.next_is('{')) {
            out.push_back({in.string(), EdgeCondition::healthy});
            return;
        }
        Dependency dep;
        Seen fields;
        in.object([&](std::string_view field) {
            if (field == "id") {
                fields.mark(0), dep.id = in.string();
            } else if (field == "condition") {
                fields.mark(1);
                const std::string text = in.string();
                const auto condition = parse_edge_condition(text);
                if (!condition || text != to_string(*condition)) throw NotFast{};
                dep.condition = *condition;
            } else {
                throw NotFast{};
            }
        });
        if (!fields.has(0) || !fields.has(1)) throw NotFast{};
        out.push_back(std::move(dep));
    });
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

// Reads one member into the field of state_fields.hpp's table named by `key`; a key of no
// field goes to the tree. Required fields are counted so that a missing one does too.
class FieldReader {
public:
    FieldReader(Reader& in, Seen& seen) : m_in(in), m_seen(seen) {}

    // Each call visits the whole table: the field whose name is `key` reads its value.
    template <typename Fields>
    void read(std::string_view key, Fields&& visit_table) {
        m_key = key;
        m_index = 0;
        m_matched = false;
        visit_table(*this);
        if (!m_matched) throw NotFast{};
    }
    // After the object: every required field was there.
    template <typename Fields>
    void require_all(Fields&& visit_table) {
        m_key = {};
        m_index = 0;
        m_matched = true;  // read nothing, only count
        visit_table(*this);
        for (int bit : m_required_bits)
            if (bit >= 0 && !m_seen.has(bit)) throw NotFast{};
    }

    void text(std::string_view name, std::string& value) {
        if (take(name)) value = m_in.string();
    }
    void required(std::string_view name, std::string& value) {
        note_required();
        text(name, value);
    }
    template <typename T>
    void number(std::string_view name, std::optional<T>& value, state_fields::Range range) {
        if (take(name)) value = bounded<T>(m_in, range.low, range.high);
    }
    void flag(std::string_view name, bool& value) {
        if (take(name)) value = m_in.boolean();
    }
    template <typename T>
    void nested(std::string_view name, T& value, state_fields::Presence presence) {
        if (presence == state_fields::Presence::required) note_required();
        if (take(name)) read_value(value);
    }

private:
    bool take(std::string_view name) {
        const int bit = m_index++;
        if (m_matched || name != m_key) return false;
        m_seen.mark(bit);
        m_matched = true;
        return true;
    }
    void note_required() {
        for (int& bit : m_required_bits) {
            if (bit == m_index) return;
            if (bit < 0) {
                bit = m_index;
                return;
            }
        }
        throw NotFast{};  // more required fields than slots: a table this reader does not know
    }
    void read_value(ServiceCurrent& current) { current = read_current(m_in); }
    void read_value(std::vector<std::string>& items) { items = read_strings(m_in); }
    void read_value(std::vector<Dependency>& deps) { deps = read_dependencies(m_in); }
    void read_value(std::vector<SecretRef>& secrets) { secrets = read_secrets(m_in); }
    void read_value(std::map<std::string, std::string>& map) {
        m_in.object([&](std::string_view name) {
            if (!map.emplace(std::string(name), m_in.string()).second) throw NotFast{};
        });
    }
    void read_value(HealthCheck& health) {
        Seen seen;
        FieldReader fields(m_in, seen);
        m_in.object([&](std::string_view key) {
            fields.read(key, [&](FieldReader& v) { state_fields::health_fields(health, v); });
        });
    }
    void read_value(VersionFrom& from) {
        const auto parsed = parse_version_from(m_in.string());
        if (!parsed) throw NotFast{};  // the tree's message names the value
        from = *parsed;
    }
    void read_value(ServiceType& type) {
        const auto parsed = parse_service_type(m_in.string());
        if (!parsed) throw NotFast{};
        type = *parsed;
    }

    Reader& m_in;
    Seen& m_seen;
    std::string_view m_key;
    int m_index = 0;
    bool m_matched = false;
    int m_required_bits[6] = {-1, -1, -1, -1, -1, -1};
};

// Into the vector's own element: a service is ~700 bytes, moving each in once more
// showed in the 10k-service dry run's profile.
void read_service(Reader& in, Service& s) {
    Seen seen;
    FieldReader fields(in, seen);
    const auto table = [&s](FieldReader& v) { state_fields::service_fields(s, v); };
    in.object([&](std::string_view key) { fields.read(key, table); });
    fields.require_all(table);
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
            seen.mark(8), in.array([&] { read_service(in, e.services.emplace_back()); });
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
