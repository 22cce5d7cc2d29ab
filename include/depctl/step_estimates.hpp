// How long each planned step will take, judged from past deployments of the environment.
// The executor runs the ready step with the longest estimated path to the end first
// (critical path first), so good estimates shorten the whole deployment.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "depctl/plan.hpp"

namespace depctl {

// Seconds per plan step (index = step index). A step's estimate is its duration in the
// newest record where it succeeded; a step never seen takes the median of the known
// steps of its kind, else of all known steps, else 1 s. Barriers and reused builds take 0.
// `records` are history records, oldest first.
std::vector<double> estimate_step_durations(const Plan& plan, const std::vector<nlohmann::json>& records);

}  // namespace depctl
