// The state written as text directly: one pass over the model into one string. The key order
// is the JSON library's (its objects are std::maps: keys sorted by bytes). A service's fields
// come from state_fields.hpp, the table the reader uses too; keep each object's keys sorted
// when adding a field, and add the field to the unit test's full state.
#include "depctl/state_fast_write.hpp"

#include <nlohmann/json.hpp>

#include "core/model/state_fields.hpp"
#include "depctl/names.hpp"

namespace depctl {
namespace {

// A field added to the model and not written here would be lost on the next write. These
// sizes change when a field is added: then write it below (keys sorted), set it in
// tests/unit/test_state_fast_write.cpp's every_field() and random_service(), and update them.
#if defined(__GLIBCXX__) && defined(__x86_64__)
static_assert(sizeof(Service) == 696 && sizeof(HealthCheck) == 168 &&
                  sizeof(ServiceCurrent) == 128 && sizeof(SecretRef) == 64,
              "a service field was added: write it in state_fast_write.cpp");
static_assert(sizeof(Environment) == 232 && sizeof(Stage) == 104 && sizeof(Project) == 120 &&
                  sizeof(State) == 152,
              "a state field was added: write it in state_fast_write.cpp");
#endif

// Pretty: dump(2)'s layout. Compact: dump()'s, no whitespace at all. Definition: without
// what a deployment or an apply records (current, applied_file_sha256).
enum class Layout { pretty, compact };
enum class Content { whole, definition };

class Writer {
public:
    Writer(std::size_t reserve, Layout layout, Content content)
        : compact_(layout == Layout::compact), definition_(content == Content::definition) {
        out_.reserve(reserve);
    }
    bool definition_only() const { return definition_; }

    bool ok() const { return ok_; }
    std::string take() { return std::move(out_); }

    // An object or array is opened, then each member starts with key() or item(), then closed.
    void open(char bracket) {
        out_ += bracket;
        ++depth_;
        first_ = true;
    }
    void close(char bracket) {
        --depth_;
        if (!first_) newline();  // an empty one stays "{}" or "[]"
        out_ += bracket;
        first_ = false;
    }
    void key(std::string_view name) {
        item();
        string(name);
        out_ += compact_ ? ":" : ": ";
    }
    void item() {
        if (!first_) out_ += ',';
        newline();
        first_ = false;
    }

    void string(std::string_view text) {
        if (!is_valid_utf8(text)) ok_ = false;
        out_ += '"';
        std::size_t plain = 0;  // start of the run of bytes written as they are
        for (std::size_t i = 0; i < text.size(); ++i) {
            const auto byte = static_cast<unsigned char>(text[i]);
            if (byte >= 0x20 && byte != '"' && byte != '\\') continue;
            out_.append(text, plain, i - plain);
            escape(text[i]);
            plain = i + 1;
        }
        out_.append(text, plain, text.size() - plain);
        out_ += '"';
    }
    void boolean(bool value) { out_ += value ? "true" : "false"; }
    void integer(long long value) { out_ += std::to_string(value); }
    // Rare (health options): the library's own formatting, so the bytes cannot differ.
    void number(double value) { out_ += nlohmann::json(value).dump(); }

    // Members written only when set, as model_json.cpp's put_if does.
    void field(std::string_view name, const std::string& value) {
        if (value.empty()) return;
        key(name);
        string(value);
    }
    void field(std::string_view name, const std::optional<int>& value) {
        if (!value) return;
        key(name);
        integer(*value);
    }
    void field(std::string_view name, const std::optional<double>& value) {
        if (!value) return;
        key(name);
        number(*value);
    }

private:
    void newline() {
        if (compact_) return;
        out_ += '\n';
        out_.append(static_cast<std::size_t>(depth_) * 2, ' ');
    }
    // A byte below 0x20, a quote or a backslash, as the JSON library escapes it.
    void escape(char c) {
        switch (c) {
            case '"':
                out_ += "\\\"";
                return;
            case '\\':
                out_ += "\\\\";
                return;
            case '\b':
                out_ += "\\b";
                return;
            case '\f':
                out_ += "\\f";
                return;
            case '\n':
                out_ += "\\n";
                return;
            case '\r':
                out_ += "\\r";
                return;
            case '\t':
                out_ += "\\t";
                return;
            default:
                break;
        }
        const auto byte = static_cast<unsigned char>(c);
        static constexpr char k_hex[] = "0123456789abcdef";
        out_ += "\\u00";
        out_ += k_hex[byte >> 4];
        out_ += k_hex[byte & 0xF];
    }

    std::string out_;
    int depth_ = 0;
    bool first_ = true;
    bool ok_ = true;
    bool compact_;
    bool definition_;
};

void write_string_map(Writer& w, const std::map<std::string, std::string>& map) {
    w.open('{');
    for (const auto& entry : map) {
        w.key(entry.first);
        w.string(entry.second);
    }
    w.close('}');
}

void write_strings(Writer& w, const std::vector<std::string>& items) {
    w.open('[');
    for (const auto& item : items) {
        w.item();
        w.string(item);
    }
    w.close(']');
}

// Writes the fields of state_fields.hpp's tables.
class FieldWriter {
public:
    explicit FieldWriter(Writer& w) : w_(w) {}

