// parse_state's fast path: the state document read straight into the model, without
// first building a JSON tree (building, walking and freeing the tree cost about four
// times the reading itself, and every command reads the state).
#pragma once

#include <optional>
#include <string_view>

#include "depctl/model.hpp"

namespace depctl {

// Reads only what it fully understands: the keys model_json.cpp writes, each once, with
// values of the written types; strings of valid UTF-8; no null; no number but
// schema_version. Anything else returns nullopt and parse_state reads the document
// through the JSON tree, whose rules and error messages are the reference. So a field
// added to the model and not to this reader costs speed, never data. Does not validate.
std::optional<State> read_state_fast(std::string_view bytes);

}  // namespace depctl
