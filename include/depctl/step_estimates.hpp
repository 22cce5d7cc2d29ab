// How long each planned step will take, judged from past deployments of the environment.
// The executor runs the ready step with the longest estimated path to the end first
// (critical path first), so good estimates shorten the whole deployment.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "depctl/plan.hpp"
#include "depctl/record.hpp"

namespace depctl {

// Seconds per plan step (index = step index). A step's estimate is its duration in the
// newest record where it succeeded; a step never seen takes the median of the known
// steps of its kind, else of all known steps, else 1 s. Barriers and reused builds take 0.
// `records` are history records, oldest first.
// `measured`, when given, receives how many of the steps that will run (not barriers, not
// reused builds) took their estimate from a record rather than from a fallback.
std::vector<double> estimate_step_durations(const Plan& plan,
                                            const std::vector<DeploymentRecord>& records,
                                            std::size_t* measured = nullptr);

// A duration as the dry run writes it: 4.2s, 3m07s.
std::string estimate_seconds_text(double seconds);

// The wall time a deployment of `plan` should take, for the dry run (DESIGN §5: "an
// estimate from past durations").
struct DeploymentEstimate {
    double seconds = 0;  // estimated wall time of the steps at `parallelism`
    int parallelism = 1;
    std::size_t steps = 0;     // steps that will run
    std::size_t measured = 0;  // of those, how many have a past duration
    // The chain of steps with the longest estimated total, first step first: what the
    // deployment cannot finish before, whatever the parallelism.
    struct Link {
        std::string service;
        std::string step;
        double seconds = 0;
    };
    std::vector<Link> critical_path;
    double critical_seconds = 0;
    nlohmann::json to_json() const;
    std::string critical_path_text() const;  // "Predicted critical path (4.2s): A build 3.0s → …"
};

// Replays the executor's rule with the estimated durations: at most `parallelism` steps at
// once, a step ready once its dependencies are done, release/deploy/health work before
// builds, and among those the longest path to the end first (plan priorities, which the
// caller assigns from the same estimates).
DeploymentEstimate simulate_deployment(const Plan& plan, const std::vector<double>& durations,
                                       int parallelism);

// The chain of planned steps with the longest estimated total (`estimates` in seconds per
// plan step), by the longest paths to the end (longest_paths_to_end) of the same estimates.
std::vector<DeploymentEstimate::Link> predicted_critical_path(const Plan& plan,
                                                              const std::vector<double>& estimates);

}  // namespace depctl
