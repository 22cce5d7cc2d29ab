// zlib's deflate, whole buffers at a time (the etcd store compresses its values with it).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace depctl::util {

// zlib format (RFC 1950) at `level` (1 fastest .. 9 smallest): the same input and level
// always give the same bytes.
std::string deflate_bytes(std::string_view bytes, int level = 6);
// nullopt when `data` is not a complete zlib stream or inflates to more than `max_bytes`.
std::optional<std::string> inflate_bytes(std::string_view data, std::size_t max_bytes);

}  // namespace depctl::util
