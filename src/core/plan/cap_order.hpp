// The order in which a capped stage starts its rollouts (cap_order.cpp).
#pragma once

#include <vector>

#include "depctl/plan.hpp"

namespace depctl {

// After assign_priorities(plan, estimates): reorders the priorities of each capped stage's
// first rollout steps so that the executor starts them in the order that ends the stage
// soonest by the same estimates (seconds per plan step; 1 s where there is none).
void order_capped_stages(Plan& plan, const std::vector<double>& estimates);

}  // namespace depctl
