#include "depctl/error.hpp"

#include <cstring>

namespace depctl {

void throw_errno(const std::string& what, int err) {
    throw Error(ErrorKind::Io, what + ": " + std::strerror(err));
}

}  // namespace depctl
