// `import compose`: a depctl.yaml drafted from a docker compose file (DESIGN §8). One depctl
// service per compose service, run through `docker compose`; stages are the layers of the
// dependency graph; what depctl has no word for stays with docker compose and is named in a
// comment beside its service and on stderr.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/file/compose_model.hpp"
#include "core/file/file_check.hpp"
#include "core/file/yaml_out.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline_file.hpp"
#include "util/graph.hpp"

namespace depctl {
namespace {

using file::ComposeFile;
using file::ComposeService;
using file::YamlValue;

// A word for the shell: plain when it is safe, else in single quotes.
std::string shell_word(const std::string& word) {
    const bool safe = !word.empty() && word.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789._/-+=:@") == std::string::npos;
    if (safe) return word;
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// `docker compose`, with `-f FILE` unless docker compose finds the file on its own.
std::string compose_command(const std::string& path) {
    static const char* defaults[] = {"compose.yaml", "compose.yml", "docker-compose.yaml",
                                     "docker-compose.yml"};
    if (path == "<stdin>") return "docker compose";
    for (const char* name : defaults)
        if (path == name) return "docker compose";
    return "docker compose -f " + shell_word(path);
}

bool is_database_image(const std::string& image) {
    std::string repo = image.substr(0, image.find('@'));
    const auto slash = repo.rfind('/');
    const auto colon = repo.find(':', slash == std::string::npos ? 0 : slash);
    repo = to_lower(repo.substr(0, colon));
    static const char* words[] = {
        "postgres", "postgis",       "timescaledb", "mysql", "mariadb",    "percona",
        "mongo",    "redis",         "valkey",      "keydb", "memcached",  "cassandra",
        "scylla",   "couchdb",       "couchbase",   "neo4j", "clickhouse", "cockroach",
        "influxdb", "elasticsearch", "opensearch",  "mssql", "oracle",     "dragonfly"};
    for (const char* w : words)
        if (repo.find(w) != std::string::npos) return true;
    return false;
}

// The depends_on edges by index into file.services (names are checked by now).
util::Adjacency dependency_edges(const ComposeFile& file) {
    std::map<std::string, std::size_t> index_of;
    for (std::size_t i = 0; i < file.services.size(); ++i) index_of[file.services[i].name] = i;
    util::Adjacency edges(file.services.size());
    for (std::size_t i = 0; i < file.services.size(); ++i)
        for (const auto& edge : file.services[i].depends_on)
            edges[i].push_back(index_of.at(edge.name));
    return edges;
}

// Refuses a dependency cycle, naming it: "a → b → a", at the edge that closes it.
void refuse_cycles(const std::string& path, const ComposeFile& file) {
    const std::vector<std::size_t> members = util::topological_order(dependency_edges(file)).cycle;
    if (members.empty()) return;
    std::string cycle;
    for (std::size_t m : members) cycle += file.services[m].name + " → ";
    const ComposeService& last = file.services[members.back()];
    const std::string& first = file.services[members.front()].name;
    const auto edge = std::find_if(last.depends_on.begin(), last.depends_on.end(),
                                   [&first](const auto& e) { return e.name == first; });
    file::refuse_at(file::Where{&path}, edge->node, "services." + last.name + ".depends_on",
                    "dependency cycle: " + cycle + first,
                    "compose refuses it too: remove one of these depends_on entries");
}

// Longest path from a service without dependencies (no cycles by now).
std::map<std::string, int> layers_of(const ComposeFile& file) {
    const std::vector<double> ones(file.services.size(), 1.0);
    const std::vector<double> longest = *util::longest_paths(dependency_edges(file), ones);
    std::map<std::string, int> layer;
    for (std::size_t i = 0; i < file.services.size(); ++i)
        layer[file.services[i].name] = static_cast<int>(longest[i]) - 1;
    return layer;
}

std::string stage_name(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string next = (i ? " + " : "") + names[i];
        if (out.size() + next.size() > 80) {
            return out + " + " + std::to_string(names.size() - i) + " more";
        }
        out += next;
    }
    return out;
}

std::string number(double value) {
    std::string text = nlohmann::json(std::round(value * 1000) / 1000).dump();
    if (text.size() > 2 && text.substr(text.size() - 2) == ".0") text.resize(text.size() - 2);
    return text;
}

struct Drafter {
    const ComposeFile& file;
    std::string compose;  // "docker compose [-f FILE]"
    std::vector<std::string> notes;
    std::map<std::string, std::string> stage_of;
    std::vector<std::string> jobs;     // targets of service_completed_successfully
    std::vector<std::string> awaited;  // targets of service_healthy

