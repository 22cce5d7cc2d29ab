// --on-failure rollback (DESIGN §9, #16): which services go back, to which version and
// definition, in which order; and its part of the record survives a round trip.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/deploy/failure_rollback.hpp"
#include "core/record/definition.hpp"
#include "depctl/pipeline.hpp"

using namespace depctl;

namespace {

// DB (database stage) <- Api <- Web (one stage); each deployed at v1 with MODE=A by dep_1,
// then edited to MODE=B (the definition a failing v2 would run).
struct Sample {
    Environment env;
    std::vector<DeploymentRecord> history;
};

Sample failure_sample() {
    State state = new_state("demo");
    Environment& env =
        create_environment(state, {"dev", EnvironmentType::development, std::nullopt});
    ServiceChanges changes;
    changes.deploy = "run";
    create_service(env, "DB", ServiceType::database, changes);
    create_service(env, "Api", ServiceType::application, changes);
    create_service(env, "Web", ServiceType::application, changes);
    add_dependency(env, "Api", "DB", EdgeCondition::healthy);
    add_dependency(env, "Web", "Api", EdgeCondition::healthy);
    DeploymentRecord r;
    r.id = "dep_1";
    r.version = "v1";
    r.status = DeploymentStatus::deployed;
    StageRecord stage;
    for (Service& s : env.services) {
        s.env["MODE"] = "A";
        ServiceRecord out;
        out.id = s.id;
        out.name = s.name;
        out.status = ServiceStatus::deployed;
        out.definition = definition_snapshot(s);
        stage.services.push_back(out);
        s.current = {"v1", "DEPLOYED", "", "dep_1"};
        s.env["MODE"] = "B";
    }
    r.stages.push_back(stage);
    return {env, {r}};
}

std::set<std::string> ids(const Environment& env, const std::vector<std::string>& names) {
    std::set<std::string> out;
    for (const Service& s : env.services)
        if (std::find(names.begin(), names.end(), s.name) != names.end()) out.insert(s.id);
    return out;
}

// The order the plan's deploy steps may run in: a step after each of its (transitive) deps.
bool deploys_before(const Plan& plan, const std::string& first, const std::string& second) {
    std::size_t a = k_no_step, b = k_no_step;
    for (const PlannedService& ps : plan.services) {
        if (ps.service.name == first) a = ps.steps[static_cast<int>(StepKind::deploy)];
        if (ps.service.name == second) b = ps.steps[static_cast<int>(StepKind::deploy)];
    }
    std::vector<std::size_t> todo{b};
    std::set<std::size_t> seen;
    while (!todo.empty()) {
        const std::size_t at = todo.back();
        todo.pop_back();
        if (at == a) return true;
        if (!seen.insert(at).second) continue;
        for (std::size_t dep : plan.steps[at].deps) todo.push_back(dep);
    }
    return false;
}

}  // namespace

TEST_CASE("failure rollback: previous version and definition, dependents first") {
    const Sample s = failure_sample();
    const FailureRollbackPlan plan =
        plan_failure_rollback(s.env, ids(s.env, {"DB", "Api", "Web"}), s.history);
    REQUIRE(plan.redeploy.services.size() == 3);
    for (const PlannedService& ps : plan.redeploy.services) {
        CHECK(ps.version == "v1");
        CHECK(ps.service.env.at("MODE") == "A");
    }
    CHECK(deploys_before(plan.redeploy, "Web", "Api"));
    CHECK(deploys_before(plan.redeploy, "Api", "DB"));
    CHECK_FALSE(deploys_before(plan.redeploy, "DB", "Api"));
    CHECK(plan.stop.services.empty());
    CHECK(plan.left_as_is.empty());
    CHECK(plan.version_only.empty());
}

TEST_CASE("failure rollback: only the services that ran; new ones stopped or left") {
    Sample s = failure_sample();
    Service* api = s.env.find_service_by_id(*ids(s.env, {"Api"}).begin());
    Service* web = s.env.find_service_by_id(*ids(s.env, {"Web"}).begin());
    api->current = {};
    api->stop = "halt";
    web->current = {};
    const FailureRollbackPlan plan =
        plan_failure_rollback(s.env, ids(s.env, {"Api", "Web"}), s.history);
    CHECK(plan.redeploy.services.empty());
    REQUIRE(plan.stop.services.size() == 1);
    CHECK(plan.stop.services[0].service.name == "Api");
    CHECK(plan.left_as_is == std::vector<std::string>{"Web"});
    const nlohmann::json j = plan.to_json();
    CHECK(j["stop"] == nlohmann::json::array({"Api"}));
    CHECK(j["redeploy"].empty());
}

TEST_CASE("failure rollback: no recorded definition rolls the version back only") {
    Sample s = failure_sample();
    s.history.clear();
    const FailureRollbackPlan plan = plan_failure_rollback(s.env, ids(s.env, {"DB"}), s.history);
    REQUIRE(plan.redeploy.services.size() == 1);
    CHECK(plan.redeploy.services[0].service.env.at("MODE") == "B");
    CHECK(plan.version_only == std::vector<std::string>{"DB"});
}

