// The table of keys (see file_keys.hpp). Descriptions become the schema's and editors'
// hover text; docs/pipeline-file.md shows an example of each.
#include "core/file/file_keys.hpp"

#include "depctl/model.hpp"

namespace depctl::file {
namespace {

const std::vector<std::string_view> k_service_types = {"application", "container", "database",
                                                       "job", "helm"};

// The values of a `depends_on` map, from the model's one table.
std::vector<std::string_view> edge_condition_names() {
    std::vector<std::string_view> out;
    for (EdgeCondition condition : k_edge_conditions) out.push_back(to_string(condition));
    return out;
}

std::vector<KeySpec> make_health_keys() {
    return {
        {"http", KeyType::string, "URL polled after deploy (--health-http)"},
        {"cmd", KeyType::string, "Command, healthy on exit 0 (--health-cmd)"},
        {"attempts",
         KeyType::integer,
         "Attempts before giving up (default 300)",
         {},
         nullptr,
         false,
         1},
        {"interval", KeyType::number,
         "Seconds per attempt; probes start fast and slow to one per interval (default 0.5)"},
        {"connect_timeout", KeyType::number, "HTTP connect timeout in seconds (default 0.4)"},
        {"timeout", KeyType::number, "HTTP response timeout in seconds (default 20)"},
        {"expect", KeyType::string, "Healthy HTTP status or range, e.g. 200-399"},
        {"start_period", KeyType::number,
         "Seconds after the first attempt during which failures do not count"},
    };
}

std::vector<KeySpec> make_service_keys() {
    return {
        {"type", KeyType::enumeration, "APPLICATION, CONTAINER, DATABASE, JOB or HELM",
         k_service_types},
        {"stage", KeyType::string, "Stage name (default: the type's default stage)"},
        {"workdir", KeyType::string, "Directory the commands run in, relative to the project"},
        {"version_from",
         KeyType::enumeration,
         "project (the deployment's version; the default) or git-tree (the git tree hash of the "
         "workdir as it is on disk: a monorepo deploys only what a commit touched)",
         {"project", "git-tree"}},
        {"build", KeyType::string, "Build command (no environment variables or secrets)"},
        {"release", KeyType::string, "Release command, after the build and before deploy"},
        {"deploy", KeyType::string, "Deploy command"},
        {"stop", KeyType::string, "Stop command (environment stop)"},
        {"health", KeyType::object, "Health check run after deploy", {}, &health_keys()},
        {"env", KeyType::variables, "Variables for release, deploy, health and stop"},
        {"secrets", KeyType::secrets, "Secrets read at deploy time: env:VAR or file:PATH"},
        {"depends_on", KeyType::depends_on,
         "Services waited for (same or earlier stage): a list (each healthy), or a map of "
         "name: healthy (health step passed), started (deploy step succeeded) or completed "
         "(every step succeeded: jobs)",
         edge_condition_names()},
        {"build_timeout",
         KeyType::integer,
         "Build step timeout in seconds (default 1800)",
         {},
         nullptr,
         false,
         1},
        {"deploy_timeout",
         KeyType::integer,
         "Release/deploy step timeout in seconds (default 600)",
         {},
         nullptr,
         false,
         1},
        {"retries",
         KeyType::integer,
         "Retries of a failed build or deploy step (default 0)",
         {},
         nullptr,
         false,
         0},
        {"skip", KeyType::boolean, "Leave the service out of deployments (stage skip)"},
    };
}

std::vector<KeySpec> make_stage_keys() {
    return {
        {"name", KeyType::string, "Stage name", {}, nullptr, true},
        {"description", KeyType::string, "What the stage is for"},
        {"max_parallel",
         KeyType::integer,
         "At most this many of the stage's services in release/deploy/health at once",
         {},
         nullptr,
         false,
         1},
    };
}

std::vector<KeySpec> make_environment_keys() {
    return {
        {"type",
         KeyType::enumeration,
         "development (default), staging or production",
         {"development", "staging", "production"}},
        {"require_approval", KeyType::boolean, "Ask before deploying (--yes without a TTY)"},
        {"pre_deploy", KeyType::string, "Command run before any step of a deployment"},
        {"post_deploy", KeyType::string, "Command run after the last step"},
        {"stages",
         KeyType::object_list,
         "This environment's own stages, replacing the shared list",
         {},
         &stage_keys()},
        {"services",
         KeyType::named_objects,
         "Per-environment overrides, merged key by key; a service with a type here exists in "
         "this environment only",
         {},
         &service_keys()},
    };
}

std::vector<KeySpec> make_top_level_keys() {
    return {
        {"project", KeyType::string, "Project name", {}, nullptr, true},
        {"enforced_order", KeyType::string_list,
         "Environments a version must pass through, in order"},
        {"stages",
         KeyType::object_list,
         "Every environment's stages, in deployment order",
         {},
         &stage_keys()},
        {"services",
         KeyType::named_objects,
         "Every environment's services, by name",
         {},
         &service_keys()},
        {"environments",
         KeyType::named_objects,
         "The environments, by name",
         {},
         &environment_keys()},
    };
}

}  // namespace

const std::vector<KeySpec>& health_keys() {
    static const std::vector<KeySpec> keys = make_health_keys();
    return keys;
}
const std::vector<KeySpec>& service_keys() {
    static const std::vector<KeySpec> keys = make_service_keys();
    return keys;
}
const std::vector<KeySpec>& stage_keys() {
    static const std::vector<KeySpec> keys = make_stage_keys();
    return keys;
}
const std::vector<KeySpec>& environment_keys() {
    static const std::vector<KeySpec> keys = make_environment_keys();
    return keys;
}
const std::vector<KeySpec>& top_level_keys() {
    static const std::vector<KeySpec> keys = make_top_level_keys();
    return keys;
}

const KeySpec* find_key(const std::vector<KeySpec>& keys, std::string_view name) {
    for (const auto& key : keys)
        if (key.name == name) return &key;
    return nullptr;
}

}  // namespace depctl::file
