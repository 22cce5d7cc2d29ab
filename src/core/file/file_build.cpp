// From a checked pipeline file to the definition it describes. Every object is made by the
// same core operation the CLI runs (create_environment, create_stage, create_service,
// add_dependency, ...), so a refusal has the CLI's wording; this file only adds where.
#include <yaml-cpp/yaml.h>

#include <unordered_map>
#include <unordered_set>

#include "core/file/file_check.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/pipeline_file.hpp"
#include "depctl/validate.hpp"
#include "util/sha256.hpp"

namespace depctl {
namespace {

using file::refuse_at;
using file::Where;

// One key of a service's merged definition: "build", "health.cmd", "env.PORT", ...
struct Entry {
    std::string key;
    YAML::Node node;
};

struct ServiceSpec {
    std::string name;
    YAML::Node name_node;
    std::vector<Entry> entries;
    YAML::Node type;
    YAML::Node skip;
    YAML::Node depends_on;
};

// Runs a core operation; its refusal gets the position of `node` and the key path.
template <typename Fn>
auto at(const Where& w, const YAML::Node& node, const std::string& path, Fn&& fn) {
    try {
        return fn();
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Refused && e.kind() != ErrorKind::Usage) throw;
        refuse_at(w, node, path, e.what(), e.hint());
    }
}

void set_entry(std::vector<Entry>& entries, const std::string& key, const YAML::Node& node) {
    for (auto& e : entries) {
        if (e.key == key) {
            e.node = node;
            return;
        }
    }
    entries.push_back({key, node});
}

// Adds the keys of one service map (shared or per-environment) to `spec`, key by key.
void merge_into(ServiceSpec& spec, const YAML::Node& map) {
    if (!map.IsMap()) return;
    for (const auto& kv : map) {
        const std::string key = kv.first.Scalar();
        if (key == "type") {
            spec.type = kv.second;
        } else if (key == "skip") {
            spec.skip = kv.second;
        } else if (key == "depends_on") {
            spec.depends_on = kv.second;
        } else if (key == "health" || key == "env" || key == "secrets") {
            if (!kv.second.IsMap()) continue;
            for (const auto& sub : kv.second)
                set_entry(spec.entries, key + "." + sub.first.Scalar(), sub.second);
        } else {
            set_entry(spec.entries, key, kv.second);
        }
    }
}

double number(const YAML::Node& n) {
    return std::strtod(n.Scalar().c_str(), nullptr);
}
int whole(const YAML::Node& n) {
    const long long v = std::strtoll(n.Scalar().c_str(), nullptr, 10);
    return v > 1'000'000'000 ? 1'000'000'000 : v < -1'000'000'000 ? -1'000'000'000 : int(v);
}

void add_change(ServiceChanges& c, const Entry& e) {
    const std::string& k = e.key;
    const std::string text = e.node.IsScalar() ? e.node.Scalar() : std::string();
    if (k == "stage")
        c.stage = text;
    else if (k == "workdir")
        c.workdir = text;
    else if (k == "version_from")
        c.version_from = parse_version_from(text);  // checked against the key table already
    else if (k == "build")
        c.build = text;
    else if (k == "release")
        c.release = text;
    else if (k == "deploy")
        c.deploy = text;
    else if (k == "stop")
        c.stop = text;
    else if (k == "build_timeout")
        c.build_timeout_s = whole(e.node);
    else if (k == "deploy_timeout")
        c.deploy_timeout_s = whole(e.node);
    else if (k == "retries")
        c.retries = whole(e.node);
    else if (k == "health.http")
        c.health_http = text;
    else if (k == "health.cmd")
        c.health_cmd = text;
    else if (k == "health.attempts")
        c.health_attempts = whole(e.node);
    else if (k == "health.interval")
        c.health_interval_s = number(e.node);
    else if (k == "health.connect_timeout")
        c.health_connect_timeout_s = number(e.node);
    else if (k == "health.timeout")
        c.health_timeout_s = number(e.node);
    else if (k == "health.expect")
        c.health_expect = text;
    else if (k == "health.start_period")
        c.health_start_period_s = number(e.node);
    else if (k.rfind("env.", 0) == 0)
        c.env_set.push_back(k.substr(4) + "=" + text);
    else if (k.rfind("secrets.", 0) == 0)
        c.secret_set.push_back(k.substr(8) + "=" + text);
}

struct Builder {
    Where w;
    const YAML::Node root;
    State state;

    std::string env_path(const std::string& env) const { return "environments." + env; }

