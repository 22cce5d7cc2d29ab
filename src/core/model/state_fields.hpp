// One list of a service's fields in state.json, shared by the direct reader and writer
// (state_fast_read.cpp, state_fast_write.cpp), so the two cannot drift apart. The order is
// the JSON's key order: sorted by bytes, as the JSON library's std::map objects have it.
// A field added to Service goes here once (both then read and write it), in model_json.cpp
// (the tree: the reference, and the path for anything the direct reader leaves), and in the
// unit tests' every_field() and random_service().
#pragma once

#include <limits>
#include <string_view>

#include "depctl/model.hpp"
#include "depctl/rules.hpp"

namespace depctl::state_fields {

// A number's allowed values, as model_json.cpp checks them when it reads the tree.
struct Range {
    double low;
    double high;
};
inline constexpr double k_positive = std::numeric_limits<double>::min();
inline constexpr Range k_seconds{k_positive, k_max_timeout_s};

enum class Presence { optional, required };

// `Service` is Service (reading) or const Service (writing). Per field, in key order, the
// visitor gets one of:
//   text(key, member)               a string, written when not empty
//   required(key, member)           a string, always written, must be read
//   number(key, member, range)      optional<int> or optional<double>, written when set
//   flag(key, member)               a bool, written when true
//   nested(key, member, presence)   anything else; the visitor has an overload per type
template <typename HealthT, typename Visit>
void health_fields(HealthT& h, Visit& v) {
    v.number("attempts", h.attempts, Range{1, k_max_attempts});
    v.text("cmd", h.cmd);
    v.number("connect_timeout_s", h.connect_timeout_s, k_seconds);
    v.text("expect", h.expect);
    v.text("http", h.http);
    v.number("interval_s", h.interval_s, k_seconds);
    v.number("start_period_s", h.start_period_s, k_seconds);
    v.number("timeout_s", h.timeout_s, k_seconds);
}

template <typename ServiceT, typename Visit>
void service_fields(ServiceT& s, Visit& v) {
    v.text("build", s.build);
    v.number("build_timeout_s", s.build_timeout_s, Range{1, k_max_timeout_s});
    v.nested("current", s.current, Presence::optional);
    v.nested("depends_on", s.depends_on, Presence::optional);
    v.text("deploy", s.deploy);
    v.number("deploy_timeout_s", s.deploy_timeout_s, Range{1, k_max_timeout_s});
    v.nested("env", s.env, Presence::optional);
    v.nested("health", s.health, Presence::optional);
    v.required("id", s.id);
    v.required("name", s.name);
    v.text("release", s.release);
    v.number("retries", s.retries, Range{0, k_max_retries});
    v.nested("secrets", s.secrets, Presence::optional);
    v.flag("skipped", s.skipped);
    v.required("stage_id", s.stage_id);
    v.text("stop", s.stop);
    v.nested("type", s.type, Presence::required);
    v.nested("version_from", s.version_from, Presence::optional);
    v.text("workdir", s.workdir);
}

}  // namespace depctl::state_fields
