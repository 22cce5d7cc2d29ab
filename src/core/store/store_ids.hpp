// An id as the stores put it into a file name or an etcd key (locks, queues, history).
#pragma once

#include <string>

namespace depctl {

// Refuses what could leave its directory or prefix: empty, long, a '/', a "..".
inline bool path_safe_id(const std::string& id) {
    return !id.empty() && id.size() < 64 && id.find('/') == std::string::npos &&
           id.find("..") == std::string::npos;
}

}  // namespace depctl
