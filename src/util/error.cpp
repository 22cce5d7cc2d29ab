#include "util/error.hpp"

#include <cstring>

namespace depctl::util {

void throw_errno(const std::string& what, int err) {
    throw Error(what + ": " + std::strerror(err));
}

}  // namespace depctl::util
