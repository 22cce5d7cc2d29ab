// serialize_state's fast path: the model written straight to the bytes of state.json, without
// first building a JSON tree (building and freeing the tree was most of a `stage move`).
#pragma once

#include <optional>
#include <string>

#include "depctl/model.hpp"

namespace depctl {

// The exact bytes `to_json(state).dump(2) + "\n"` gives: same keys in the same (sorted)
// order, same indentation and escapes, numbers formatted by the JSON library. Returns nullopt
// for a string that is not valid UTF-8; serialize_state then writes through the tree, whose
// error is the reference. The unit tests compare the two on every field and random states.
std::optional<std::string> write_state_fast(const State& state);

// The definition alone, as `dump()` (no indentation) of that tree without the project's
// applied_file_sha256 and the services' current: the bytes definition_fingerprint hashes.
std::optional<std::string> write_definition_compact(const State& state);

// One environment as `dump()` (no indentation) of its object in to_json(state)'s tree: the
// value the etcd store keeps under an environment's key. nullopt as write_state_fast.
std::optional<std::string> write_environment_compact(const Environment& environment);

}  // namespace depctl
