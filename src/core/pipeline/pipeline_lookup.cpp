// Case-insensitive lookups with "did you mean" suggestions, and default stages.
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"

namespace depctl {
namespace {

template <typename Range, typename Name>
std::vector<std::string> names_of(const Range& range, Name name) {
    std::vector<std::string> out;
    out.reserve(range.size());
    for (const auto& item : range) out.push_back(name(item));
    return out;
}

template <typename Range>
auto* find_by_name(Range& range, std::string_view wanted) {
    const std::string name = trim(wanted);
    for (auto& item : range) {
        if (iequals(item.name, name)) return &item;
    }
    return static_cast<decltype(&*range.begin())>(nullptr);
}

[[noreturn]] void not_found(const char* what, std::string_view wanted, std::string scope,
                            const std::vector<std::string>& known) {
    throw Error(ErrorKind::Refused,
                std::string(what) + " " + show_name(trim(wanted)) + " not found" + scope,
                suggestion_hint(trim(wanted), known));
}

}  // namespace

const Environment& find_environment(const State& state, std::string_view name) {
    if (const auto* env = find_by_name(state.environments, name)) return *env;
    auto known = names_of(state.environments, [](const Environment& e) { return e.name; });
    std::string hint = suggestion_hint(trim(name), known);
    if (known.empty()) hint = "create one with `depctl environment create NAME`";
    throw Error(ErrorKind::Refused, "environment " + show_name(trim(name)) + " not found", hint);
}

Environment& find_environment(State& state, std::string_view name) {
    return const_cast<Environment&>(find_environment(static_cast<const State&>(state), name));
}

const Stage& find_stage(const Environment& env, std::string_view name) {
    if (const auto* stage = find_by_name(env.stages, name)) return *stage;
    not_found("stage", name, " in environment " + show_name(env.name),
              names_of(env.stages, [](const Stage& s) { return s.name; }));
}

Stage& find_stage(Environment& env, std::string_view name) {
    return const_cast<Stage&>(find_stage(static_cast<const Environment&>(env), name));
}

const Service& find_service(const Environment& env, std::string_view name) {
    if (const auto* service = find_by_name(env.services, name)) return *service;
    not_found("service", name, " in environment " + show_name(env.name),
              names_of(env.services, [](const Service& s) { return s.name; }));
}

Service& find_service(Environment& env, std::string_view name) {
    return const_cast<Service&>(find_service(static_cast<const Environment&>(env), name));
}

const Stage& default_stage_for(const Environment& env, ServiceType type) {
    if (env.stages.empty()) {
        throw Error(ErrorKind::Refused, "environment " + show_name(env.name) + " has no stage",
                    "create one with `depctl environment stage create -n NAME`");
    }
    const ServiceType key = type == ServiceType::helm ? ServiceType::application : type;
    const auto it = env.default_stages.find(std::string(to_string(key)));
    if (it != env.default_stages.end()) {
        if (const Stage* stage = env.find_stage_by_id(it->second)) return *stage;
    }
    return env.stages.back();
}

std::vector<std::string> dependents_of(const Environment& env, std::string_view service_id) {
    std::vector<std::string> out;
    for (const auto& s : env.services) {
        for (const auto& dep : s.depends_on) {
            if (dep.id == service_id) out.push_back(s.name);
        }
    }
    return out;
}

}  // namespace depctl
