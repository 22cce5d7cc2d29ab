#include "depctl/validate.hpp"

#include <algorithm>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "depctl/names.hpp"
#include "depctl/rules.hpp"
#include "util/graph.hpp"

namespace depctl {
namespace {

void check_name(const std::string& name, const char* what, ErrorKind kind) {
    const std::string problem = name_problem(name);
    if (!problem.empty())
        throw Error(kind, std::string(what) + " name " + show_name(name) + " " + problem);
    if (name != trim(name))
        throw Error(kind,
                    std::string(what) + " name " + show_name(name) + " has surrounding blanks");
}

// Names unique case-insensitively within one scope.
class NameScope {
public:
    NameScope(const char* what, std::string scope, ErrorKind kind)
        : m_what(what), m_scope(std::move(scope)), m_kind(kind) {}
    void add(const std::string& name) {
        check_name(name, m_what, m_kind);
        if (!m_seen.insert(to_lower(name)).second) {
            throw Error(m_kind,
                        std::string("duplicate ") + m_what + " name " + show_name(name) + m_scope);
        }
    }

private:
    const char* m_what;
    std::string m_scope;
    ErrorKind m_kind;
    std::unordered_set<std::string> m_seen;
};

void check_id(std::unordered_set<std::string>& ids, const std::string& id, const char* prefix,
              ErrorKind kind) {
    if (id.rfind(prefix, 0) != 0 || id.size() <= std::string_view(prefix).size()) {
        throw Error(kind, "malformed id " + show_name(id) + " (expected " + prefix + "...)");
    }
    if (!ids.insert(id).second) throw Error(kind, "duplicate id " + show_name(id));
}

// The state is written as JSON, which holds UTF-8 only: text that is not must be refused
// here, by field, rather than fail the write later as an "internal error".
// `what` makes the message, only when there is one to give: a valid state builds none.
template <typename What>
void check_text(std::string_view text, const What& what, ErrorKind kind) {
    if (!is_valid_utf8(text))
        throw Error(kind, what() + " is not valid UTF-8", "depctl stores text as UTF-8");
}

// A message of fixed text, then a suffix made on demand (" of service NAME").
template <typename Suffix>
auto text_then(const char* text, const Suffix& suffix) {
    return [text, &suffix] { return text + suffix(); };
}

void check_service_texts(const Service& s, ErrorKind kind) {
    const auto of = [&s] { return " of service " + show_name(s.name); };
    const std::pair<const std::string*, const char*> fields[] = {
        {&s.id, "the id"},
        {&s.stage_id, "the stage id"},
        {&s.workdir, "--workdir"},
        {&s.build, "--build"},
        {&s.release, "--release"},
        {&s.deploy, "--deploy"},
        {&s.stop, "--stop"},
        {&s.health.http, "--health-http"},
        {&s.health.cmd, "--health-cmd"},
        {&s.health.expect, "--health-expect"},
        {&s.current.version, "the deployed version"},
        {&s.current.status, "the status"},
        {&s.current.updated_at, "updated_at"},
        {&s.current.deployment_id, "the deployment id"},
    };
    for (const auto& field : fields) check_text(*field.first, text_then(field.second, of), kind);
    for (const auto& entry : s.env) {
        const std::string& key = entry.first;
        check_text(key, text_then("a variable name", of), kind);
        check_text(
            entry.second, [&] { return "variable " + show_name(key) + of(); }, kind);
    }
    for (const auto& secret : s.secrets) {
        check_text(secret.key, text_then("a secret name", of), kind);
        check_text(
            secret.source, [&] { return "secret " + show_name(secret.key) + of(); }, kind);
    }
    for (const auto& dep : s.depends_on) check_text(dep.id, text_then("a depends_on id", of), kind);
}

void check_texts(const State& state, ErrorKind kind) {
    const auto none = [] { return std::string(); };
    check_text(state.project.id, text_then("the project id", none), kind);
    for (const auto& id : state.project.enforced_order)
        check_text(id, text_then("an enforced_order entry", none), kind);
    for (const auto& env : state.environments) {
        const auto in_env = [&env] { return " of environment " + show_name(env.name); };
        check_text(env.id, text_then("the id", in_env), kind);
        check_text(env.pre_deploy, text_then("the pre-deploy hook", in_env), kind);
        check_text(env.post_deploy, text_then("the post-deploy hook", in_env), kind);
        for (const auto& entry : env.default_stages) {
            check_text(entry.first, text_then("a default_stages key", in_env), kind);
            check_text(entry.second, text_then("a default stage id", in_env), kind);
        }
        for (const auto& stage : env.stages) {
            check_text(stage.id, text_then("a stage id", in_env), kind);
            check_text(
                stage.description,
                [&] { return "the description of stage " + show_name(stage.name); }, kind);
        }
        for (const auto& s : env.services) check_service_texts(s, kind);
    }
}

// Each service's dependencies as indexes, refusing unknown ids, duplicates, itself and a
// service of a later stage.
std::vector<std::vector<std::size_t>> dependency_edges(const Environment& env, ErrorKind kind) {
    // Services are referred to by index from here on: hashing each id once keeps the check
    // linear in services plus edges (it runs on every load of the state).
    const std::size_t n = env.services.size();
    std::unordered_map<std::string_view, std::size_t> by_id;
    by_id.reserve(n);
    for (std::size_t i = 0; i < n; ++i) by_id.emplace(env.services[i].id, i);
    std::unordered_map<std::string_view, std::size_t> stage_of_id;
    for (std::size_t k = 0; k < env.stages.size(); ++k) stage_of_id.emplace(env.stages[k].id, k);
    const auto stage_index = [&](const std::string& stage_id) {
        const auto it = stage_of_id.find(stage_id);
        return it == stage_of_id.end() ? std::string::npos : it->second;
    };

    std::vector<std::vector<std::size_t>> deps(n);
    for (std::size_t i = 0; i < n; ++i) {
        const Service& s = env.services[i];
        const std::size_t own = stage_index(s.stage_id);
        std::vector<std::size_t>& out = deps[i];
        out.reserve(s.depends_on.size());
        for (const Dependency& edge : s.depends_on) {
            const std::string& dep_id = edge.id;
            const auto it = by_id.find(dep_id);
            if (it == by_id.end()) {
                throw Error(kind, "service " + show_name(s.name) +
                                      " depends on unknown service id " + show_name(dep_id));
            }
            const Service& dep = env.services[it->second];
            if (std::find(out.begin(), out.end(), it->second) != out.end()) {
                throw Error(kind, "service " + show_name(s.name) + " lists " + show_name(dep.name) +
                                      " twice in depends_on");
            }
            if (dep_id == s.id)
                throw Error(kind, "service " + show_name(s.name) + " depends on itself");
            const std::size_t other = stage_index(dep.stage_id);
            if (other > own) {
                throw Error(kind,
                            "service " + show_name(s.name) + " (stage " + std::to_string(own + 1) +
                                " " + show_name(env.stages[own].name) + ") would depend on " +
                                show_name(dep.name) + " in the later stage " +
                                std::to_string(other + 1) + " " + show_name(env.stages[other].name),
                            "a service may depend only on services of its own or an earlier stage");
            }
            out.push_back(it->second);
        }
    }
    return deps;
}

// Cross-stage edges always point backwards, so a cycle can only live inside one stage;
// the search still runs over all edges, finds it and names every member.
void refuse_cycles(const Environment& env, const std::vector<std::vector<std::size_t>>& deps,
                   ErrorKind kind) {
    const std::vector<std::size_t> members = util::topological_order(deps).cycle;
    if (members.empty()) return;
    std::string cycle;
    for (std::size_t m : members) cycle += show_name(env.services[m].name) + " -> ";
    throw Error(kind, "dependency cycle: " + cycle + show_name(env.services[members[0]].name),
                "remove one of these edges with `depctl service undepend`");
}

}  // namespace

void validate_dependencies(const Environment& env, ErrorKind kind) {
    refuse_cycles(env, dependency_edges(env, kind), kind);
}

void validate_state(const State& state, ErrorKind kind) {
    std::unordered_set<std::string> ids;
    check_texts(state, kind);
    check_id(ids, state.project.id, "prj_", kind);
    check_name(state.project.name, "project", kind);
    NameScope env_names("environment", "", kind);
    for (const auto& env : state.environments) {
        check_id(ids, env.id, "env_", kind);
        env_names.add(env.name);
        const std::string scope = " in environment " + show_name(env.name);
        NameScope stage_names("stage", scope, kind);
        for (const auto& stage : env.stages) {
            check_id(ids, stage.id, "stg_", kind);
            stage_names.add(stage.name);
            const std::string problem = description_problem(stage.description);
            if (!problem.empty())
                throw Error(kind, "description of stage " + show_name(stage.name) + " " + problem);
        }
        for (const auto& [type, stage_id] : env.default_stages) {
            if (!env.find_stage_by_id(stage_id)) {
                throw Error(kind, "default stage of " + type + scope +
                                      " refers to unknown stage id " + show_name(stage_id));
            }
        }
        NameScope service_names("service", scope, kind);
        for (const auto& service : env.services) {
            check_id(ids, service.id, "svc_", kind);
            service_names.add(service.name);
            validate_service(service, kind);
            if (!env.find_stage_by_id(service.stage_id)) {
                throw Error(kind, "service " + show_name(service.name) +
                                      " refers to unknown stage id " + show_name(service.stage_id));
            }
        }
        validate_dependencies(env, kind);
    }
    std::set<std::string> ordered;
    for (const auto& env_id : state.project.enforced_order) {
        if (!state.find_environment_by_id(env_id)) {
            throw Error(kind,
                        "enforced order refers to unknown environment id " + show_name(env_id));
        }
        if (!ordered.insert(env_id).second)
            throw Error(kind, "enforced order lists an environment twice");
    }
}

}  // namespace depctl
