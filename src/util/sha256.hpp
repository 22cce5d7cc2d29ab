// SHA-256 (FIPS 180-4) of a byte string, as 64 lowercase hex digits.
#pragma once

#include <string>
#include <string_view>

namespace depctl {

// best: the CPU's SHA instructions when it has them, else portable code (the same digest;
// portable exists so the tests can compare the two).
enum class Sha256Impl { best, portable };

std::string sha256_hex(std::string_view bytes, Sha256Impl impl = Sha256Impl::best);

}  // namespace depctl