TEST_CASE("services_that_ran: a release or deploy step that started") {
    DeploymentRecord r;
    StageRecord stage;
    const auto service = [](const char* id, const char* step, StepStatus status) {
        ServiceRecord out;
        out.id = id;
        StepRecord recorded;
        recorded.name = step;
        recorded.status = status;
        out.steps.push_back(recorded);
        return out;
    };
    stage.services.push_back(service("a", "deploy", StepStatus::failed));
    stage.services.push_back(service("b", "release", StepStatus::succeeded));
    stage.services.push_back(service("c", "build", StepStatus::succeeded));
    stage.services.push_back(service("d", "deploy", StepStatus::canceled));  // never started
    stage.services.push_back(service("e", "deploy", StepStatus::not_started));
    r.stages.push_back(stage);
    CHECK(services_that_ran(r) == std::set<std::string>{"a", "b"});
}

TEST_CASE("failure rollback part: JSON round trip, old records without it") {
    const Sample s = failure_sample();
    DeploymentRecord r = s.history[0];
    r.status = DeploymentStatus::rolled_back;
    FailureRollback back;
    back.started_at = "2026-12-01T21:00:00Z";
    back.duration_ms = 12;
    back.stages = r.stages;
    back.stages[0].services[0].version = "v0";
    back.stopped = {"Worker"};
    back.left_as_is = {"Cron"};
    back.failed_step = FailedStep{"Api", "deploy", 1, StepStatus::failed, "log", ""};
    r.on_failure_rollback = back;
    const nlohmann::json once = r.to_json();
    CHECK(once["status"] == "ROLLED_BACK");
    CHECK(once["on_failure_rollback"]["stopped"] == nlohmann::json::array({"Worker"}));
    CHECK(DeploymentRecord::from_json(once).to_json() == once);
    nlohmann::json old = once;
    old.erase("on_failure_rollback");
    CHECK_FALSE(DeploymentRecord::from_json(old).on_failure_rollback.has_value());
}

TEST_CASE("failure rollback: stages in reverse order keep their real positions") {
    const Sample s = failure_sample();
    const FailureRollbackPlan plan =
        plan_failure_rollback(s.env, ids(s.env, {"DB", "Api", "Web"}), s.history);
    REQUIRE(plan.redeploy.stages.size() == s.env.stages.size());
    REQUIRE(plan.redeploy.stages.size() >= 2);
    for (std::size_t k = 0; k < plan.redeploy.stages.size(); ++k) {
        const PlannedStage& stage = plan.redeploy.stages[k];
        CHECK(stage.position == s.env.stage_index(stage.id) + 1);
        CHECK(stage.id == s.env.stages[s.env.stages.size() - 1 - k].id);  // last stage first
    }
}

TEST_CASE("failure rollback: a turned-around edge keeps its condition") {
    Sample s = failure_sample();
    Service* web = s.env.find_service_by_id(*ids(s.env, {"Web"}).begin());
    Service* api = s.env.find_service_by_id(*ids(s.env, {"Api"}).begin());
    web->depends_on = {Dependency{api->id, EdgeCondition::started}};
    for (Service& service : s.env.services) service.health.cmd = "check";
    for (auto& stage : s.history[0].stages)
        for (ServiceRecord& r : stage.services) r.definition["health"]["cmd"] = "check";
    const Environment turned = reversed_for_rollback(s.env, ids(s.env, {"Api", "Web"}));
    const Service* turned_api = turned.find_service_by_id(api->id);
    REQUIRE(turned_api->depends_on.size() == 1);
    CHECK(turned_api->depends_on[0] == Dependency{web->id, EdgeCondition::started});

    // In the plan: Api's rollout waits for Web's deploy step, not for its health check.
    const FailureRollbackPlan plan =
        plan_failure_rollback(s.env, ids(s.env, {"Api", "Web"}), s.history);
    const PlannedService* planned_api = nullptr;
    const PlannedService* planned_web = nullptr;
    for (const PlannedService& ps : plan.redeploy.services) {
        if (ps.service.name == "Api") planned_api = &ps;
        if (ps.service.name == "Web") planned_web = &ps;
    }
    REQUIRE(planned_api);
    REQUIRE(planned_web);
    const std::size_t web_health = planned_web->steps[static_cast<int>(StepKind::health)];
    REQUIRE(web_health != k_no_step);
    const auto& deps = plan.redeploy.steps[planned_api->first_rollout_step()].deps;
    CHECK(std::count(deps.begin(), deps.end(),
                     planned_web->steps[static_cast<int>(StepKind::deploy)]) == 1);
    CHECK(std::count(deps.begin(), deps.end(), web_health) == 0);
}
