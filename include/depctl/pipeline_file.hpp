// The pipeline file, depctl.yaml (DESIGN §8): parse and validate it into the definition it
// describes, compare that with the state, apply it in one transaction, export the state as
// a file, print the file's JSON Schema, and draft a file from a docker compose file.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "depctl/model.hpp"

namespace depctl {

inline constexpr const char* k_pipeline_file_name = "depctl.yaml";

// A file read and validated. `desired` is the definition it describes, built with the same
// core operations the CLI runs (so a refusal reads as the CLI's), with fresh ids.
struct PipelineFile {
    std::string path;    // as shown in messages: "depctl.yaml:12:5: ..."
    std::string sha256;  // of the file's bytes
    State desired;
};

// Throws Error{Refused} "PATH:LINE:COLUMN: KEY.PATH: what" (with a did-you-mean hint where
// one helps) for anything the schema or the model refuses.
PipelineFile parse_pipeline_file(const std::string& path, std::string_view text);

// The state after applying `file` to `current`: objects matched by name (any letter case)
// keep their ids, deployed versions and statuses; objects missing from the file go. With
// `only_environment`, that environment alone is created or replaced.
State applied_state(const State& current, const PipelineFile& file,
                    const std::optional<std::string>& only_environment);

// A hash of the state's definition: everything `diff` compares, without the services'
// deployed status and the applied-file mark. A whole-file apply records
// "FILE_SHA256:FINGERPRINT" in project.applied_file_sha256; while the file's bytes and the
// definition both still match it, the state is in sync with the file and `diff` (and the
// drift warning) can say so without parsing the file.
std::string definition_fingerprint(const State& state);
bool in_sync_with_file(const State& state, std::string_view file_bytes);

// What applying would change, object by object.
struct DefinitionChange {
    char action = '~';  // '+' added, '-' removed, '~' changed, '^' moved (position)
    std::string kind;   // "project", "environment", "stage", "service"
    std::string environment;
    std::string name;
    std::string field;  // for '~' and '^'
    std::string from;
    std::string to;
};
std::vector<DefinitionChange> diff_definitions(const State& current, const State& target,
                                               const std::optional<std::string>& only_environment);
std::string render_diff(const std::vector<DefinitionChange>& changes);
nlohmann::json diff_to_json(const std::vector<DefinitionChange>& changes);

// The file of the state (or of one environment): keys in the schema's order, defaults left
// out, shared stages and services written once with per-environment overrides.
std::string export_pipeline_file(const State& state,
                                 const std::optional<std::string>& only_environment);

// The JSON Schema (draft 2020-12) of the file, from the parser's own table of keys.
nlohmann::json pipeline_file_schema();

// A pipeline file drafted from a docker compose file (the mapping of docs/compose.md).
// `notes` lists what has no equivalent or is mapped loosely (also kept as comments in
// `yaml`); nothing is dropped silently. `project_name` is used when the compose file has no
// `name:`; `environment` is the one environment of the draft. Throws Error{Refused}
// "PATH:LINE:COLUMN: ..." for a cycle, an undefined dependency, `include`/`extends`, ...
struct ComposeImport {
    std::string yaml;
    std::vector<std::string> notes;
};
ComposeImport import_compose(const std::string& path, std::string_view text,
                             const std::string& project_name, const std::string& environment);

}  // namespace depctl
