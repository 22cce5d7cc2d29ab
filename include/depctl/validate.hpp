// Whole-state invariants: valid and unique names, unique ids, references that resolve,
// dependency edges that point to the same or an earlier stage, and no cycles.
#pragma once

#include "depctl/error.hpp"
#include "depctl/model.hpp"

namespace depctl {

// Throws Error{kind} describing the first violation. Loading uses ErrorKind::Corrupt (a
// corrupt file); committing a mutation uses ErrorKind::Refused (bad input).
void validate_state(const State& state, ErrorKind kind);

// Dependency rules of one environment only (used by the deploy planner and by `depend`).
void validate_dependencies(const Environment& env, ErrorKind kind);

}  // namespace depctl
