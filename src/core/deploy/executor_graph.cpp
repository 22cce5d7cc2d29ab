// execute()'s checks of its input: options in range, every dep a step, no cycle.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "depctl/executor.hpp"

namespace depctl {

namespace {

// Describes one cycle, starting from a step that Kahn's algorithm could not release:
// every such step has an unreleased dep, so following those must come back around.
std::string describe_cycle(const std::vector<ExecStep>& steps,
                           const std::vector<std::size_t>& waiting, std::size_t from) {
    std::vector<std::size_t> seen_at(steps.size(), SIZE_MAX);
    std::vector<std::size_t> path;
    std::size_t at = from;
    while (seen_at[at] == SIZE_MAX) {
        seen_at[at] = path.size();
        path.push_back(at);
        for (std::size_t dep : steps[at].deps)
            if (waiting[dep] > 0) {
                at = dep;
                break;
            }
    }
    std::string text = "dependency cycle: ";
    // path runs against the dependency direction; print it as "X needs Y needs ... X".
    for (std::size_t k = seen_at[at]; k < path.size(); ++k)
        text += "\"" + steps[path[k]].name + "\" needs ";
    return text + "\"" + steps[at].name + "\"";
}

}  // namespace

void validate_steps(const std::vector<ExecStep>& steps, const ExecOptions& options,
                    std::vector<std::vector<std::size_t>>& dependents,
                    std::vector<std::size_t>& waiting) {
    if (options.parallelism < 1)
        throw std::invalid_argument("parallelism must be at least 1, got " +
                                    std::to_string(options.parallelism));
    for (int cap : options.group_caps)
        if (cap < 1) throw std::invalid_argument("a cap group must allow at least 1 step");
    const std::size_t n = steps.size();
    dependents.assign(n, {});
    waiting.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        if (!steps[i].run)
            throw std::invalid_argument("step \"" + steps[i].name + "\" has no run function");
        if (std::isnan(steps[i].priority))
            throw std::invalid_argument("step \"" + steps[i].name + "\" has a NaN priority");
        if (steps[i].cap_group >= static_cast<int>(options.group_caps.size()) ||
            steps[i].cap_group < -1)
            throw std::invalid_argument("step \"" + steps[i].name + "\" has no such cap group");
        for (std::size_t dep : steps[i].deps) {
            if (dep >= n)
                throw std::invalid_argument("step \"" + steps[i].name + "\" depends on step " +
                                            std::to_string(dep) + ", but there are only " +
                                            std::to_string(n) + " steps");
            dependents[dep].push_back(i);
            ++waiting[i];
        }
    }
    // Kahn's algorithm on a copy: whatever it cannot release lies on or behind a cycle.
    std::vector<std::size_t> left = waiting;
    std::vector<std::size_t> queue;
    for (std::size_t i = 0; i < n; ++i)
        if (left[i] == 0) queue.push_back(i);
    for (std::size_t k = 0; k < queue.size(); ++k)
        for (std::size_t d : dependents[queue[k]])
            if (--left[d] == 0) queue.push_back(d);
    if (queue.size() == n) return;
    for (std::size_t i = 0; i < n; ++i)
        if (left[i] > 0) throw std::invalid_argument(describe_cycle(steps, left, i));
}

}  // namespace depctl
