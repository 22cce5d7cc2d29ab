// Dependency-graph walks, written once: the model's validation, the executor, the plan and
// compose import each order their graph and name its first cycle the same way.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace depctl::util {

// edges[i] lists the nodes i points to (for depctl: what i depends on); every entry must
// be < edges.size(). Repeated edges are allowed.
using Adjacency = std::vector<std::vector<std::size_t>>;

struct TopologicalOrder {
    std::vector<std::size_t> order;  // every node after all the nodes it points to
    std::vector<std::size_t> cycle;  // empty, or c0 -> c1 -> ... -> ck -> c0 (then no order)
};

// A depth-first search from node 0, 1, ... following edges in their listed order, with
// its own stack (a chain of 100,000 nodes must not overflow the thread's). The order is
// the search's post-order; the cycle is the first back edge found, from the node it
// returns to down the search path (a self-loop is a cycle of one). Deterministic.
TopologicalOrder topological_order(const Adjacency& edges);

// The heaviest path starting at each node: weights[i] plus the largest result over
// edges[i] (or plus 0 when there is none), compared with std::max in listed order.
// nullopt when the graph has a cycle.
std::optional<std::vector<double>> longest_paths(const Adjacency& edges,
                                                 const std::vector<double>& weights);

}  // namespace depctl::util
