#include "depctl/state_fast_read.hpp"

#include <cstdint>
#include <string>

namespace depctl {
namespace {

// Thrown for anything the fast path leaves to the JSON tree; caught in read_state_fast.
struct NotFast {};

// True for well-formed UTF-8 as RFC 3629 has it (no overlong forms, no surrogates, at
// most U+10FFFF): what nlohmann's parser accepts.
bool valid_utf8(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
        const unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int more = 0;
        unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            if (c == 0xe0) low = 0xa0;
            if (c == 0xed) high = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            if (c == 0xf0) low = 0x90;
            if (c == 0xf4) high = 0x8f;
        } else {
            return false;
        }
        if (end - p <= more) return false;
        if (p[1] < low || p[1] > high) return false;
        for (int k = 2; k <= more; ++k) {
            if (p[k] < 0x80 || p[k] > 0xbf) return false;
        }
        p += more + 1;
    }
    return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

class Reader {
public:
    explicit Reader(std::string_view text) : m_p(text.data()), m_end(text.data() + text.size()) {}

    void finish() {
        skip_space();
        if (m_p != m_end) throw NotFast{};
    }

    // Calls on_member(key) for each member; it must read the value.
    template <typename OnMember>
    void object(OnMember&& on_member) {
        expect('{');
        if (consume('}')) return;
        do {
            const std::string_view key = plain_key();
            expect(':');
            on_member(key);
        } while (consume(','));
        expect('}');
    }

    template <typename OnItem>
    void array(OnItem&& on_item) {
        expect('[');
        if (consume(']')) return;
        do {
            on_item();
        } while (consume(','));
        expect(']');
    }

    std::string string() {
        expect('"');
        std::string out;
        bool high_bytes = false;
        for (;;) {
            const char* run = m_p;
            while (m_p < m_end && *m_p != '"' && *m_p != '\\' &&
                   static_cast<unsigned char>(*m_p) >= 0x20) {
                high_bytes |= static_cast<unsigned char>(*m_p) >= 0x80;
                ++m_p;
            }
            out.append(run, m_p);
            if (m_p == m_end || static_cast<unsigned char>(*m_p) < 0x20) throw NotFast{};
            if (*m_p++ == '"') break;
            escape(out);
        }
        if (high_bytes && !valid_utf8(out)) throw NotFast{};
        return out;
    }

    bool boolean() {
        skip_space();
        if (literal("true")) return true;
        if (literal("false")) return false;
        throw NotFast{};
    }

    // A small non-negative integer without sign, fraction or exponent.
    int small_integer() {
        skip_space();
        const char* start = m_p;
        int value = 0;
        while (m_p < m_end && *m_p >= '0' && *m_p <= '9' && m_p - start < 6)
            value = value * 10 + (*m_p++ - '0');
        const bool leading_zero = m_p - start > 1 && *start == '0';
        if (m_p == start || leading_zero ||
            (m_p < m_end &&
             (*m_p == '.' || *m_p == 'e' || *m_p == 'E' || (*m_p >= '0' && *m_p <= '9')))) {
            throw NotFast{};
        }
        return value;
    }

private:
    void skip_space() {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t')) ++m_p;
    }
    void expect(char c) {
        skip_space();
        if (m_p == m_end || *m_p != c) throw NotFast{};
        ++m_p;
    }
    bool consume(char c) {
        skip_space();
        if (m_p == m_end || *m_p != c) return false;
        ++m_p;
        return true;
    }
    bool literal(std::string_view word) {
        if (static_cast<std::size_t>(m_end - m_p) < word.size() ||
            std::string_view(m_p, word.size()) != word)
            return false;
        m_p += word.size();
        return true;
    }
    // Keys are looked up, never kept, so they are views; one with an escape is not one
    // depctl writes.
    std::string_view plain_key() {
        expect('"');
        const char* start = m_p;
        while (m_p < m_end && *m_p != '"') {
            if (*m_p == '\\' || static_cast<unsigned char>(*m_p) < 0x20) throw NotFast{};
            ++m_p;
        }
        if (m_p == m_end) throw NotFast{};
        return {start, static_cast<std::size_t>(m_p++ - start)};
    }
    std::uint32_t hex4() {
        if (m_end - m_p < 4) throw NotFast{};
        std::uint32_t value = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = *m_p++;
            value <<= 4;
            if (c >= '0' && c <= '9')
                value |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f')
                value |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                value |= static_cast<std::uint32_t>(c - 'A' + 10);
            else
                throw NotFast{};
        }
        return value;
    }
    // After a backslash.
    void escape(std::string& out) {
        if (m_p == m_end) throw NotFast{};
        switch (*m_p++) {
            case '"':
                out += '"';
                return;
            case '\\':
                out += '\\';
                return;
            case '/':
                out += '/';
                return;
            case 'b':
                out += '\b';
                return;
            case 'f':
                out += '\f';
                return;
            case 'n':
                out += '\n';
                return;
            case 'r':
                out += '\r';
                return;
            case 't':
                out += '\t';
                return;
            case 'u': {
                std::uint32_t cp = hex4();
                if (cp >= 0xdc00 && cp <= 0xdfff) throw NotFast{};  // a lone low surrogate
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u') throw NotFast{};
                    m_p += 2;
                    const std::uint32_t low = hex4();
                    if (low < 0xdc00 || low > 0xdfff) throw NotFast{};
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                }
                append_utf8(out, cp);
                return;
            }
            default:
                throw NotFast{};
        }
    }

    const char* m_p;
    const char* m_end;
};

// Each known key at most once; a duplicate would make the tree's last-one-wins rule
// matter, so it goes to the tree.
class Seen {
public:
    void mark(int bit) {
        if (m_bits & (1u << bit)) throw NotFast{};
        m_bits |= 1u << bit;
    }
    bool has(int bit) const { return m_bits & (1u << bit); }

private:
    std::uint32_t m_bits = 0;
};

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
        else
            throw NotFast{};
    });
    if (!seen.has(0) || !seen.has(1)) throw NotFast{};
    return stage;
}

// Numbers of a health check (attempts, intervals, timeouts) go to the tree.
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
            seen.mark(12);
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
                s.secrets.push_back(std::move(secret));
            });
        } else if (key == "depends_on")
            seen.mark(13), s.depends_on = read_strings(in);
        else if (key == "current") {
            seen.mark(14);
            Seen fields;
            in.object([&](std::string_view field) {
                if (field == "version")
                    fields.mark(0), s.current.version = in.string();
                else if (field == "status")
                    fields.mark(1), s.current.status = in.string();
                else if (field == "updated_at")
                    fields.mark(2), s.current.updated_at = in.string();
                else if (field == "deployment_id")
                    fields.mark(3), s.current.deployment_id = in.string();
                else
                    throw NotFast{};
            });
        } else {
            throw NotFast{};  // timeouts and retries (numbers), or a field this reader does not
                              // know
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
