#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "depctl/error.hpp"
#include "depctl/secrets.hpp"
#include "test_support.hpp"

using namespace depctl;

TEST_CASE("masker replaces values, also across chunk boundaries") {
    SecretMasker masker({"hunter2", "s3cr3t-token"});
    std::string out;
    for (std::string chunk : {"pass=hun", "ter2 and ", "s3cr3t", "-token!", " hunter", "2"})
        out += masker.feed(chunk);
    out += masker.finish();
    CHECK(out == "pass=*** and ***! ***");
}

TEST_CASE("masker: byte-at-a-time feeding never leaks a prefix early") {
    const std::string secret = "correct horse battery";
    SecretMasker masker({secret});
    const std::string text = "a " + secret + " b " + secret.substr(0, 7) + " c";
    std::string out;
    for (char c : text) out += masker.feed(std::string(1, c));
    out += masker.finish();
    CHECK(out == "a *** b correct c");
    CHECK(out.find(secret) == std::string::npos);
}

TEST_CASE("masker without patterns passes through") {
    SecretMasker masker({});
    CHECK(masker.feed("abc") == "abc");
    CHECK(masker.finish().empty());
}

TEST_CASE("multi-line secrets mask each line too") {
    const auto patterns = mask_patterns({{"KEY", "line-one\nline-two"}});
    CHECK(mask_secrets("x line-two y line-one\nline-two z", patterns) == "x *** y *** z");
}

TEST_CASE("resolve_secrets reads env and files and names what is missing") {
    testing::TempDir dir;
    const auto path = dir.path() / "token";
    std::ofstream(path) << "from-file\n";
    ::setenv("DEPCTL_UNIT_SECRET", "from-env", 1);
    Service s;
    s.name = "Api";
    s.secrets = {{"A", "env:DEPCTL_UNIT_SECRET"}, {"B", "file:" + path.string()}};
    const auto resolved = resolve_secrets(s);
    CHECK(resolved[0].second == "from-env");
    CHECK(resolved[1].second == "from-file");
    s.secrets = {{"C", "env:DEPCTL_UNIT_SECRET_MISSING"}};
    try {
        resolve_secrets(s);
        FAIL("missing variable accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("DEPCTL_UNIT_SECRET_MISSING") != std::string::npos);
    }
    s.secrets = {{"D", "file:/nonexistent/depctl"}};
    CHECK_THROWS_AS(resolve_secrets(s), Error);
}
