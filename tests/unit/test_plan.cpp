#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <tuple>

#include "depctl/build_cache.hpp"
#include "depctl/error.hpp"
#include "depctl/health.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/plan.hpp"
#include "depctl/step_estimates.hpp"

using namespace depctl;

namespace {

Environment plan_sample() {
    State state = new_state("demo");
    Environment& env =
        create_environment(state, {"dev", EnvironmentType::development, std::nullopt});
    ServiceChanges full;
    full.build = "make";
    full.release = "migrate";
    full.deploy = "run";
    full.health_cmd = "check";
    create_service(env, "DB", ServiceType::database, full);
    ServiceChanges deploy_only;
    deploy_only.deploy = "run";
    create_service(env, "Api", ServiceType::application, full);
    create_service(env, "Web", ServiceType::application, deploy_only);
    create_service(env, "Skipped", ServiceType::container, deploy_only);
    set_skipped(env, "Skipped", true);
    add_dependency(env, "Web", "Api");
    return env;
}

const PlannedService& planned(const Plan& plan, const std::string& name) {
    return *std::find_if(plan.services.begin(), plan.services.end(),
                         [&](const PlannedService& ps) { return ps.service.name == name; });
}

std::size_t step_of(const Plan& plan, const std::string& name, StepKind kind) {
    return planned(plan, name).steps[static_cast<int>(kind)];
}

// True when `later` (transitively) depends on `earlier`.
bool reaches(const Plan& plan, std::size_t later, std::size_t earlier) {
    std::vector<std::size_t> stack = {later};
    std::vector<bool> seen(plan.steps.size());
    while (!stack.empty()) {
        const std::size_t at = stack.back();
        stack.pop_back();
        if (at == earlier) return true;
        if (seen[at]) continue;
        seen[at] = true;
        for (std::size_t dep : plan.steps[at].deps) stack.push_back(dep);
    }
    return false;
}

}  // namespace

TEST_CASE("plan: steps, build-ahead, barriers and depends_on") {
    const Environment env = plan_sample();
    const Plan plan = make_plan(env, {});
    REQUIRE(plan.services.size() == 3);  // the skipped one is left out
    CHECK(plan.stages[2].left_out == std::vector<std::string>{"Skipped (skipped)"});
    // Builds depend on nothing: they start at once.
    CHECK(plan.steps[step_of(plan, "Api", StepKind::build)].deps.empty());
    CHECK(plan.steps[step_of(plan, "DB", StepKind::build)].deps.empty());
    // A stage's rollout waits for every earlier stage's last step.
    CHECK(reaches(plan, step_of(plan, "Api", StepKind::release),
                  step_of(plan, "DB", StepKind::health)));
    CHECK(reaches(plan, step_of(plan, "Web", StepKind::deploy),
                  step_of(plan, "DB", StepKind::health)));
    // The chain inside a service.
    CHECK(reaches(plan, step_of(plan, "Api", StepKind::deploy),
                  step_of(plan, "Api", StepKind::release)));
    CHECK(reaches(plan, step_of(plan, "Api", StepKind::release),
                  step_of(plan, "Api", StepKind::build)));
    // depends_on inside a stage; no edge the other way.
    CHECK(reaches(plan, step_of(plan, "Web", StepKind::deploy),
                  step_of(plan, "Api", StepKind::health)));
    CHECK_FALSE(reaches(plan, step_of(plan, "Api", StepKind::deploy),
                        step_of(plan, "Web", StepKind::deploy)));
    // A service without a command has no step of that kind.
    CHECK(step_of(plan, "Web", StepKind::build) == k_no_step);
    // Critical path: DB's build is on the longest chain, so it outranks Web's deploy.
    CHECK(plan.steps[step_of(plan, "DB", StepKind::build)].priority >
          plan.steps[step_of(plan, "Web", StepKind::deploy)].priority);
}

TEST_CASE("plan: empty stages add no barrier, subsets leave others out") {
    const Environment env = plan_sample();
    const Plan plan = make_plan(env, {{"web", "API"}});
    REQUIRE(plan.services.size() == 2);
    CHECK(plan.stages[0].left_out == std::vector<std::string>{"DB (not selected)"});
    const auto barriers =
        std::count_if(plan.steps.begin(), plan.steps.end(),
                      [](const PlanStep& s) { return s.kind == StepKind::barrier; });
    CHECK(barriers == 1);  // only the application stage has work
    CHECK_THROWS_AS(make_plan(env, {{"nope"}}), Error);
}

TEST_CASE("stop plan runs stages in reverse") {
    State state = new_state("demo");
    Environment& env =
        create_environment(state, {"dev", EnvironmentType::development, std::nullopt});
    ServiceChanges stop;
    stop.stop = "halt";
    create_service(env, "DB", ServiceType::database, stop);
    create_service(env, "Api", ServiceType::application, stop);
    const Plan plan = make_stop_plan(env, {});
    CHECK(plan.stages.front().name == "APPLICATION DEFAULT");
    CHECK(reaches(plan, step_of(plan, "DB", StepKind::stop), step_of(plan, "Api", StepKind::stop)));
}

