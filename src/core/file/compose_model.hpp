// A docker compose file as `import compose` reads it (the Compose Specification's parts
// that have a depctl meaning), and what it leaves to docker compose.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

namespace depctl::file {

// One `depends_on` entry. `condition` is compose's own word (service_started, ...).
struct ComposeEdge {
    std::string name;
    std::string condition = "service_started";
    bool required = true;
    bool restart = false;
    YAML::Node node;  // for messages
};

struct ComposeHealth {
    bool present = false;    // a `healthcheck:` that is not disabled
    bool disabled = false;   // `disable: true` or `test: [NONE]`
    std::string test;        // as compose runs it, for the comment ("CMD-SHELL pg_isready")
    double interval_s = 30;  // compose's defaults
    double timeout_s = 30;
    double start_period_s = 0;
    int retries = 3;
};

struct ComposeService {
    std::string name;
    YAML::Node name_node;
    std::string image;
    bool build = false;
    std::vector<ComposeEdge> depends_on;
    ComposeHealth health;
    std::vector<std::string> profiles;
    // Keys docker compose still applies at `up` that depctl has no word for, as
    // "ports", "environment (POSTGRES_USER, POSTGRES_PASSWORD)": names only, never values.
    std::vector<std::string> left_to_compose;
};

struct ComposeFile {
    std::string project;
    std::vector<ComposeService> services;
    std::vector<std::string> notes;  // top-level keys left to docker compose or ignored
};

// Throws Error{Refused} "PATH:LINE:COLUMN: KEY.PATH: what" for what compose would refuse
// too (unknown dependency, bad condition or duration) and for `include`/`extends`.
ComposeFile read_compose(const std::string& path, std::string_view text,
                         const std::string& default_project);

// Compose's durations: "1m30s", "10s", "1.5s", "500ms", "2h", "0" -> seconds; nullopt if not one.
std::optional<double> compose_duration(std::string_view text);

}  // namespace depctl::file
