// The state loader and validator on what a hand-edited or damaged state.json can hold.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "depctl/error.hpp"
#include "depctl/model.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/validate.hpp"

using namespace depctl;

namespace {

// A valid state with one environment and one service, as JSON to edit.
nlohmann::json model_sample() {
    State state = new_state("demo");
    create_environment(state, {"dev", EnvironmentType::development, std::nullopt});
    Service service;
    service.id = new_id("svc_");
    service.name = "Api";
    service.stage_id = state.environments[0].stages.back().id;
    state.environments[0].services.push_back(service);
    return to_json(state);
}

std::string store_error(const nlohmann::json& doc) {
    try {
        parse_state(doc.dump(), "test");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Corrupt);
        return e.what();
    }
    FAIL("accepted: " << doc.dump());
    return {};
}

nlohmann::json& api(nlohmann::json& doc) {
    return doc["environments"][0]["services"][0];
}

}  // namespace

TEST_CASE("state loader: numbers are range-checked before they are converted") {
    CHECK_NOTHROW(parse_state(model_sample().dump(), "test"));
    auto doc = model_sample();
    api(doc)["deploy_timeout_s"] = -5;
    CHECK_THAT(
        store_error(doc),
        Catch::Contains(R"(field "deploy_timeout_s" is out of range: -5 (allowed: 1 to 604800))"));
    api(doc)["deploy_timeout_s"] = 1e300;  // converting this to int would be undefined behaviour
    CHECK_THAT(store_error(doc), Catch::Contains("out of range"));
    api(doc)["deploy_timeout_s"] = 30;
    api(doc)["retries"] = 1.5;
    CHECK_THAT(store_error(doc), Catch::Contains(R"(field "retries" is not a whole number: 1.5)"));
    api(doc)["retries"] = 100;
    api(doc)["health"] = {{"cmd", "true"}, {"interval_s", 0}};
    CHECK_THAT(store_error(doc), Catch::Contains(R"(field "interval_s" is out of range)"));
    api(doc)["health"] = {{"cmd", "true"}, {"interval_s", 0.25}, {"attempts", 3}};
    CHECK(parse_state(doc.dump(), "test").environments[0].services[0].health.interval_s == 0.25);
    doc["schema_version"] = 1e30;
    CHECK_THAT(store_error(doc), Catch::Contains(R"(field "schema_version" is out of range)"));
    doc["schema_version"] = 2;
    CHECK_THAT(store_error(doc), Catch::Contains("newer than this depctl supports"));
}

TEST_CASE("validation refuses text that is not UTF-8, naming the field") {
    State state = parse_state(model_sample().dump(), "test");
    CHECK_NOTHROW(validate_state(state, ErrorKind::Refused));
    state.environments[0].services[0].deploy = "echo \xff";
    try {
        validate_state(state, ErrorKind::Refused);
        FAIL("accepted a command that is not UTF-8");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Refused);
        CHECK(std::string(e.what()) == R"(--deploy of service "Api" is not valid UTF-8)");
    }
    state.environments[0].services[0].deploy = "echo ok";
    state.environments[0].services[0].name = "Caf\xe9";
    CHECK_THROWS_WITH(validate_state(state, ErrorKind::Refused),
                      Catch::Contains("is not valid UTF-8"));
    state.environments[0].services[0].name = "Api";
    state.environments[0].services[0].env["GREETING"] = "gr\xfc\xdf";
    CHECK_THROWS_WITH(validate_state(state, ErrorKind::Refused),
                      R"(variable "GREETING" of service "Api" is not valid UTF-8)");
}

TEST_CASE("a state that loads survives its own round trip") {
    const State state = parse_state(model_sample().dump(), "test");
    const std::string once = serialize_state(state);
    CHECK(serialize_state(parse_state(once, "again")) == once);
}

TEST_CASE("depends_on: a plain id is a healthy edge, other conditions are objects") {
    nlohmann::json doc = model_sample();
    Service db;
    db.id = "svc_db";
    db.name = "DB";
    db.stage_id = api(doc)["stage_id"];
    doc["environments"][0]["services"].push_back(to_json(db));
    // A state written before edge conditions: ids only.
    api(doc)["depends_on"] = {"svc_db"};
    State old = parse_state(doc.dump(), "test");
    REQUIRE(old.environments[0].services[0].depends_on.size() == 1);
    CHECK(old.environments[0].services[0].depends_on[0] ==
          Dependency{"svc_db", EdgeCondition::healthy});
    CHECK(to_json(old.environments[0].services[0])["depends_on"] == nlohmann::json({"svc_db"}));
    // started and completed round-trip as objects.
    api(doc)["depends_on"] = nlohmann::json::array({{{"id", "svc_db"}, {"condition", "started"}}});
    State now = parse_state(doc.dump(), "test");
    CHECK(now.environments[0].services[0].depends_on[0].condition == EdgeCondition::started);
    CHECK(to_json(now.environments[0].services[0])["depends_on"] == api(doc)["depends_on"]);
    // Anything else is refused, naming what is wrong.
    api(doc)["depends_on"] = nlohmann::json::array({{{"id", "svc_db"}, {"condition", "ready"}}});
    CHECK(store_error(doc).find("unknown depends_on condition \"ready\"") != std::string::npos);
    api(doc)["depends_on"] = nlohmann::json::array({{{"condition", "started"}}});
    CHECK(store_error(doc).find("missing field \"id\"") != std::string::npos);
    api(doc)["depends_on"] = nlohmann::json::array({7});
    CHECK(store_error(doc).find("depends_on entry") != std::string::npos);
}
