#include <catch2/catch.hpp>

#include "depctl/error.hpp"
#include "depctl/names.hpp"

using namespace depctl;

TEST_CASE("names are trimmed and checked") {
    CHECK(checked_name("  Backend ", "service") == "Backend");
    CHECK_THROWS_AS(checked_name("   ", "service"), Error);
    CHECK_THROWS_AS(checked_name(std::string(101, 'a'), "service"), Error);
    CHECK(checked_name(std::string(100, 'a'), "service").size() == 100);
    CHECK_THROWS_AS(checked_name("a\tb", "service"), Error);
    try {
        checked_name("bad\x01name", "stage");
        FAIL("accepted a control character");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Refused);
        CHECK(std::string(e.what()).find("control character") != std::string::npos);
    }
}

TEST_CASE("close matches suggest what the user meant") {
    const std::vector<std::string> names = {"Backend", "Frontend", "API gateway", "DB"};
    CHECK(close_matches("backnd", names).front() == "Backend");
    CHECK(close_matches("api", names).front() == "API gateway");
    CHECK(close_matches("zzzzzzzz", names).empty());
    CHECK(suggestion_hint("Frontnd", names) == "did you mean \"Frontend\"?");
}

TEST_CASE("quoted escapes control characters and shortens long names") {
    CHECK(show_name("a\nb") == "\"a\\x0ab\"");
    const std::string shown = show_name(std::string(10000, 'x'));
    CHECK(shown.size() < 100);
    CHECK(shown.find("10000 characters") != std::string::npos);
}

TEST_CASE("UTF-8: well-formed text passes, stray, overlong and surrogate sequences do not") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain ASCII"));
    CHECK(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80"));  // é € 🚀
    CHECK_FALSE(is_valid_utf8("caf\xe9"));                              // Latin-1
    CHECK_FALSE(is_valid_utf8("\xff\xfe"));
    CHECK_FALSE(is_valid_utf8("ok\xc3"));            // cut short
    CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
    CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a UTF-16 surrogate
    CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    CHECK(name_problem("caf\xe9") == "is not valid UTF-8");
    // Messages stay valid UTF-8 themselves: every high byte of such a name is escaped.
    CHECK(show_name("caf\xe9") == "\"caf\\xe9\"");
    CHECK(show_name("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
}
