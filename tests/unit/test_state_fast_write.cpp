#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "depctl/model.hpp"
#include "depctl/state_fast_write.hpp"

using namespace depctl;

namespace {

// The reference: what serialize_state wrote before the direct writer existed.
std::string tree_bytes(const State& state) {
    return to_json(state).dump(2) + "\n";
}

// Every field of the model set, with text that needs every kind of escape.
State every_field() {
    State state;
    state.project = {"prj_1", "démo \"quoted\"", {"env_b", "env_a"}, std::string(64, 'f')};
    Environment env;
    env.id = "env_a";
    env.name = "production";
    env.type = EnvironmentType::production;
    env.require_approval = true;
    env.pre_deploy = "echo pre\tdeploy\r\n";
    env.post_deploy = "printf 'a\\nb' \b\f \x01\x1f\x7f";
    env.stages = {{"stg_1", "first", "the \"first\" one", 1}, {"stg_2", "second", "", {}}};
    env.default_stages = {{"DATABASE", "stg_1"}, {"APPLICATION", "stg_2"}};
    Service s;
    s.id = "svc_1";
    s.name = "api ☃ 𝄞";
    s.type = ServiceType::helm;
    s.stage_id = "stg_2";
    s.skipped = true;
    s.workdir = "services/api";
    s.version_from = depctl::VersionFrom::git_tree;
    s.build = "make";
    s.release = "migrate";
    s.deploy = "run";
    s.stop = "stop";
    s.health = {"http://127.0.0.1/h", "true", 3, 0.5, 1e-3, 2.0, "200-399", 12345.678};
    s.env = {{"PORT", "8080"}, {"EMPTY", ""}, {"Z\"", "é"}};
    s.secrets = {{"TOKEN", "env:API_TOKEN"}, {"KEY", "file:/run/key"}};
    s.build_timeout_s = 600;
    s.deploy_timeout_s = 1;
    s.retries = 0;
    s.depends_on = {{"svc_0", EdgeCondition::healthy},
                    {"svc_2", EdgeCondition::started},
                    {"svc_3", EdgeCondition::completed}};
    s.current = {"1.4.2", "DEPLOYED", "2024-05-01T12:00:00.000Z", "dep_0123456789ab"};
    env.services.push_back(s);
    Service bare;
    bare.id = "svc_0";
    bare.name = "db";
    bare.stage_id = "stg_1";
    bare.current.status = "STOPPED";  // a status alone: "current" holds just that
    env.services.push_back(bare);
    state.environments.push_back(env);
    Environment empty;
    empty.id = "env_b";
    empty.name = "empty";
    state.environments.push_back(empty);
    return state;
}

std::string random_text(std::mt19937& rng) {
    static const std::vector<std::string> pieces = {
        "a", "Z", " ", "\"", "\\", "\n", "\t", "\x01", "\x1f", "\x7f", "é", "☃", "𝄞", "{", "0"};
    std::string text;
    const int n = std::uniform_int_distribution<int>(0, 6)(rng);
    for (int i = 0; i < n; ++i)
        text += pieces[std::uniform_int_distribution<std::size_t>(0, pieces.size() - 1)(rng)];
    return text;
}

template <typename T>
std::optional<T> maybe(std::mt19937& rng, T value) {
    return std::bernoulli_distribution(0.5)(rng) ? std::optional<T>(value) : std::nullopt;
}

Service random_service(std::mt19937& rng, int i) {
    auto text = [&] { return random_text(rng); };
    std::uniform_real_distribution<double> seconds(0.001, 100000.0);
    Service s;
    s.id = "svc_" + std::to_string(i);
    s.name = text() + std::to_string(i);
    s.type = k_service_types[static_cast<std::size_t>(i) % k_service_types.size()];
    s.stage_id = text();
    s.skipped = std::bernoulli_distribution(0.3)(rng);
    s.workdir = text();
    if (std::bernoulli_distribution(0.3)(rng)) s.version_from = depctl::VersionFrom::git_tree;
    s.build = text();
    s.release = text();
    s.deploy = text();
    s.stop = text();
    s.health = {text(),
                text(),
                maybe(rng, i + 1),
                maybe(rng, seconds(rng)),
                maybe(rng, seconds(rng)),
                maybe(rng, static_cast<double>(i % 7 + 1)),
                text(),
                maybe(rng, seconds(rng))};
    for (int k = std::uniform_int_distribution<int>(0, 3)(rng); k > 0; --k) s.env[text()] = text();
    for (int k = std::uniform_int_distribution<int>(0, 2)(rng); k > 0; --k)
        s.secrets.push_back({text(), text()});
    s.build_timeout_s = maybe(rng, i * 7 + 1);
    s.deploy_timeout_s = maybe(rng, 604800);
    s.retries = maybe(rng, i % 3);
    for (int k = std::uniform_int_distribution<int>(0, 3)(rng); k > 0; --k)
        s.depends_on.push_back({text(), static_cast<EdgeCondition>(k % 3)});
    if (std::bernoulli_distribution(0.5)(rng)) s.current = {text(), text() + "X", text(), text()};
    return s;
}

State random_state(std::mt19937& rng) {
    State state;
    state.project = {"prj_" + random_text(rng), random_text(rng), {}, random_text(rng)};
    for (int e = std::uniform_int_distribution<int>(0, 3)(rng); e > 0; --e) {
        Environment env;
        env.id = random_text(rng);
        env.name = random_text(rng);
        env.type = static_cast<EnvironmentType>(e % 3);
        env.require_approval = std::bernoulli_distribution(0.5)(rng);
        env.pre_deploy = random_text(rng);
        env.post_deploy = random_text(rng);
        for (int k = std::uniform_int_distribution<int>(0, 3)(rng); k > 0; --k)
            env.stages.push_back(
                {random_text(rng), random_text(rng), random_text(rng), maybe(rng, k + 1)});
        for (int k = std::uniform_int_distribution<int>(0, 2)(rng); k > 0; --k)
            env.default_stages[random_text(rng)] = random_text(rng);
        for (int k = std::uniform_int_distribution<int>(0, 8)(rng); k > 0; --k)
            env.services.push_back(random_service(rng, k));
        state.project.enforced_order.push_back(env.id);
        state.environments.push_back(env);
    }
    return state;
}

}  // namespace

