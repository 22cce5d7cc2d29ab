// The JSON shapes of read commands (documented in docs/json-output.md). Built here, in the
// core, so they are unit-tested and every front end prints the same thing.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "depctl/model.hpp"

namespace depctl {

nlohmann::json project_view(const State& state);
nlohmann::json environment_summary_view(const State& state, const Environment& env);
nlohmann::json environment_list_view(const State& state);
// [{position, id, name, description, default_for: [types], services: [{id,name,type,skipped}]}]
nlohmann::json stage_list_view(const Environment& env);
nlohmann::json service_view(const Environment& env, const Service& service);
nlohmann::json service_list_view(const Environment& env);

// The types whose default stage this is ("DATABASE", ...), in the fixed type order.
std::vector<std::string> default_types_of(const Environment& env, const std::string& stage_id);

}  // namespace depctl