    void add_stages(Environment& env, const YAML::Node& list, const std::string& path) {
        env.stages.clear();
        env.default_stages.clear();
        std::size_t i = 0;
        for (const auto& item : list) {
            const std::string p = path + "[" + std::to_string(i++) + "]";
            const YAML::Node name = item["name"];
            const std::string description = item["description"] ? item["description"].Scalar() : "";
            at(w, name, p + ".name",
               [&] { return create_stage(env, name.Scalar(), description, Placement{}).id; });
            if (const YAML::Node cap = item["max_parallel"]) {
                at(w, cap, p + ".max_parallel", [&] {
                    set_stage_max_parallel(env, name.Scalar(), whole(cap));
                    return std::string();
                });
            }
        }
        // A stage named like a default ("DATABASE DEFAULT") is that type's default stage.
        for (ServiceType type : {ServiceType::database, ServiceType::job, ServiceType::container,
                                 ServiceType::application}) {
            const std::string wanted = std::string(to_string(type)) + " DEFAULT";
            for (const auto& stage : env.stages)
                if (iequals(stage.name, wanted))
                    env.default_stages[std::string(to_string(type))] = stage.id;
        }
    }

    std::vector<ServiceSpec> service_specs(const YAML::Node& overrides, const std::string& env) {
        std::vector<ServiceSpec> specs;
        for (const auto& kv : root["services"]) {
            ServiceSpec spec{kv.first.Scalar(), kv.first, {}, {}, {}, {}};
            merge_into(spec, kv.second);
            specs.push_back(std::move(spec));
        }
        for (const auto& kv : overrides) {
            const std::string name = kv.first.Scalar();
            ServiceSpec* found = nullptr;
            for (auto& spec : specs)
                if (spec.name == name) found = &spec;
            if (!found) {
                if (!kv.second.IsMap() || !kv.second["type"]) {
                    std::vector<std::string> names;
                    for (const auto& s : specs) names.push_back(s.name);
                    refuse_at(w, kv.first, env_path(env) + ".services." + name,
                              "no shared service named " + show_name(name) +
                                  " to override (a service of this environment only needs a type)",
                              suggestion_hint(name, names));
                }
                specs.push_back(ServiceSpec{name, kv.first, {}, {}, {}, {}});
                found = &specs.back();
            }
            merge_into(*found, kv.second);
        }
        return specs;
    }

    // `seen`: the environment's names so far, letter case folded; a name seen before is
    // left to create_service's scan, which refuses it with the CLI's message.
    void add_service(Environment& env, const ServiceSpec& spec, const std::string& path,
                     std::unordered_set<std::string>& seen) {
        if (!spec.type)
            refuse_at(w, spec.name_node, path, "missing key \"type\"", "e.g. type: application");
        const ServiceType type = *parse_service_type(spec.type.Scalar());
        ServiceChanges changes;
        for (const auto& e : spec.entries) add_change(changes, e);
        const std::size_t before = env.services.size();
        try {
            const bool first = seen.insert(to_lower(spec.name)).second;
            create_service(env, spec.name, type, changes,
                           first ? NameCheck::done_by_caller : NameCheck::scan);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::Refused) throw;
            env.services.resize(before);  // create_service had added it before refusing
            // Find the key to blame: the name itself, else the first key refused on its own.
            try {
                Environment scratch = env;
                create_service(scratch, spec.name, type, {});
            } catch (const Error& named) {
                refuse_at(w, spec.name_node, path, named.what(), named.hint());
            }
            for (const auto& entry : spec.entries) {
                Environment scratch = env;
                ServiceChanges one;
                add_change(one, entry);
                try {
                    create_service(scratch, spec.name, type, one);
                } catch (const Error& single) {
                    refuse_at(w, entry.node, path + "." + entry.key, single.what(), single.hint());
                }
            }
            refuse_at(w, spec.name_node, path, e.what(), e.hint());
        }
        if (spec.skip && file::yaml_bool(spec.skip).value_or(false))
            set_skipped(env, spec.name, true);
    }

    struct Edge {
        std::string name;
        YAML::Node node;
        EdgeCondition condition = EdgeCondition::healthy;
    };
    // A list means healthy for each; a map names each condition (checked already).
    static std::vector<Edge> dependencies(const YAML::Node& node) {
        std::vector<Edge> deps;
        if (node.IsSequence())
            for (const auto& item : node) deps.push_back({item.Scalar(), item});
        else if (node.IsMap())
            for (const auto& kv : node)
                deps.push_back(
                    {kv.first.Scalar(), kv.first,
                     parse_edge_condition(kv.second.Scalar()).value_or(EdgeCondition::healthy)});
        return deps;
    }

