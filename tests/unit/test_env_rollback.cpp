// Whole-environment rollback (DESIGN §9): which record, which version and definition per
// service, and which fields differ; pure functions over a history.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/record/definition.hpp"
#include "depctl/env_rollback.hpp"
#include "depctl/error.hpp"
#include "depctl/pipeline.hpp"

using namespace depctl;

namespace {

Environment rollback_sample() {
    State state = new_state("demo");
    Environment& env =
        create_environment(state, {"dev", EnvironmentType::development, std::nullopt});
    ServiceChanges changes;
    changes.deploy = "run";
    create_service(env, "DB", ServiceType::database, changes);
    create_service(env, "Api", ServiceType::application, changes);
    return env;
}

// A deploy record of `version` in which `services` (of `env`) were deployed with `mode`.
DeploymentRecord deployed(const Environment& env, const std::string& id, const std::string& version,
                          const std::vector<std::string>& services, const std::string& mode,
                          DeploymentStatus status = DeploymentStatus::deployed) {
    DeploymentRecord r;
    r.id = id;
    r.version = version;
    r.status = status;
    StageRecord stage;
    for (const Service& s : env.services) {
        if (std::find(services.begin(), services.end(), s.name) == services.end()) continue;
        ServiceRecord out;
        out.id = s.id;
        out.name = s.name;
        out.status = status == DeploymentStatus::deployed ? ServiceStatus::deployed
                                                          : ServiceStatus::deployment_error;
        Service then = s;
        then.env["MODE"] = mode;
        out.definition = definition_snapshot(then);
        stage.services.push_back(out);
    }
    r.stages.push_back(stage);
    return r;
}

const RestoredService& of(const EnvironmentRollback& rb, const std::string& name) {
    for (const auto& s : rb.services)
        if (s.name == name) return s;
    throw std::runtime_error("no " + name);
}

}  // namespace

TEST_CASE("the default target is the last success before the current deploy whatever its end") {
    const Environment env = rollback_sample();
    std::vector<DeploymentRecord> history = {deployed(env, "dep_1", "v1", {"DB", "Api"}, "A"),
                                             deployed(env, "dep_2", "v2", {"DB", "Api"}, "B")};
    CHECK(find_environment_rollback(history, env, std::nullopt).target_id == "dep_1");
    history.push_back(
        deployed(env, "dep_3", "v3", {"DB", "Api"}, "C", DeploymentStatus::deployment_error));
    const EnvironmentRollback rb = find_environment_rollback(history, env, std::nullopt);
    CHECK(rb.target_id == "dep_2");
    CHECK(of(rb, "Api").version == "v2");
    CHECK(of(rb, "Api").changed == std::vector<std::string>{"env"});
    CHECK(rb.restored.services[1].env.at("MODE") == "B");
    CHECK(rb.restored.services[1].id == env.services[1].id);  // identity stays today's
}

TEST_CASE("rollback --to takes an id or prefix or latest or a version but no failed record") {
    const Environment env = rollback_sample();
    const std::vector<DeploymentRecord> history = {
        deployed(env, "dep_aaaaaa1", "v1", {"DB", "Api"}, "A"),
        deployed(env, "dep_bbbbbb2", "v2", {"DB", "Api"}, "B"),
        deployed(env, "dep_cccccc3", "v3", {"DB", "Api"}, "C", DeploymentStatus::build_error)};
    CHECK(find_environment_rollback(history, env, "dep_aaaaaa1").target_id == "dep_aaaaaa1");
    CHECK(find_environment_rollback(history, env, "dep_bbbb").target_id == "dep_bbbbbb2");
    CHECK(find_environment_rollback(history, env, "v1").target_id == "dep_aaaaaa1");
    CHECK_THROWS_AS(find_environment_rollback(history, env, "dep_cccccc3"), Error);
    CHECK_THROWS_AS(find_environment_rollback(history, env, "latest"), Error);
    CHECK_THROWS_AS(find_environment_rollback(history, env, "v9"), Error);
}

TEST_CASE("each service walks back to the last version it was deployed at as of the target") {
    Environment env = rollback_sample();
    ServiceChanges changes;
    changes.deploy = "run";
    const std::vector<DeploymentRecord> history = {
        deployed(env, "dep_1", "v1", {"DB", "Api"}, "A"),
        deployed(env, "dep_2", "v2", {"Api"}, "B"),
        deployed(env, "dep_3", "v3", {"DB", "Api"}, "C")};
    create_service(env, "Cron", ServiceType::application, changes);  // after the target
    const EnvironmentRollback rb = find_environment_rollback(history, env, std::nullopt);
    CHECK(rb.target_id == "dep_2");
    CHECK(of(rb, "DB").version == "v1");
    CHECK(of(rb, "DB").from_deployment == "dep_1");
    CHECK(of(rb, "Api").version == "v2");
    CHECK(!of(rb, "Cron").left_out.empty());
    CHECK(of(rb, "Cron").version.empty());
}

TEST_CASE("a target without definitions is refused naming the services") {
    const Environment env = rollback_sample();
    std::vector<DeploymentRecord> history = {deployed(env, "dep_1", "v1", {"DB", "Api"}, "A"),
                                             deployed(env, "dep_2", "v2", {"DB", "Api"}, "B")};
    // An older depctl stored no definition (read back as null); {} is a service with
    // nothing but defaults, which is restored like any other.
    history[0].stages[0].services[0].definition = nlohmann::json::object();
    CHECK(find_environment_rollback(history, env, std::nullopt).services.size() == 2);
    for (auto& s : history[0].stages[0].services) s.definition = nlohmann::json();
    try {
        find_environment_rollback(history, env, std::nullopt);
        FAIL("not refused");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Refused);
        CHECK(std::string(e.what()).find("DB, Api") != std::string::npos);
    }
    CHECK(find_environment_rollback(history, env, "dep_2").target_id == "dep_2");
}

TEST_CASE("definition changes name fields and never values") {
    const nlohmann::json a = {{"deploy", "run"}, {"env", {{"K", "secret-ish"}}}};
    const nlohmann::json b = {{"deploy", "run"}, {"env", {{"K", "other"}}}, {"retries", 2}};
    CHECK(definition_changes(a, b) == std::vector<std::string>{"env", "retries"});
    CHECK(definition_changes(a, a).empty());
}
