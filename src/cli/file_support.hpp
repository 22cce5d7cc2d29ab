// The pipeline file from the CLI's side: finding depctl.yaml, reading it, the drift
// warnings of DESIGN §8. Used by cmd_file.cpp, the deploy command and definition edits.
#pragma once

#include <optional>
#include <string>

#include "common.hpp"
#include "depctl/pipeline_file.hpp"

namespace depctl::cli {

// `-f FILE` ("-" is stdin), else the nearest depctl.yaml walking up from the current
// directory; nullopt when there is none and no -f was given.
std::optional<std::string> find_pipeline_file(const std::string& flag);
// Reads its bytes ("-" is stdin, read once), refusing what is not a file, too large or not
// UTF-8.
std::string read_pipeline_text(const std::string& path);
// Parses bytes read from `path`; refusals carry FILE:LINE:COLUMN.
PipelineFile parse_pipeline_text(const std::string& path, std::string_view text);
// Both of the above.
PipelineFile load_pipeline_file(const std::string& path);

// Applies `file` in one transaction (creating the state next to the file when there is
// none yet) and returns the committed state.
State commit_pipeline_file(const Options& options, const PipelineFile& file,
                           const std::optional<std::string>& only_environment);

// After a definition edit: a state that came from a file is told it will be undone.
void warn_if_file_managed(const Options& options, const State& state);
// Before a deploy: a warning on stderr when depctl.yaml and the environment differ.
void warn_if_file_differs(const Options& options, const State& state,
                          const std::string& environment_name);

}  // namespace depctl::cli