TEST_CASE("dry-run JSON lists stages, steps and what is left out") {
    const Plan plan = make_plan(plan_sample(), {});
    const auto json = plan_to_json(plan);
    CHECK(json["stages"][0]["services"][0]["steps"] ==
          nlohmann::json({"build", "release", "deploy", "health"}));
    CHECK(json["stages"][1]["skipped"] == true);
    CHECK(json["stages"][3]["services"][1]["depends_on"] == nlohmann::json({"Api"}));
    CHECK(render_plan_text(plan).find("Web: deploy  (after Api)") != std::string::npos);
}

TEST_CASE("plan: what an edge waits for follows its condition") {
    Environment env = plan_sample();
    ServiceChanges job;
    job.build = "make";
    job.deploy = "migrate";
    job.health_cmd = "check";
    create_service(env, "Migrate", ServiceType::job, job);
    move_service(env, "Migrate", "APPLICATION DEFAULT");
    add_dependency(env, "Web", "Api", EdgeCondition::started);
    add_dependency(env, "Web", "Migrate", EdgeCondition::completed);
    const Plan plan = make_plan(env, {});
    const std::size_t web = step_of(plan, "Web", StepKind::deploy);
    // started: Api's deploy step, not its health check.
    CHECK(reaches(plan, web, step_of(plan, "Api", StepKind::deploy)));
    CHECK_FALSE(reaches(plan, web, step_of(plan, "Api", StepKind::health)));
    // completed: every step of the job, its health check included.
    CHECK(reaches(plan, web, step_of(plan, "Migrate", StepKind::health)));
    CHECK(planned(plan, "Api").awaited_step(EdgeCondition::healthy) ==
          step_of(plan, "Api", StepKind::health));
    // The dry run names each condition but the default; no warning for a JOB.
    const std::string text = render_plan_text(plan);
    CHECK(text.find("Web: deploy  (after Api [started], Migrate [completed])") !=
          std::string::npos);
    CHECK(text.find("warning:") == std::string::npos);
    const auto json = plan_to_json(plan);
    CHECK(json["stages"][3]["services"][1]["dependencies"] ==
          nlohmann::json::parse(R"([{"service": "Api", "condition": "started"},
                                    {"service": "Migrate", "condition": "completed"}])"));
    CHECK(json["warnings"].empty());
}

TEST_CASE("plan: the dry run warns of a completed edge to a service that is not a JOB") {
    Environment env = plan_sample();
    add_dependency(env, "Web", "Api", EdgeCondition::completed);
    const Plan plan = make_plan(env, {});
    const std::string warning =
        "Web waits for Api to complete, but Api is an APPLICATION, not a JOB";
    CHECK(render_plan_text(plan).find("  warning: " + warning) != std::string::npos);
    const auto json = plan_to_json(plan);
    REQUIRE(json["warnings"].size() == 1);
    CHECK(json["warnings"][0].get<std::string>().rfind(warning, 0) == 0);
}

TEST_CASE("plan: a started edge to a service without a deploy step") {
    State state = new_state("demo");
    Environment& env =
        create_environment(state, {"dev", EnvironmentType::development, std::nullopt});
    ServiceChanges health_only;
    health_only.health_cmd = "check";
    ServiceChanges deploy_only;
    deploy_only.deploy = "run";
    create_service(env, "External", ServiceType::container, health_only);
    create_service(env, "Web", ServiceType::container, deploy_only);
    add_dependency(env, "Web", "External", EdgeCondition::started);
    const Plan plan = make_plan(env, {});
    // Nothing to start: no wait on its health check (the stage is the same).
    CHECK(planned(plan, "External").awaited_step(EdgeCondition::started) == k_no_step);
    CHECK_FALSE(reaches(plan, step_of(plan, "Web", StepKind::deploy),
                        step_of(plan, "External", StepKind::health)));
}

