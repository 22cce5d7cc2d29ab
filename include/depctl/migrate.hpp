// Moving a project between state backends: `depctl state migrate --to URL`.
#pragma once

#include <cstddef>
#include <string>

#include "depctl/store.hpp"

namespace depctl {

struct MigrationReport {
    std::string project;
    std::size_t environments = 0;
    std::size_t history_records = 0;  // copied by this run
};

// Copies the state and every environment's deployment history from `from` to `to`.
// Refuses (Error{Refused}) when `to` already holds a state or different history, and
// (Error{Busy}) while an environment of `from` is being deployed. History goes first and
// the state last: an interrupted migration leaves `to` without a state, and running it
// again copies only the records still missing. Step logs stay where they are; the
// records keep their paths.
MigrationReport migrate_state(StateStore& from, StateStore& to);

}  // namespace depctl
