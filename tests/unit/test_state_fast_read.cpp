#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "depctl/error.hpp"
#include "depctl/model.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/state_fast_read.hpp"

using namespace depctl;

namespace {

// A state that uses every field the fast reader handles, with text that needs escaping.
State full_state() {
    State state = new_state("démo \"quoted\"");
    state.project.enforced_order = {};
    Environment& env =
        create_environment(state, {"production", EnvironmentType::production, std::nullopt});
    env.require_approval = true;
    env.pre_deploy = "echo pre\tdeploy";
    env.post_deploy = "printf 'a\\nb'";
    ServiceChanges full;
    full.build = "make \"image\" \\ all";
    full.release = "migrate --to=\x01latest";
    full.deploy = "run ☃ 𝄞";
    full.stop = "stop";
    full.workdir = "services/api";
    full.health_http = "http://127.0.0.1:8080/health";
    full.health_expect = "200-399";
    full.env_set = {"PORT=8080", "EMPTY=", "UNICODE=é"};
    full.secret_set = {"TOKEN=env:API_TOKEN"};
    create_service(env, "DB", ServiceType::database, {});
    create_service(env, "Api", ServiceType::application, full);
    Service& worker = create_service(env, "Worker", ServiceType::job, {});
    worker.current = {"1.4.2", "DEPLOYED", "2024-05-01T12:00:00.000Z", "dep_0123456789ab"};
    worker.skipped = true;
    add_dependency(env, "Api", "DB");
    add_dependency(env, "Api", "Worker", EdgeCondition::completed);
    add_dependency(env, "Worker", "DB", EdgeCondition::started);
    create_environment(state, {"staging", EnvironmentType::staging, std::string("production")});
    state.project.enforced_order = {state.environments[1].id, state.environments[0].id};
    return state;
}

State tree_read(const std::string& bytes) {
    return state_from_json(nlohmann::json::parse(bytes));
}

}  // namespace

TEST_CASE("fast state reader: reads what the tree reads") {
    const std::string bytes = serialize_state(full_state());
    const auto fast = read_state_fast(bytes);
    REQUIRE(fast.has_value());
    CHECK(serialize_state(*fast) == serialize_state(tree_read(bytes)));
    CHECK(serialize_state(*fast) == bytes);
    // Compact JSON and \u escapes (including a surrogate pair) read the same.
    const std::string compact = nlohmann::json::parse(bytes).dump(-1, ' ', true);
    const auto from_compact = read_state_fast(compact);
    REQUIRE(from_compact.has_value());
    CHECK(serialize_state(*from_compact) == bytes);
}

TEST_CASE("fast state reader: numbers read as the tree reads them") {
    State state = full_state();
    Service& api = state.environments[0].services[1];
    api.retries = 3;
    api.build_timeout_s = 600;
    api.deploy_timeout_s = 7 * 24 * 3600;
    api.health.attempts = 60;
    api.health.interval_s = 0.25;
    api.health.connect_timeout_s = 1e-3;
    api.health.timeout_s = 2.0;
    api.health.start_period_s = 90.5;
    REQUIRE_FALSE(state.environments[0].stages.empty());
    state.environments[0].stages[0].max_parallel = 4;
    const std::string bytes = serialize_state(state);
    const auto fast = read_state_fast(bytes);
    REQUIRE(fast.has_value());
    CHECK(serialize_state(*fast) == bytes);
    // Spellings the writer never uses but JSON allows: exponents, a whole number as a float.
    for (const char* text : {"1.5E2", "150.0", "15e1", "1500e-1", "0.150e3"}) {
        nlohmann::json doc = nlohmann::json::parse(bytes);
        std::string edited = doc.dump(2);
        const std::string from = "\"interval_s\": 0.25";
        const auto at = edited.find(from);
        REQUIRE(at != std::string::npos);
        edited.replace(at, from.size(), std::string("\"interval_s\": ") + text);
        const auto read = read_state_fast(edited);
        INFO(text);
        REQUIRE(read.has_value());
        CHECK(serialize_state(*read) == serialize_state(tree_read(edited)));
    }
}

