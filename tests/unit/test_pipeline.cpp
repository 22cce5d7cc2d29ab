#include <catch2/catch.hpp>
#include <functional>

#include "depctl/error.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/validate.hpp"

using namespace depctl;

namespace {

State seeded() {
    State state = new_state("demo");
    create_environment(state, {"production", EnvironmentType::production, std::nullopt});
    Environment& env = state.environments.back();
    create_service(env, "DB", ServiceType::database, {});
    create_service(env, "Rabbitmq", ServiceType::container, {});
    create_service(env, "Backend", ServiceType::application, {});
    create_service(env, "Chart", ServiceType::helm, {});
    return state;
}

std::vector<std::string> stage_names(const Environment& env) {
    std::vector<std::string> names;
    for (const auto& s : env.stages) names.push_back(s.name);
    return names;
}

ErrorKind kind_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.kind();
    }
    FAIL("no error thrown");
    return ErrorKind::Failed;
}

}  // namespace

TEST_CASE("a new environment has the four default stages") {
    State state = seeded();
    const Environment& env = state.environments.front();
    CHECK(stage_names(env) == std::vector<std::string>{"DATABASE DEFAULT", "JOB DEFAULT",
                                                       "CONTAINER DEFAULT", "APPLICATION DEFAULT"});
    CHECK(env.stages[0].description == k_default_stage_description);
    CHECK(find_service(env, "db").stage_id == env.stages[0].id);
    CHECK(find_service(env, "Chart").stage_id == env.stages[3].id);  // HELM -> APPLICATION
    validate_state(state, ErrorKind::Refused);
}

TEST_CASE("defaults follow renames and fall back to the last stage") {
    State state = seeded();
    Environment& env = state.environments.front();
    edit_stage(env, "JOB DEFAULT", std::string("jobs"), std::nullopt);
    create_service(env, "Cron", ServiceType::job, {});
    CHECK(env.find_stage_by_id(find_service(env, "Cron").stage_id)->name == "jobs");
    delete_stage(env, "jobs", std::string("DATABASE DEFAULT"));
    create_service(env, "Cron2", ServiceType::job, {});
    CHECK(find_service(env, "Cron2").stage_id == env.stages.back().id);
}

TEST_CASE("stage placement: create before/after, reorder by position") {
    State state = seeded();
    Environment& env = state.environments.front();
    create_stage(env, "first", "", {Placement::Kind::before, "DATABASE DEFAULT", 0});
    create_stage(env, "last", "", {});
    create_stage(env, "mid", "", {Placement::Kind::after, "JOB DEFAULT", 0});
    CHECK(stage_names(env) == std::vector<std::string>{"first", "DATABASE DEFAULT", "JOB DEFAULT",
                                                       "mid", "CONTAINER DEFAULT",
                                                       "APPLICATION DEFAULT", "last"});
    reorder_stage(env, "first", {Placement::Kind::after, "last", 0});
    CHECK(env.stages.back().name == "first");
    reorder_stage(env, "first", {Placement::Kind::position, "", 2});
    CHECK(env.stages[1].name == "first");
    reorder_stage(env, "last", {Placement::Kind::before, "DATABASE DEFAULT", 0});
    CHECK(env.stages[0].name == "last");
    CHECK(kind_of([&] {
              reorder_stage(env, "last", {Placement::Kind::before, "last", 0});
          }) == ErrorKind::Refused);
}

TEST_CASE("dependencies: same or earlier stage, no cycles") {
    State state = seeded();
    Environment& env = state.environments.front();
    add_dependency(env, "Backend", "DB");
    // Operations may leave their input half-changed when they refuse (the store discards
    // the copy), so each refusal runs on a copy.
    auto refused = [&](const std::function<void(Environment&)>& op) {
        Environment copy = env;
        return kind_of([&] { op(copy); });
    };
    CHECK(refused([](Environment& e) { add_dependency(e, "DB", "Backend"); }) ==
          ErrorKind::Refused);
    create_service(env, "Api", ServiceType::application, {});
    add_dependency(env, "Api", "Backend");
    CHECK(refused([](Environment& e) { add_dependency(e, "Backend", "Api"); }) ==
          ErrorKind::Refused);
    remove_dependency(env, "Api", "Backend");
    add_dependency(env, "Backend", "Api");
    CHECK(refused([](Environment& e) { delete_service(e, "Api"); }) == ErrorKind::Refused);
    create_stage(env, "late", "", {});
    CHECK(refused([](Environment& e) { move_service(e, "DB", "late"); }) == ErrorKind::Refused);
}

