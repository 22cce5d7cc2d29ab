#include "util/graph.hpp"

#include <algorithm>

namespace depctl::util {

TopologicalOrder topological_order(const Adjacency& edges) {
    const std::size_t n = edges.size();
    enum class Mark : unsigned char { none, active, done };
    std::vector<Mark> marks(n, Mark::none);
    struct Frame {
        std::size_t node;
        std::size_t next_edge;
    };
    std::vector<Frame> path;
    TopologicalOrder out;
    out.order.reserve(n);
    for (std::size_t root = 0; root < n; ++root) {
        if (marks[root] != Mark::none) continue;
        marks[root] = Mark::active;
        path.push_back({root, 0});
        while (!path.empty()) {
            Frame& top = path.back();
            if (top.next_edge == edges[top.node].size()) {
                marks[top.node] = Mark::done;
                out.order.push_back(top.node);
                path.pop_back();
                continue;
            }
            const std::size_t to = edges[top.node][top.next_edge++];
            if (marks[to] == Mark::active) {
                auto from = path.begin();
                while (from->node != to) ++from;
                for (; from != path.end(); ++from) out.cycle.push_back(from->node);
                out.order.clear();
                return out;
            }
            if (marks[to] == Mark::none) {
                marks[to] = Mark::active;
                path.push_back({to, 0});  // invalidates `top`, which is not used again
            }
        }
    }
    return out;
}

std::optional<std::vector<double>> longest_paths(const Adjacency& edges,
                                                 const std::vector<double>& weights) {
    const TopologicalOrder sorted = topological_order(edges);
    if (!sorted.cycle.empty()) return std::nullopt;
    std::vector<double> longest(edges.size(), 0);
    for (std::size_t node : sorted.order) {
        double tail = 0;
        for (std::size_t to : edges[node]) tail = std::max(tail, longest[to]);
        longest[node] = weights[node] + tail;
    }
    return longest;
}

}  // namespace depctl::util
