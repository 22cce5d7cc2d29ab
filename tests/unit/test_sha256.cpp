#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "util/sha256.hpp"

using namespace depctl;

TEST_CASE("sha256: FIPS 180-4 test vectors, both implementations") {
    for (Sha256Impl impl : {Sha256Impl::best, Sha256Impl::portable}) {
        CHECK(sha256_hex("", impl) ==
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        CHECK(sha256_hex("abc", impl) ==
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", impl) ==
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        CHECK(sha256_hex(std::string(1000000, 'a'), impl) ==
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }
}

TEST_CASE("sha256: the CPU's instructions give the portable digest at every length") {
    std::mt19937 rng(19);
    std::string bytes;
    for (std::size_t length = 0; length < 300; ++length) {
        INFO("length " << length);
        REQUIRE(sha256_hex(bytes) == sha256_hex(bytes, Sha256Impl::portable));
        bytes.push_back(static_cast<char>(rng() & 0xff));
    }
}
