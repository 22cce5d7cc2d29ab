// What the web console reads and writes, without HTTP: the board as JSON and the page's
// write actions, each one store transaction calling the same pipeline function as the CLI.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "depctl/model.hpp"
#include "depctl/store.hpp"

namespace depctl::ui {

// Every environment with its stages in order and its services as cards. Only names, types,
// versions and statuses: no commands, variables or secret sources reach the page.
nlohmann::json board_view(const State& state);

// Runs one action of the page, e.g. {"action":"move","environment":"env_..","service":"Api",
// "stage":"second stage"}, in one transaction. Returns the CLI's result message; throws
// depctl::Error with the CLI's wording when the core refuses (nothing is written then).
std::string apply_action(StateStore& store, const nlohmann::json& request);

// The environment an API request names by id (or, for scripts, by name).
const Environment& environment_of(const State& state, const nlohmann::json& request);

}  // namespace depctl::ui
