#include "util/deflate.hpp"

#include <zlib.h>

#include "util/error.hpp"

namespace depctl::util {

std::string deflate_bytes(std::string_view bytes, int level) {
    uLongf size = compressBound(static_cast<uLong>(bytes.size()));
    std::string out(size, '\0');
    const int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                             reinterpret_cast<const Bytef*>(bytes.data()),
                             static_cast<uLong>(bytes.size()), level);
    if (rc != Z_OK)
        throw Error("zlib could not compress " + std::to_string(bytes.size()) + " bytes");
    out.resize(size);
    return out;
}

std::optional<std::string> inflate_bytes(std::string_view data, std::size_t max_bytes) {
    z_stream stream{};
    if (inflateInit(&stream) != Z_OK) return std::nullopt;
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char buffer[64 * 1024];
    int rc = Z_OK;
    while (rc == Z_OK) {
        stream.next_out = reinterpret_cast<Bytef*>(buffer);
        stream.avail_out = sizeof buffer;
        rc = inflate(&stream, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) break;
        out.append(buffer, sizeof buffer - stream.avail_out);
        if (out.size() > max_bytes) rc = Z_MEM_ERROR;
    }
    inflateEnd(&stream);
    if (rc != Z_STREAM_END || stream.avail_in != 0) return std::nullopt;
    return out;
}

}  // namespace depctl::util