TEST_CASE("dependencies: a condition per edge, changed by depending again") {
    State state = seeded();
    Environment& env = state.environments.front();
    add_dependency(env, "Backend", "DB", EdgeCondition::completed);
    const Service* backend = env.find_service_by_id(find_service(env, "Backend").id);
    REQUIRE(backend->depends_on.size() == 1);
    CHECK(backend->depends_on[0].condition == EdgeCondition::completed);
    // The same edge with another condition is an edit, not a second edge.
    add_dependency(env, "Backend", "DB", EdgeCondition::started);
    REQUIRE(backend->depends_on.size() == 1);
    CHECK(backend->depends_on[0].condition == EdgeCondition::started);
    Environment copy = env;
    CHECK(kind_of([&] { add_dependency(copy, "Backend", "DB", EdgeCondition::started); }) ==
          ErrorKind::Refused);
    // undepend removes the edge whatever its condition.
    remove_dependency(env, "Backend", "DB");
    CHECK(backend->depends_on.empty());
    CHECK(parse_edge_condition("Completed") == EdgeCondition::completed);
    CHECK_FALSE(parse_edge_condition("ready").has_value());
}

// An environment of `n` services in one stage; service i depends on service i + 1, so a
// depth-first search from the first service goes all the way down.
namespace {
Environment chain_of(std::size_t n) {
    Environment env;
    env.id = "env_chain";
    env.name = "chain";
    env.stages.push_back({"stg_only", "only", ""});
    env.services.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        Service s;
        s.id = "svc_" + std::to_string(i);
        s.name = "s" + std::to_string(i);
        s.stage_id = "stg_only";
        if (i + 1 < n) s.depends_on.push_back({"svc_" + std::to_string(i + 1)});
        env.services.push_back(std::move(s));
    }
    return env;
}
}  // namespace

TEST_CASE("dependency checks: a long chain is fine, a cycle is named member by member") {
    // Deep enough to overflow an 8 MiB stack with one recursive call per service (the
    // recursive search this replaced crashed on it).
    Environment env = chain_of(200000);
    CHECK_NOTHROW(validate_dependencies(env, ErrorKind::Corrupt));

    Environment small = chain_of(4);
    small.services[3].depends_on.push_back({"svc_1"});  // s0 -> s1 -> s2 -> s3 -> s1
    try {
        validate_dependencies(small, ErrorKind::Refused);
        FAIL("a cycle was accepted");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Refused);
        CHECK(std::string(e.what()) == "dependency cycle: \"s1\" -> \"s2\" -> \"s3\" -> \"s1\"");
    }
}

TEST_CASE("clone copies stages, services and edges with fresh ids") {
    State state = seeded();
    add_dependency(state.environments.front(), "Backend", "DB");
    Environment& copy =
        create_environment(state, {"staging", EnvironmentType::staging, std::string("PRODUCTION")});
    const Environment& source = state.environments.front();
    REQUIRE(copy.services.size() == source.services.size());
    CHECK(copy.stages.front().id != source.stages.front().id);
    const Service& backend = find_service(copy, "Backend");
    REQUIRE(backend.depends_on.size() == 1);
    CHECK(copy.find_service_by_id(backend.depends_on.front().id)->name == "DB");
    validate_state(state, ErrorKind::Refused);
}

TEST_CASE("service options are checked") {
    State state = seeded();
    Environment& env = state.environments.front();
    ServiceChanges changes;
    changes.env_set = {"PORT=8080", "EMPTY="};
    changes.secret_set = {"TOKEN=env:API_TOKEN", "KEY=file:/run/key"};
    changes.health_http = "http://127.0.0.1:8080/health";
    changes.health_expect = "200-399";
    edit_service(env, "Backend", changes);
    const Service& backend = find_service(env, "Backend");
    CHECK(backend.env.at("PORT") == "8080");
    CHECK(backend.env.at("EMPTY").empty());
    CHECK(backend.secrets.size() == 2);
    ServiceChanges bad;
    bad.health_expect = "399-200";
    CHECK(kind_of([&] { edit_service(env, "Backend", bad); }) == ErrorKind::Refused);
    ServiceChanges clash;
    clash.env_set = {"TOKEN=x"};
    CHECK(kind_of([&] { edit_service(env, "Backend", clash); }) == ErrorKind::Refused);
}

TEST_CASE("deleting an environment removes it from the enforced order") {
    State state = seeded();
    create_environment(state, {"staging", EnvironmentType::staging, std::nullopt});
    set_enforced_order(state, {"staging", "production"});
    delete_environment(state, "staging");
    CHECK(state.project.enforced_order.size() == 1);
    validate_state(state, ErrorKind::Refused);
}