TEST_CASE("estimates come from the newest successful run of each step") {
    const Environment env = plan_sample();
    Plan plan = make_plan(env, {});
    const std::string db = planned(plan, "DB").service.id;
    const std::string api = planned(plan, "Api").service.id;
    auto record = [](const std::string& id,
                     std::vector<std::tuple<std::string, std::string, int>> steps) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& [step, status, ms] : steps)
            list.push_back({{"step", step}, {"status", status}, {"duration_ms", ms}});
        const nlohmann::json service = {{"id", id}, {"steps", list}};
        const nlohmann::json stage = {{"services", nlohmann::json::array({service})}};
        return DeploymentRecord::from_json({{"stages", nlohmann::json::array({stage})}});
    };
    const std::vector<DeploymentRecord> history = {
        record(db, {{"build", "SUCCEEDED", 4000}, {"deploy", "SUCCEEDED", 9000}}),
        record(db, {{"build", "SUCCEEDED", 2000}, {"deploy", "FAILED", 100}}),  // newer
        record(api, {{"build", "REUSED", 0}, {"release", "SUCCEEDED", 3000}}),
    };
    plan.steps[step_of(plan, "Api", StepKind::build)].reused = true;
    const std::vector<double> estimates = estimate_step_durations(plan, history);
    REQUIRE(estimates.size() == plan.steps.size());
    CHECK(estimates[step_of(plan, "DB", StepKind::build)] == Approx(2.0));  // the newest success
    CHECK(estimates[step_of(plan, "DB", StepKind::deploy)] ==
          Approx(9.0));                                            // a failure does not count
    CHECK(estimates[step_of(plan, "Api", StepKind::build)] == 0);  // reused now
    CHECK(estimates[step_of(plan, "Api", StepKind::release)] == Approx(3.0));
    CHECK(estimates[step_of(plan, "Web", StepKind::deploy)] ==
          Approx(9.0));  // unknown: median of its kind
    CHECK(estimates[step_of(plan, "DB", StepKind::health)] ==
          Approx(3.0));  // no kind known: median of all
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        if (plan.steps[i].kind == StepKind::barrier) CHECK(estimates[i] == 0);
    }
    // Without history every step counts 1 s, as make_plan assumes.
    CHECK(estimate_step_durations(plan, {})[step_of(plan, "DB", StepKind::build)] == Approx(1.0));
}

TEST_CASE("priorities follow the longest estimated path to the end") {
    const Environment env = plan_sample();
    Plan plan = make_plan(env, {});
    std::vector<double> estimates(plan.steps.size(), 1.0);
    estimates[step_of(plan, "DB", StepKind::build)] = 50;
    assign_priorities(plan, estimates);
    // DB's build leads to everything after the first stage; with 50 s it outranks Api's.
    CHECK(plan.steps[step_of(plan, "DB", StepKind::build)].priority >
          plan.steps[step_of(plan, "Api", StepKind::build)].priority + 40);
}

TEST_CASE("the dry run's estimate replays the schedule at the given parallelism") {
    // DB (stage 1): build 2, release 1, deploy 3, health 1. Api (stage 4): build 10,
    // release 1, deploy 2, health 1. Web (stage 4, after Api): deploy 4.
    const Environment env = plan_sample();
    Plan plan = make_plan(env, {});
    std::vector<double> d(plan.steps.size(), 0.0);
    const auto set = [&](const char* name, StepKind kind, double seconds) {
        d[step_of(plan, name, kind)] = seconds;
    };
    set("DB", StepKind::build, 2), set("DB", StepKind::release, 1), set("DB", StepKind::deploy, 3);
    set("DB", StepKind::health, 1), set("Api", StepKind::build, 10),
        set("Api", StepKind::release, 1);
    set("Api", StepKind::deploy, 2), set("Api", StepKind::health, 1),
        set("Web", StepKind::deploy, 4);
    assign_priorities(plan, d);

    // One at a time: the sum of the work.
    const DeploymentEstimate serial = simulate_deployment(plan, d, 1);
    CHECK(serial.seconds == Approx(25.0));
    CHECK(serial.steps == 9);
    CHECK(serial.parallelism == 1);
    // Unbounded: the critical path. Api's build (10) outlasts DB's rollout (2+1+3+1 = 7),
    // then Api's rollout (1+2+1) and Web's deploy (4) after it: 10 + 4 + 4 = 18.
    CHECK(simulate_deployment(plan, d, 64).seconds == Approx(18.0));
    // Two workers: both builds start at once; DB's rollout (5) runs beside Api's build.
    CHECK(simulate_deployment(plan, d, 2).seconds == Approx(18.0));
    // A reused build takes no time and no worker.
    plan.steps[step_of(plan, "Api", StepKind::build)].reused = true;
    const DeploymentEstimate reused = simulate_deployment(plan, d, 64);
    CHECK(reused.seconds == Approx(7.0 + 4.0 + 4.0));
    CHECK(reused.steps == 8);
    CHECK(reused.to_json()["seconds"].get<double>() == Approx(15.0));
}

TEST_CASE("build keys change with what makes a build different") {
    Service s;
    s.name = "Api";
    s.build = "make";
    const std::string key = build_key(s, "v1");
    CHECK(key.size() == 16);
    CHECK(build_key(s, "v1") == key);
    CHECK(build_key(s, "v2") != key);
    Service other = s;
    other.workdir = "api";
    CHECK(build_key(other, "v1") != key);
    other = s;
    other.build = "make all";
    CHECK(build_key(other, "v1") != key);
}
