// SHA-256 (FIPS 180-4) of a byte string, as 64 lowercase hex digits.
#pragma once

#include <string>
#include <string_view>

namespace depctl {

std::string sha256_hex(std::string_view bytes);

}  // namespace depctl
