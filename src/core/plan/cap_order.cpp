// The order in which a capped stage (DESIGN §9 `max_parallel`) starts its rollouts.
//
// Among ready steps the executor starts the highest priority, the longest estimated path to
// the end. In a capped stage every rollout's path runs through the stage's barrier, so the
// priorities differ only by each rollout's own length: longest first. That is a good rule
// for many rollouts and a poor one for the last few: with a cap of 2, rollouts of 0.37, 0.28
// and 0.21 s on slots free at 0 and 0.11 s end at 0.58 s longest first, at 0.49 s shortest
// first. The stage's end holds up every later stage, so here the order is chosen by
// replaying the stage with the estimates (a list schedule on `cap` slots, the in-stage
// edges and each rollout's earliest start) and improving it by swaps; the stage's
// first-rollout steps then get their own priorities back in that order.
#include "core/plan/cap_order.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

#include "util/graph.hpp"

namespace depctl {

namespace {

// Replays are quadratic in the rollouts; beyond this a stage keeps longest first.
constexpr std::size_t k_max_ordered = 64;
constexpr int k_max_rounds = 8;

struct Rollout {
    std::size_t first;  // its first rollout step
    double ready = 0;   // earliest start from outside the stage (builds, barrier)
    double length = 0;  // its rollout steps' estimates
    std::vector<std::pair<std::size_t, double>> waits;  // (rollout, offset into it) it awaits
};

// The stage's end when its rollouts start in `order` (a permutation of their indices): each
// free slot takes the first rollout in the order that is ready.
double replay(const std::vector<Rollout>& rollouts, const std::vector<std::size_t>& order,
              int cap) {
    const std::size_t n = rollouts.size();
    constexpr double never = std::numeric_limits<double>::infinity();
    std::vector<double> start(n, never);
    std::vector<double> slots(static_cast<std::size_t>(cap), 0.0);
    std::size_t placed = 0;
    double end = 0;
    while (placed < n) {
        auto slot = std::min_element(slots.begin(), slots.end());
        double now = *slot, earliest = never;
        std::size_t chosen = n;
        for (std::size_t k : order) {
            if (start[k] != never) continue;
            double at = rollouts[k].ready;
            for (const auto& [other, offset] : rollouts[k].waits)
                at = std::max(at, start[other] == never ? never : start[other] + offset);
            if (at <= now) {
                chosen = k;
                break;
            }
            earliest = std::min(earliest, at);
        }
        if (chosen == n) {
            if (earliest == never) return never;  // waits on a rollout outside the order
            *slot = earliest;                     // idle until the next one is ready
            continue;
        }
        start[chosen] = now;
        *slot = now + rollouts[chosen].length;
        end = std::max(end, *slot);
        ++placed;
    }
    return end;
}

// Pairwise swaps while one shortens the replayed stage.
std::vector<std::size_t> improve(const std::vector<Rollout>& rollouts,
                                 std::vector<std::size_t> order, int cap) {
    double best = replay(rollouts, order, cap);
    for (int round = 0; round < k_max_rounds; ++round) {
        bool better = false;
        for (std::size_t a = 0; a < order.size(); ++a) {
            for (std::size_t b = a + 1; b < order.size(); ++b) {
                std::swap(order[a], order[b]);
                const double end = replay(rollouts, order, cap);
                if (end < best - 1e-9) {
                    best = end;
                    better = true;
                } else {
                    std::swap(order[a], order[b]);
                }
            }
        }
        if (!better) break;
    }
    return order;
}

// The stage's rollouts with their lengths, earliest starts and in-stage waits.
std::vector<Rollout> stage_rollouts(const Plan& plan, const PlannedStage& stage,
                                    const std::vector<double>& own,
                                    const std::vector<double>& earliest_end) {
    std::vector<Rollout> rollouts;
    std::vector<std::size_t> rollout_of(plan.steps.size(), k_no_step);
    std::vector<double> offset(plan.steps.size(), 0);  // a step's end into its rollout
    for (std::size_t index : stage.services) {
        const PlannedService& ps = plan.services[index];
        const std::size_t first = ps.first_rollout_step();
        if (first == k_no_step) continue;
        Rollout r;
        r.first = first;
        for (std::size_t step : ps.steps) {
            if (step == k_no_step || plan.steps[step].kind == StepKind::build) continue;
            r.length += own[step];
            offset[step] = r.length;
            rollout_of[step] = rollouts.size();
        }
        rollouts.push_back(r);
    }
    for (Rollout& r : rollouts) {
        for (std::size_t dep : plan.steps[r.first].deps) {
            if (rollout_of[dep] != k_no_step)
                r.waits.emplace_back(rollout_of[dep], offset[dep]);
            else
                r.ready = std::max(r.ready, earliest_end[dep]);
        }
    }
    return rollouts;
}

}  // namespace

void order_capped_stages(Plan& plan, const std::vector<double>& estimates) {
    const std::vector<double> own = step_weights(plan, estimates);
    util::Adjacency deps(plan.steps.size());
    for (std::size_t i = 0; i < plan.steps.size(); ++i) deps[i] = plan.steps[i].deps;
    // Each step's end at the earliest: its longest chain of dependencies, workers unlimited.
    const auto earliest_end = util::longest_paths(deps, own);
    if (!earliest_end) return;
    for (const PlannedStage& stage : plan.stages) {
        if (!stage.max_parallel) continue;
        std::vector<Rollout> rollouts = stage_rollouts(plan, stage, own, *earliest_end);
        const std::size_t n = rollouts.size();
        if (n <= static_cast<std::size_t>(*stage.max_parallel) || n > k_max_ordered) continue;
        // Start from the executor's own order: higher priority first, then lower index.
        std::vector<std::size_t> order(n);
        for (std::size_t k = 0; k < n; ++k) order[k] = k;
        const auto by_priority = [&](std::size_t a, std::size_t b) {
            const double pa = plan.steps[rollouts[a].first].priority,
                         pb = plan.steps[rollouts[b].first].priority;
            return pa != pb ? pa > pb : rollouts[a].first < rollouts[b].first;
        };
        std::sort(order.begin(), order.end(), by_priority);
        std::vector<double> values;
        for (std::size_t k : order) values.push_back(plan.steps[rollouts[k].first].priority);
        order = improve(rollouts, order, *stage.max_parallel);
        // The same priorities, handed out in the new order (strictly decreasing).
        for (std::size_t rank = 0; rank < n; ++rank)
            plan.steps[rollouts[order[rank]].first].priority =
                values[rank] + static_cast<double>(n - rank) * 1e-9;
    }
}

}  // namespace depctl
