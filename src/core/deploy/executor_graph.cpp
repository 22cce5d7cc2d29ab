// execute()'s checks of its input: options in range, every dep a step, no cycle.
#include <cmath>
#include <stdexcept>
#include <string>

#include "depctl/executor.hpp"
#include "util/graph.hpp"

namespace depctl {

namespace {

// Names the first cycle as "X needs Y needs ... X", in the dependency direction.
std::string describe_cycle(const std::vector<ExecStep>& steps,
                           const std::vector<std::size_t>& members) {
    std::string text = "dependency cycle: ";
    for (std::size_t m : members) text += "\"" + steps[m].name + "\" needs ";
    return text + "\"" + steps[members[0]].name + "\"";
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
    util::Adjacency deps(n);
    for (std::size_t i = 0; i < n; ++i) deps[i] = steps[i].deps;
    const std::vector<std::size_t> cycle = util::topological_order(deps).cycle;
    if (!cycle.empty()) throw std::invalid_argument(describe_cycle(steps, cycle));
}

}  // namespace depctl
