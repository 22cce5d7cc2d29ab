// The etcd backend's pure parts: URL parsing, base64, prefix ranges. The black-box tests
// (tests/cli/test_etcd.py) run it against a real etcd.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "core/store/etcd_client.hpp"
#include "depctl/error.hpp"
#include "depctl/etcd_store.hpp"
#include "util/deflate.hpp"

using namespace depctl;

namespace {

// Sets an environment variable for the scope of a test.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : m_name(name) { ::setenv(name, value, 1); }
    ~ScopedEnv() { ::unsetenv(m_name); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* m_name;
};

ErrorKind kind_of(const std::string& location) {
    try {
        parse_etcd_location(location);
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind::Failed;  // not refused
}

}  // namespace

TEST_CASE("etcd URL: endpoints in order, default port, normalised prefix") {
    const EtcdConfig config =
        parse_etcd_location("etcd://10.0.0.5:2379, etcd-2 ,[::1]:2380//team/shop/");
    REQUIRE(config.endpoints.size() == 3);
    CHECK(config.endpoints[0] == "10.0.0.5:2379");
    CHECK(config.endpoints[1] == "etcd-2:2379");
    CHECK(config.endpoints[2] == "[::1]:2380");
    CHECK(config.prefix == "/team/shop");
    CHECK_FALSE(config.tls);
    CHECK(config.url() == "etcd://10.0.0.5:2379,etcd-2:2379,[::1]:2380/team/shop");
    CHECK(config.request_timeout_s == 5);
    CHECK(config.lease_ttl_s == 10);
    CHECK(parse_etcd_location("etcd://[::1]/p").endpoints.front() == "[::1]:2379");
    CHECK(parse_etcd_location("etcds://h:1/p").tls);
    CHECK(is_etcd_location("etcds://h/p"));
    CHECK_FALSE(is_etcd_location("/srv/etcd://x"));
}

TEST_CASE("etcd URL: refused without a prefix, with credentials or empty endpoints") {
    CHECK(kind_of("etcd://127.0.0.1:2379") == ErrorKind::Refused);
    CHECK(kind_of("etcd://127.0.0.1:2379/") == ErrorKind::Refused);
    CHECK(kind_of("etcd://user:pw@127.0.0.1:2379/p") == ErrorKind::Refused);
    CHECK(kind_of("etcd://a:1,,b:2/p") == ErrorKind::Refused);
    CHECK(kind_of("etcd://a:1/p\x01q") == ErrorKind::Refused);
}

TEST_CASE("etcd URL: DEPCTL_ETCD_* variables") {
    {
        ScopedEnv timeout("DEPCTL_ETCD_TIMEOUT", "1.5");
        ScopedEnv ttl("DEPCTL_ETCD_LEASE_TTL", "3");
        ScopedEnv ca("DEPCTL_ETCD_CACERT", "/etc/etcd/ca.pem");
        const EtcdConfig config = parse_etcd_location("etcd://h:1/p");
        CHECK(config.request_timeout_s == 1.5);
        CHECK(config.lease_ttl_s == 3);
        CHECK(config.tls);  // a CA bundle means TLS
        CHECK(config.ca_file == "/etc/etcd/ca.pem");
        CHECK(config.url() == "etcds://h:1/p");
    }
    ScopedEnv bad("DEPCTL_ETCD_TIMEOUT", "soon");
    CHECK(kind_of("etcd://h:1/p") == ErrorKind::Refused);
}

TEST_CASE("base64 as etcd's gateway speaks it") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("/shop/env/env_1") == "L3Nob3AvZW52L2Vudl8x");
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
    for (std::size_t n = 0; n <= bytes.size(); n += 17) {
        CHECK(base64_decode(base64_encode(bytes.substr(0, n))) == bytes.substr(0, n));
    }
    CHECK_THROWS_AS(base64_decode("Zm9v!"), Error);
}

TEST_CASE("prefix range end covers exactly the keys under a prefix") {
    CHECK(prefix_range_end("/shop/") == "/shop0");
    CHECK(prefix_range_end("a\xff") == "b");
    // The end is exclusive: env_1's records are inside, env_10's are not.
    const std::string end = prefix_range_end("/shop/history/env_1/");
    CHECK(end > "/shop/history/env_1/99999999999999999999");
    CHECK(end <= "/shop/history/env_10");
}

TEST_CASE("environment values: any deflate level reads back, each level always the same bytes") {
    std::string text;
    for (int i = 0; i < 2000; ++i)
        text += R"({"name":"service-)" + std::to_string(i) + R"(","deploy":"./deploy.sh"},)";
    const std::string fast = util::deflate_bytes(text, 1);
    const std::string small = util::deflate_bytes(text);  // level 6, as values written before #19
    CHECK(fast == util::deflate_bytes(text, 1));
    CHECK(fast != small);
    CHECK(util::inflate_bytes(fast, text.size()) == text);
    CHECK(util::inflate_bytes(small, text.size()) == text);
    CHECK_FALSE(util::inflate_bytes(fast, text.size() - 1).has_value());
}
