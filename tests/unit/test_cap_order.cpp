// A capped stage starts its rollouts in the order that ends the stage soonest by the
// estimates (core/plan/cap_order.cpp), not simply longest first.
#include <algorithm>
#include <catch2/catch.hpp>

#include "core/plan/cap_order.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/plan.hpp"

using namespace depctl;

namespace {

// The stage's end when `cap` slots each take the ready rollout of highest priority as soon
// as they are free: the executor's rule for rollouts that wait on nothing else.
double list_schedule(const Plan& plan, const std::vector<double>& length, int cap) {
    std::vector<std::size_t> order(plan.services.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const auto first = [&](std::size_t i) { return plan.services[i].first_rollout_step(); };
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return plan.steps[first(a)].priority > plan.steps[first(b)].priority;
    });
    std::vector<double> slots(static_cast<std::size_t>(cap), 0.0);
    for (std::size_t i : order) *std::min_element(slots.begin(), slots.end()) += length[i];
    return *std::max_element(slots.begin(), slots.end());
}

}  // namespace

TEST_CASE("a capped stage orders its rollouts to end soonest, not longest first", "[plan]") {
    State state = new_state("demo");
    Environment& env =
        create_environment(state, {"dev", EnvironmentType::development, std::nullopt});
    ServiceChanges deploy_only;
    deploy_only.deploy = "run";
    // Longest first on two slots: 3+2+2 on one, 3+2 on the other, the stage ends at 7;
    // the best order puts the two 3s on one slot and ends at 6.
    const std::vector<double> lengths = {3, 3, 2, 2, 2};
    for (std::size_t i = 0; i < lengths.size(); ++i)
        create_service(env, "s" + std::to_string(i), ServiceType::application, deploy_only);
    // Applications all go to the same default stage.
    const auto stage_of = [&](const std::string& id) { return env.find_stage_by_id(id)->name; };
    const std::string stage = stage_of(find_service(env, "s0").stage_id);
    for (std::size_t i = 1; i < lengths.size(); ++i)
        REQUIRE(stage_of(find_service(env, "s" + std::to_string(i)).stage_id) == stage);
    set_stage_max_parallel(env, stage, 2);
    Plan plan = make_plan(env, {});
    std::vector<double> estimates(plan.steps.size(), 0);
    std::vector<double> length(plan.services.size());
    for (std::size_t i = 0; i < plan.services.size(); ++i) {
        const std::size_t index = std::stoul(plan.services[i].service.name.substr(1));
        length[i] = lengths[index];
        estimates[plan.services[i].first_rollout_step()] = lengths[index];
    }
    assign_priorities(plan, estimates);
    CHECK(list_schedule(plan, length, 2) == Approx(7.0));  // longest first
    order_capped_stages(plan, estimates);
    CHECK(list_schedule(plan, length, 2) == Approx(6.0));

    // Without a cap the stage keeps the longest path first (nothing to order).
    set_stage_max_parallel(env, stage, std::nullopt);
    Plan uncapped = make_plan(env, {});
    assign_priorities(uncapped, estimates);
    order_capped_stages(uncapped, estimates);
    CHECK(list_schedule(uncapped, length, 2) == Approx(7.0));
}