TEST_CASE("fast state reader: leaves whatever it does not fully understand to the tree") {
    const nlohmann::json doc = nlohmann::json::parse(serialize_state(full_state()));
    auto with = [&](const std::function<void(nlohmann::json&)>& change) {
        nlohmann::json copy = doc;
        change(copy);
        return copy.dump(2);
    };
    // Each of these is read by the tree (where it may be fine or an error), never half-read here.
    CHECK_FALSE(read_state_fast(with([](nlohmann::json& d) { d["unknown"] = 1; })));
    // Numbers outside the model's limits, or a fraction where a whole number belongs.
    CHECK_FALSE(read_state_fast(
        with([](nlohmann::json& d) { d["environments"][0]["services"][0]["retries"] = 101; })));
    CHECK_FALSE(read_state_fast(with([](nlohmann::json& d) {
        d["environments"][0]["services"][1]["health"]["attempts"] = 2.5;
    })));
    CHECK_FALSE(read_state_fast(with([](nlohmann::json& d) {
        d["environments"][0]["services"][1]["health"]["timeout_s"] = 0;
    })));
    CHECK_FALSE(read_state_fast(
        with([](nlohmann::json& d) { d["environments"][0]["services"][0]["retries"] = "2"; })));
    CHECK_FALSE(read_state_fast(
        with([](nlohmann::json& d) { d["environments"][0]["services"][0]["build"] = nullptr; })));
    CHECK_FALSE(read_state_fast(
        with([](nlohmann::json& d) { d["environments"][0]["services"][0]["type"] = "GADGET"; })));
    CHECK_FALSE(read_state_fast(
        with([](nlohmann::json& d) { d["environments"][0]["services"][0].erase("id"); })));
    CHECK_FALSE(read_state_fast(with([](nlohmann::json& d) { d["schema_version"] = 2; })));
    CHECK_FALSE(read_state_fast(with([](nlohmann::json& d) { d["schema_version"] = 1.0; })));
    const std::string bytes = doc.dump(2);
    CHECK_FALSE(read_state_fast(
        R"({"schema_version": 1, "schema_version": 1, "project": {"id": "prj_a", "name": "a"}})"));
    CHECK_FALSE(read_state_fast(bytes + "x"));                        // trailing garbage
    CHECK_FALSE(read_state_fast("\xEF\xBB\xBF" + bytes));             // a byte order mark
    CHECK_FALSE(read_state_fast(bytes.substr(0, bytes.size() / 2)));  // torn
    CHECK_FALSE(read_state_fast(""));
    std::string bad_utf8 = bytes;
    bad_utf8.replace(bad_utf8.find("run"), 1, "\xff");
    CHECK_FALSE(read_state_fast(bad_utf8));
    // A map key (an env name) with ill-formed UTF-8: the tree refuses it, so must this reader
    // (found by fuzz_state in CI).
    std::string bad_key = bytes;
    const auto port = bad_key.find("\"PORT\"");
    REQUIRE(port != std::string::npos);
    bad_key.replace(port + 3, 2, "\xb5\xff");
    CHECK_FALSE(read_state_fast(bad_key));
    CHECK_THROWS(nlohmann::json::parse(bad_key));
    CHECK_FALSE(
        read_state_fast(R"({"schema_version": 1, "project": {"id": "prj_a", "name": "\ud800"}})"));
    CHECK(read_state_fast(
        R"({"schema_version": 1, "project": {"id": "prj_a", "name": "\ud834\udd1e"}})"));
}

TEST_CASE("parse_state: the fast path's result, and the tree's errors") {
    const std::string bytes = serialize_state(full_state());
    CHECK(serialize_state(parse_state(bytes, "x")) == serialize_state(tree_read(bytes)));
    // Read fast but invalid (a duplicate service name): the same error as parse_state's.
    nlohmann::json doc = nlohmann::json::parse(bytes);
    doc["environments"][0]["services"][1]["name"] = "DB";
    const std::string invalid = doc.dump(2);
    REQUIRE(read_state_fast(invalid).has_value());
    // The message parse_state has always given: the tree's reading, then validation.
    CHECK_THROWS_WITH(
        parse_state(invalid, "x"),
        "state x is unreadable: duplicate service name \"DB\" in environment \"production\"");
}
