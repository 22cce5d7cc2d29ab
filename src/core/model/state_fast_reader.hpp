// The JSON tokenizer of the state's fast path (state_fast_read.cpp): reads exactly the
// shapes depctl writes and throws NotFast at anything else, which sends the document to
// the JSON tree instead. Header-only so that its small members inline into the readers.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "util/utf8.hpp"

namespace depctl::fast_read {

// Thrown for anything the fast path leaves to the JSON tree; caught in read_state_fast.
struct NotFast {};

using util::valid_utf8;

inline void append_utf8(std::string& out, std::uint32_t cp) {
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

    // Whether the next value starts with `c` (nothing is consumed).
    bool next_is(char c) {
        skip_space();
        return m_p != m_end && *m_p == c;
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

    // A JSON number as a double, as the JSON tree gives it (strtod of the token; an integer
    // of up to 15 digits is exact either way). Anything the grammar refuses goes to the tree.
    double number() {
        skip_space();
        const char* start = m_p;
        if (m_p < m_end && *m_p == '-') ++m_p;
        const char* int_start = m_p;
        while (m_p < m_end && *m_p >= '0' && *m_p <= '9') ++m_p;
        const std::ptrdiff_t int_digits = m_p - int_start;
        if (int_digits == 0 || (int_digits > 1 && *int_start == '0')) throw NotFast{};
        bool plain = true;
        if (m_p < m_end && *m_p == '.') {
            plain = false;
            if (!digits_after(++m_p)) throw NotFast{};
        }
        if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
            plain = false;
            ++m_p;
            if (m_p < m_end && (*m_p == '+' || *m_p == '-')) ++m_p;
            if (!digits_after(m_p)) throw NotFast{};
        }
        if (plain && int_digits <= 15) {
            double value = 0;
            for (const char* d = int_start; d < m_p; ++d) value = value * 10 + (*d - '0');
            return *start == '-' ? -value : value;
        }
        if (m_p - start > 64) throw NotFast{};
        char token[65];
        std::memcpy(token, start, static_cast<std::size_t>(m_p - start));
        token[m_p - start] = '\0';
        return std::strtod(token, nullptr);
    }

private:
    bool digits_after(const char* from) {
        while (m_p < m_end && *m_p >= '0' && *m_p <= '9') ++m_p;
        return m_p > from;
    }
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
        // Every key this reader knows is ASCII; any other byte (a map key such as an env
        // name may hold anything) goes to the tree, which checks its UTF-8.
        while (m_p < m_end && *m_p != '"') {
            const auto byte = static_cast<unsigned char>(*m_p);
            if (byte == '\\' || byte < 0x20 || byte >= 0x80) throw NotFast{};
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

}  // namespace depctl::fast_read