    bool is_job(const std::string& name) const {
        return std::find(jobs.begin(), jobs.end(), name) != jobs.end();
    }
    const ComposeService& service(const std::string& name) const {
        return *std::find_if(file.services.begin(), file.services.end(),
                             [&](const ComposeService& s) { return s.name == name; });
    }

    std::string type_of(const ComposeService& s) const {
        if (is_job(s.name)) return "job";
        if (is_database_image(s.image)) return "database";
        return s.build ? "application" : "container";
    }

    // Waits for docker's own health status, polled at most a second apart, for as long as
    // docker could take to call the container unhealthy.
    YamlValue health_of(const ComposeService& s) {
        const auto& h = s.health;
        YamlValue m = YamlValue::map();
        const std::string cmd = "test \"$(" + compose + " ps --format '{{.Health}}' " +
                                shell_word(s.name) + ")\" = healthy";
        m.put("cmd", YamlValue::text(cmd));
        const double poll = std::min(h.interval_s, 1.0) > 0 ? std::min(h.interval_s, 1.0) : 1.0;
        const double window = h.retries * (h.interval_s + h.timeout_s);
        m.put("attempts", YamlValue::raw(std::to_string(int(std::ceil(window / poll)) + 1)));
        m.put("interval", YamlValue::raw(number(poll)));
        if (h.start_period_s > 0) m.put("start_period", YamlValue::raw(number(h.start_period_s)));
        if (!h.test.empty())
            m.comments.push_back("compose healthcheck (docker runs it): " + h.test + ", every " +
                                 number(h.interval_s) + "s, " + std::to_string(h.retries) +
                                 " retries");
        return m;
    }

    // compose's conditions map one to one (DESIGN §8); all healthy: the short form, a list.
    static std::string_view condition_of(const std::string& compose_condition) {
        if (compose_condition == "service_started") return to_string(EdgeCondition::started);
        if (compose_condition == "service_completed_successfully")
            return to_string(EdgeCondition::completed);
        return to_string(EdgeCondition::healthy);
    }

    YamlValue depends_of(const ComposeService& s) {
        const bool all_healthy =
            std::all_of(s.depends_on.begin(), s.depends_on.end(), [](const file::ComposeEdge& e) {
                return condition_of(e.condition) == to_string(EdgeCondition::healthy);
            });
        YamlValue out = all_healthy ? YamlValue::list() : YamlValue::map();
        std::string said;
        for (const auto& edge : s.depends_on) {
            if (all_healthy)
                out.items.push_back(YamlValue::text(edge.name));
            else
                out.put(edge.name, YamlValue::raw(std::string(condition_of(edge.condition))));
            said += (said.empty() ? "" : ", ") + edge.name + " " + edge.condition;
            const std::string who = "service " + s.name + ": depends_on " + edge.name;
            const ComposeService& dep = service(edge.name);
            if (edge.condition == "service_healthy" && dep.health.disabled)
                notes.push_back(who + ": service_healthy, but its healthcheck is disabled");
            if (!edge.required)
                notes.push_back(who + ": required: false is not kept (depctl always waits)");
            if (edge.restart)
                notes.push_back(who +
                                ": restart: true is not kept (depctl does not restart "
                                "dependents when a dependency is redeployed)");
        }
        out.comments.push_back("compose: " + said);
        return out;
    }

