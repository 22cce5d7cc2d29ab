// Which etcd endpoint answered last, remembered across a user's depctl processes (issue #14
// item 3): a command starts at the member that answered the previous command, so a hung
// member listed first costs one timeout once, not one per command.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace depctl {

// $XDG_STATE_HOME when it is an absolute path, else ~/.local/state (the XDG default).
std::filesystem::path user_state_home();

// The index that answered last for exactly this endpoint list, or 0 (the first endpoint)
// when nothing usable is remembered.
std::size_t recall_endpoint(const std::vector<std::string>& endpoints);

// Remembers `index` for this list, for the next process. Best effort: a file that cannot be
// written changes nothing but the next process's first choice.
void remember_endpoint(const std::vector<std::string>& endpoints, std::size_t index);

}  // namespace depctl
