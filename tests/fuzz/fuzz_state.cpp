// libFuzzer target: any bytes as state.json through the loader and the validator.
// depctl may refuse a state only with depctl::Error{Store}; it must never crash, leak or
// hang. A state it accepts must survive its own round trip: what depctl writes, it reads
// back to the same bytes. And the loader's fast path (state_fast_read.cpp) may only take
// a document that the JSON tree reads to the very same state.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "depctl/error.hpp"
#include "depctl/model.hpp"
#include "depctl/state_fast_read.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz_state: %s: %s\n", what, detail.c_str());
    std::abort();
}

// Both readers, without validation: whatever the fast one returns, the tree must agree.
void check_fast_reader(std::string_view bytes) {
    const std::optional<depctl::State> fast = depctl::read_state_fast(bytes);
    if (!fast) return;
    std::string from_tree;
    try {
        from_tree = depctl::serialize_state(
            depctl::state_from_json(nlohmann::json::parse(bytes.begin(), bytes.end())));
    } catch (const std::exception& e) {
        fail("the fast reader took a document the JSON tree refuses", e.what());
    }
    std::string from_fast;
    try {
        from_fast = depctl::serialize_state(*fast);
    } catch (const std::exception& e) {
        fail("the fast reader returned a state that cannot be written", e.what());
    }
    if (from_fast != from_tree)
        fail("the fast reader and the JSON tree disagree", from_fast + "\n---\n" + from_tree);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    check_fast_reader(bytes);
    depctl::State state;
    try {
        state = depctl::parse_state(bytes, "fuzz-input");
    } catch (const depctl::Error& e) {
        if (e.kind() != depctl::ErrorKind::Corrupt)
            fail("refused with a non-store error", e.what());
        return 0;
    }
    std::string once;
    std::string twice;
    try {
        once = depctl::serialize_state(state);
        twice = depctl::serialize_state(depctl::parse_state(once, "fuzz-round-trip"));
    } catch (const depctl::Error& e) {
        fail("an accepted state does not load after writing it", e.what());
    }
    if (once != twice) fail("round trip changed the state", once + "\n---\n" + twice);
    return 0;
}
