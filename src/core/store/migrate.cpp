#include "depctl/migrate.hpp"

#include "depctl/error.hpp"
#include "depctl/names.hpp"

namespace depctl {
namespace {

// Both backends throw Error{NotFound} when there is nothing to load.
bool holds_state(StateStore& store) {
    try {
        store.load();
        return true;
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::NotFound) return false;
        throw;  // unreachable, unreadable: not a target to write into
    }
}

}  // namespace

MigrationReport migrate_state(StateStore& from, StateStore& to) {
    if (from.location() == to.location())
        throw Error(ErrorKind::Refused, "the state is already at " + to.location());
    const State state = from.load();
    for (const auto& env : state.environments) {
        if (const auto holder = from.environment_lock_holder(env.id)) {
            throw Error(ErrorKind::Busy,
                        "environment " + show_name(env.name) + " is being deployed by " +
                            holder->describe(),
                        "migrate when no deployment runs");
        }
    }
    if (holds_state(to)) {
        throw Error(ErrorKind::Refused, "a depctl state already exists at " + to.location(),
                    "migrate into an empty location (a new etcd prefix or state file)");
    }

    // All or nothing: a state the target cannot hold is refused before any history is
    // copied (issue #14 item 4), so no stray keys are left behind.
    try {
        to.check_fits(state);
    } catch (const Error& e) {
        throw Error(e.kind(), e.what(), "nothing was written; " + e.hint());
    }
    MigrationReport report{state.project.name, state.environments.size(), 0};
    for (const auto& env : state.environments) {
        const auto records = from.list_history(env.id);
        const auto present = to.list_history(env.id);
        // What a previous, interrupted run copied must be a prefix of the source's records.
        bool prefix = present.size() <= records.size();
        for (std::size_t i = 0; prefix && i < present.size(); ++i) {
            prefix = present[i].value("id", "") == records[i].value("id", "");
        }
        if (!prefix) {
            throw Error(ErrorKind::Refused,
                        "the target already holds other deployment history for environment " +
                            show_name(env.name),
                        "migrate into an empty location");
        }
        for (std::size_t i = present.size(); i < records.size(); ++i) {
            to.append_history(env.id, records[i]);
            ++report.history_records;
        }
    }
    // The state last: once it exists, the target is complete.
    to.initialize(state);
    return report;
}

}  // namespace depctl