    // Names in ASCII-folded case (iequals' rule) to the service: one lookup per edge instead
    // of a scan. A miss goes to find_service, whose refusal and did-you-mean are the CLI's.
    struct ServiceIndex {
        Environment& env;
        std::unordered_map<std::string, Service*> by_folded;

        explicit ServiceIndex(Environment& e) : env(e) {
            by_folded.reserve(e.services.size());
            for (auto& service : e.services) by_folded.emplace(folded(service.name), &service);
        }
        static std::string folded(std::string_view name) {
            std::string out(name);
            for (char& c : out)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            return out;
        }
        Service& find(const std::string& name) {
            const auto it = by_folded.find(folded(name));
            return it != by_folded.end() ? *it->second : find_service(env, name);
        }
    };

    // Edges are added directly and checked once (cycles, later stages); only when that
    // fails are they replayed one by one through add_dependency, to name the culprit.
    void add_dependencies(Environment& env, const std::vector<ServiceSpec>& specs,
                          const std::string& path) {
        ServiceIndex index(env);
        for (const auto& spec : specs) {
            Service& service = index.find(spec.name);
            for (const auto& edge : dependencies(spec.depends_on)) {
                const auto& dep = edge.name;
                const auto& node = edge.node;
                const std::string p = path + "." + spec.name + ".depends_on";
                const std::string id = at(w, node, p, [&] { return index.find(dep).id; });
                for (const auto& existing : service.depends_on)
                    if (existing.id == id)
                        refuse_at(w, node, p,
                                  "service " + show_name(service.name) + " already depends on " +
                                      show_name(dep));
                service.depends_on.push_back({id, edge.condition});
            }
        }
        try {
            validate_dependencies(env, ErrorKind::Refused);
        } catch (const Error& whole_error) {
            Environment replay = env;
            for (auto& s : replay.services) s.depends_on.clear();
            for (const auto& spec : specs) {
                for (const auto& edge : dependencies(spec.depends_on)) {
                    const auto& dep = edge.name;
                    const auto& node = edge.node;
                    const EdgeCondition condition = edge.condition;
                    at(w, node, path + "." + spec.name + ".depends_on", [&] {
                        add_dependency(replay, spec.name, dep, condition);
                        return 0;
                    });
                }
            }
            throw;
        }
    }

    void add_environment(const YAML::Node& name, const YAML::Node& body) {
        const std::string path = env_path(name.Scalar());
        EnvironmentCreate request{name.Scalar(), EnvironmentType::development, std::nullopt};
        if (body["type"]) request.type = *parse_environment_type(body["type"].Scalar());
        const std::string id =
            at(w, name, path, [&] { return create_environment(state, request).id; });
        Environment& env = *state.find_environment_by_id(id);
        if (const auto flag = body["require_approval"])
            env.require_approval = *file::yaml_bool(flag);
        if (const auto cmd = body["pre_deploy"]) env.pre_deploy = cmd.Scalar();
        if (const auto cmd = body["post_deploy"]) env.post_deploy = cmd.Scalar();
        if (body["stages"])
            add_stages(env, body["stages"], path + ".stages");
        else if (root["stages"])
            add_stages(env, root["stages"], "stages");
        const YAML::Node overrides = body["services"];
        const auto specs = service_specs(overrides, name.Scalar());
        std::unordered_set<std::string> seen;
        for (const auto& spec : specs) {
            const bool own = overrides && overrides[spec.name];
            add_service(env, spec, (own ? path + "." : std::string()) + "services." + spec.name,
                        seen);
        }
        add_dependencies(env, specs, "services");
    }

    void build() {
        const YAML::Node project = root["project"];
        state = at(w, project, "project", [&] { return new_state(project.Scalar()); });
        for (const auto& kv : root["environments"]) add_environment(kv.first, kv.second);
        if (const auto order = root["enforced_order"]) {
            std::vector<std::string> names;
            for (const auto& item : order) names.push_back(item.Scalar());
            at(w, order, "enforced_order", [&] {
                set_enforced_order(state, names);
                return 0;
            });
        }
        at(w, root, "", [&] {
            validate_state(state, ErrorKind::Refused);
            return 0;
        });
    }
};

}  // namespace

PipelineFile parse_pipeline_file(const std::string& path, std::string_view text) {
    const Where where{&path};
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        throw Error(ErrorKind::Refused, path + ":" + std::to_string(e.mark.line + 1) + ":" +
                                            std::to_string(e.mark.column + 1) +
                                            ": not valid YAML: " + e.msg);
    }
    file::check_document(where, root);
    Builder builder{where, root, {}};
    builder.build();
    return PipelineFile{path, sha256_hex(text), std::move(builder.state)};
}

}  // namespace depctl