    YamlValue service_of(const ComposeService& s) {
        YamlValue m = YamlValue::map();
        const std::string name = shell_word(s.name);
        const bool job = is_job(s.name);
        m.put("type", YamlValue::raw(type_of(s)));
        m.put("stage", YamlValue::text(stage_of.at(s.name)));
        if (s.build) m.put("build", YamlValue::text(compose + " build " + name));
        m.put("deploy",
              YamlValue::text(job ? compose + " up --no-deps --exit-code-from " + name + " " + name
                                  : compose + " up -d --no-deps " + name));
        m.put("stop", YamlValue::text(compose + " stop " + name));
        const bool awaited_without_check =
            !s.health.present && !s.health.disabled &&
            std::find(awaited.begin(), awaited.end(), s.name) != awaited.end();
        if (s.health.present || awaited_without_check) m.put("health", health_of(s));
        if (awaited_without_check)
            notes.push_back("service " + s.name +
                            ": awaited as healthy without a healthcheck: "
                            "the health command waits for the image's own HEALTHCHECK");
        if (!s.depends_on.empty()) m.put("depends_on", depends_of(s));
        if (!s.profiles.empty()) {
            m.put("skip", YamlValue::raw("true"));
            std::string list;
            for (const auto& p : s.profiles) list += (list.empty() ? "" : ", ") + p;
            m.entries.back().second.comments.push_back("in compose profiles [" + list +
                                                       "]: `docker compose up` leaves it out too");
            notes.push_back("service " + s.name + ": in profiles [" + list +
                            "], imported with skip: true");
        }
        if (!s.left_to_compose.empty()) {
            std::string keys;
            for (const auto& k : s.left_to_compose) keys += (keys.empty() ? "" : ", ") + k;
            m.comments.push_back("left to docker compose: " + keys);
            notes.push_back("service " + s.name +
                            ": left to docker compose (no depctl key): " + keys);
        }
        return m;
    }

    YamlValue stages() {
        const auto layer = layers_of(file);
        int deepest = 0;
        for (const auto& entry : layer) deepest = std::max(deepest, entry.second);
        YamlValue list = YamlValue::list();
        for (int i = 0; i <= deepest; ++i) {
            std::vector<std::string> names;
            for (const auto& s : file.services)
                if (layer.at(s.name) == i) names.push_back(s.name);
            const std::string name = stage_name(names);
            for (const auto& n : names) stage_of[n] = name;
            YamlValue stage = YamlValue::map();
            stage.put("name", YamlValue::text(name));
            stage.put("description",
                      YamlValue::text(i == 0 ? "compose services without dependencies"
                                             : "layer " + std::to_string(i + 1) +
                                                   " of the compose dependency graph"));
            list.items.push_back(stage);
        }
        return list;
    }

    std::string draft(const std::string& source, const std::string& environment) {
        for (const auto& s : file.services)
            for (const auto& edge : s.depends_on) {
                if (edge.condition == "service_completed_successfully") jobs.push_back(edge.name);
                if (edge.condition == "service_healthy") awaited.push_back(edge.name);
            }
        YamlValue root = YamlValue::map();
        root.put("project", YamlValue::text(file.project));
        root.put("stages", stages());
        YamlValue services = YamlValue::map();
        for (const auto& s : file.services) services.put(s.name, service_of(s));
        root.put("services", services);
        YamlValue envs = YamlValue::map();
        envs.put(environment, YamlValue::map());
        root.put("environments", envs);
        return "# yaml-language-server: $schema=https://depctl.dev/schema/depctl.schema.json\n"
               "# Drafted by `depctl import compose` from " +
               source + ": review it, then `depctl apply`.\n" + file::write_yaml(root);
    }
};

}  // namespace

ComposeImport import_compose(const std::string& path, std::string_view text,
                             const std::string& project_name, const std::string& environment) {
    const ComposeFile file = file::read_compose(path, text, project_name);
    refuse_cycles(path, file);
    Drafter drafter{file, compose_command(path), file.notes, {}, {}, {}};
    ComposeImport out{drafter.draft(path, environment), std::move(drafter.notes)};
    try {
        parse_pipeline_file(k_pipeline_file_name, out.yaml);
    } catch (const Error& e) {
        throw Error(ErrorKind::Refused,
                    "the file drafted from " + path + " is refused: " + e.what(),
                    "rename the compose service it names (depctl names ignore letter case)");
    }
    return out;
}

}  // namespace depctl