    void text(std::string_view name, const std::string& value) { w_.field(name, value); }
    void required(std::string_view name, const std::string& value) {
        w_.key(name);
        w_.string(value);
    }
    template <typename T>
    void number(std::string_view name, const std::optional<T>& value, state_fields::Range) {
        w_.field(name, value);
    }
    void flag(std::string_view name, bool value) {
        if (!value) return;
        w_.key(name);
        w_.boolean(true);
    }
    void nested(std::string_view name, const ServiceCurrent& current, state_fields::Presence) {
        if (current.empty() || w_.definition_only()) return;
        w_.key(name);
        w_.open('{');
        w_.field("deployment_id", current.deployment_id);
        w_.field("status", current.status);
        w_.field("updated_at", current.updated_at);
        w_.field("version", current.version);
        w_.close('}');
    }
    void nested(std::string_view name, const std::vector<std::string>& items,
                state_fields::Presence) {
        if (items.empty()) return;
        w_.key(name);
        write_strings(w_, items);
    }
    // As model_json writes them: a healthy edge as its plain id, any other as an object.
    void nested(std::string_view name, const std::vector<Dependency>& deps,
                state_fields::Presence) {
        if (deps.empty()) return;
        w_.key(name);
        w_.open('[');
        for (const Dependency& dep : deps) {
            w_.item();
            if (dep.condition == EdgeCondition::healthy) {
                w_.string(dep.id);
                continue;
            }
            w_.open('{');
            w_.key("condition");
            w_.string(to_string(dep.condition));
            w_.key("id");
            w_.string(dep.id);
            w_.close('}');
        }
        w_.close(']');
    }
    void nested(std::string_view name, const std::map<std::string, std::string>& map,
                state_fields::Presence) {
        if (map.empty()) return;
        w_.key(name);
        write_string_map(w_, map);
    }
    void nested(std::string_view name, const HealthCheck& health, state_fields::Presence) {
        if (!health_set(health)) return;
        w_.key(name);
        w_.open('{');
        state_fields::health_fields(health, *this);
        w_.close('}');
    }
    void nested(std::string_view name, const std::vector<SecretRef>& secrets,
                state_fields::Presence) {
        if (secrets.empty()) return;
        w_.key(name);
        w_.open('[');
        for (const auto& secret : secrets) {
            w_.item();
            w_.open('{');
            w_.key("key");
            w_.string(secret.key);
            w_.key("source");
            w_.string(secret.source);
            w_.close('}');
        }
        w_.close(']');
    }
    void nested(std::string_view name, VersionFrom from, state_fields::Presence) {
        if (from == VersionFrom::project) return;
        w_.key(name);
        w_.string(to_string(from));
    }
    void nested(std::string_view name, ServiceType type, state_fields::Presence) {
        w_.key(name);
        w_.string(to_string(type));
    }

private:
    static bool health_set(const HealthCheck& h) {
        return !h.http.empty() || !h.cmd.empty() || !h.expect.empty() || h.attempts ||
               h.interval_s || h.connect_timeout_s || h.timeout_s || h.start_period_s;
    }

    Writer& w_;
};

void write_service(Writer& w, const Service& s) {
    w.open('{');
    FieldWriter fields(w);
    state_fields::service_fields(s, fields);
    w.close('}');
}

void write_stage(Writer& w, const Stage& stage) {
    w.open('{');
    w.field("description", stage.description);
    w.key("id");
    w.string(stage.id);
    w.field("max_parallel", stage.max_parallel);
    w.key("name");
    w.string(stage.name);
    w.close('}');
}

void write_environment(Writer& w, const Environment& e) {
    w.open('{');
    w.key("default_stages");
    write_string_map(w, e.default_stages);
    w.key("id");
    w.string(e.id);
    w.key("name");
    w.string(e.name);
    w.field("post_deploy", e.post_deploy);
    w.field("pre_deploy", e.pre_deploy);
    if (e.require_approval) {
        w.key("require_approval");
        w.boolean(true);
    }
    w.key("services");
    w.open('[');
    for (const auto& service : e.services) {
        w.item();
        write_service(w, service);
    }
    w.close(']');
    w.key("stages");
    w.open('[');
    for (const auto& stage : e.stages) {
        w.item();
        write_stage(w, stage);
    }
    w.close(']');
    w.key("type");
    w.string(to_string(e.type));
    w.close('}');
}

void write_project(Writer& w, const Project& p) {
    w.open('{');
    if (!w.definition_only()) w.field("applied_file_sha256", p.applied_file_sha256);
    if (!p.enforced_order.empty()) {
        w.key("enforced_order");
        write_strings(w, p.enforced_order);
    }
    w.key("id");
    w.string(p.id);
    w.key("name");
    w.string(p.name);
    w.close('}');
}

std::optional<std::string> write_state(const State& state, Layout layout, Content content) {
    std::size_t services = 0;
    for (const auto& e : state.environments) services += e.services.size();
    Writer w(4096 + services * 640, layout, content);  // about a service's size: no regrowths
    w.open('{');
    w.key("environments");
    w.open('[');
    for (const auto& e : state.environments) {
        w.item();
        write_environment(w, e);
    }
    w.close(']');
    w.key("project");
    write_project(w, state.project);
    w.key("schema_version");
    w.integer(state.schema_version);
    w.close('}');
    if (!w.ok()) return std::nullopt;
    return w.take();
}

}  // namespace

std::optional<std::string> write_state_fast(const State& state) {
    auto out = write_state(state, Layout::pretty, Content::whole);
    if (out) *out += '\n';
    return out;
}

std::optional<std::string> write_definition_compact(const State& state) {
    return write_state(state, Layout::compact, Content::definition);
}

std::optional<std::string> write_environment_compact(const Environment& environment) {
    Writer w(1024 + environment.services.size() * 640, Layout::compact, Content::whole);
    write_environment(w, environment);
    if (!w.ok()) return std::nullopt;
    return w.take();
}

}  // namespace depctl
