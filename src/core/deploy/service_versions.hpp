// Per-service versions (DESIGN §9 "Only what changed"): a service with `version_from:
// git-tree` deploys the git tree hash of its workdir as it is on disk, not the deployment's
// version, so that in a monorepo a change to one service's directory changes one version.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "depctl/model.hpp"

namespace depctl {

// Service id -> its own version, for every service of `env` whose version_from is git-tree
// (none: an empty map, and no git run). The tree hashes come from one shell running git
// against a copy of the repository's index, so uncommitted and untracked (not ignored) files
// count and the user's index is left alone. Error{Refused} naming the service when its
// workdir is not inside a git work tree or holds no file git would add.
std::map<std::string, std::string> git_tree_versions(const Environment& env,
                                                     const std::filesystem::path& project_dir);

}  // namespace depctl