TEST_CASE("fast state writer: the tree's bytes for every field") {
    const State state = every_field();
    const auto fast = write_state_fast(state);
    REQUIRE(fast.has_value());
    CHECK(*fast == tree_bytes(state));
    CHECK(serialize_state(state) == tree_bytes(state));
    CHECK(nlohmann::json::parse(*fast) == to_json(state));
}

TEST_CASE("fast state writer: the tree's bytes for random states") {
    std::mt19937 rng(20261201);
    for (int round = 0; round < 300; ++round) {
        const State state = random_state(rng);
        const auto fast = write_state_fast(state);
        REQUIRE(fast.has_value());
        INFO("round " << round);
        REQUIRE(*fast == tree_bytes(state));
    }
}

// What definition_fingerprint hashed before the direct writer: the tree, compact, without
// the applied file's mark and the services' current.
static std::string definition_tree_bytes(const State& state) {
    nlohmann::json doc = to_json(state);
    doc["project"].erase("applied_file_sha256");
    for (auto& env : doc["environments"])
        for (auto& service : env["services"]) service.erase("current");
    return doc.dump();
}

TEST_CASE("fast state writer: the definition's compact bytes are the tree's") {
    CHECK(write_definition_compact(every_field()) == definition_tree_bytes(every_field()));
    std::mt19937 rng(15);
    for (int round = 0; round < 100; ++round) {
        const State state = random_state(rng);
        INFO("round " << round);
        REQUIRE(write_definition_compact(state) == definition_tree_bytes(state));
    }
    State empty;
    CHECK(write_definition_compact(empty) == definition_tree_bytes(empty));
}

TEST_CASE("fast state writer: leaves text that is not UTF-8 to the tree and its error") {
    State state = every_field();
    state.environments[0].services[0].env["BAD"] = "\xff\xfe";
    CHECK_FALSE(write_state_fast(state).has_value());
    CHECK_THROWS_AS(serialize_state(state), nlohmann::json::exception);
    State empty;
    CHECK(write_state_fast(empty) == tree_bytes(empty));
}

TEST_CASE("fast state writer: an environment's compact bytes are its tree's dump()") {
    const auto check = [](const State& state) {
        const nlohmann::json tree = to_json(state);
        for (std::size_t i = 0; i < state.environments.size(); ++i) {
            INFO("environment " << i);
            REQUIRE(write_environment_compact(state.environments[i]) ==
                    tree["environments"][i].dump());
        }
    };
    check(every_field());
    std::mt19937 rng(19);
    for (int round = 0; round < 100; ++round) {
        INFO("round " << round);
        check(random_state(rng));
    }
    State bad = every_field();
    bad.environments[0].services[0].env["BAD"] = "\xff\xfe";
    CHECK_FALSE(write_environment_compact(bad.environments[0]).has_value());
}
