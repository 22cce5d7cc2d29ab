// util::topological_order and util::longest_paths (src/util/graph.hpp), shared by the
// model's validation, the executor, the plan and compose import.
#include <catch2/catch.hpp>

#include "util/graph.hpp"

using depctl::util::Adjacency;
using depctl::util::longest_paths;
using depctl::util::topological_order;
using Order = std::vector<std::size_t>;

namespace {

// True when every node comes after all the nodes it points to, each exactly once.
bool is_topological(const Adjacency& edges, const Order& order) {
    if (order.size() != edges.size()) return false;
    std::vector<std::size_t> at(edges.size(), edges.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
        if (order[k] >= edges.size() || at[order[k]] != edges.size()) return false;
        at[order[k]] = k;
    }
    for (std::size_t i = 0; i < edges.size(); ++i)
        for (std::size_t to : edges[i])
            if (at[to] >= at[i]) return false;
    return true;
}

}  // namespace

TEST_CASE("graph: an empty graph has an empty order and no cycle") {
    const auto sorted = topological_order({});
    CHECK(sorted.order.empty());
    CHECK(sorted.cycle.empty());
    CHECK(longest_paths({}, {})->empty());
}

TEST_CASE("graph: a chain is ordered from its end") {
    const Adjacency chain{{1}, {2}, {3}, {}};  // 0 -> 1 -> 2 -> 3
    const auto sorted = topological_order(chain);
    CHECK(sorted.cycle.empty());
    CHECK(sorted.order == Order{3, 2, 1, 0});
    CHECK(*longest_paths(chain, {1, 2, 3, 4}) == std::vector<double>{10, 9, 7, 4});
}

TEST_CASE("graph: a diamond is ordered once per node, in post-order") {
    const Adjacency diamond{{1, 2}, {3}, {3}, {}};
    const auto sorted = topological_order(diamond);
    CHECK(sorted.cycle.empty());
    CHECK(sorted.order == Order{3, 1, 2, 0});
    CHECK(is_topological(diamond, sorted.order));
    // The heavier branch wins: 0 + max(1 + 4, 5 + 4).
    CHECK(*longest_paths(diamond, {0, 1, 5, 4}) == std::vector<double>{9, 5, 9, 4});
}

TEST_CASE("graph: a self-loop is a cycle of one") {
    const Adjacency loop{{}, {0, 1}};
    const auto sorted = topological_order(loop);
    CHECK(sorted.cycle == Order{1});
    CHECK(sorted.order.empty());
    CHECK_FALSE(longest_paths(loop, {1, 1}).has_value());
}

TEST_CASE("graph: a 2-cycle is named from the node the search returns to") {
    const auto sorted = topological_order({{1}, {0}});
    CHECK(sorted.cycle == Order{0, 1});
    CHECK(sorted.order.empty());
}

TEST_CASE("graph: a cycle reachable only from a later node is found, members only") {
    // 0 and 1 are acyclic; 2 leads into the cycle 4 -> 5 -> 3 -> 4, which 2 is not part of.
    const Adjacency edges{{1}, {}, {1, 4}, {4}, {5}, {3}};
    const auto sorted = topological_order(edges);
    CHECK(sorted.cycle == Order{4, 5, 3});
    CHECK(sorted.order.empty());
    CHECK_FALSE(longest_paths(edges, std::vector<double>(6, 1)).has_value());
}

TEST_CASE("graph: the first cycle in search order is the one named") {
    // Two disjoint cycles, 3 <-> 4 and 1 <-> 2; node 0 points to 3 first, so 3's is first.
    const Adjacency edges{{3, 1}, {2}, {1}, {4}, {3}};
    CHECK(topological_order(edges).cycle == Order{3, 4});
}

TEST_CASE("graph: the order is deterministic and follows the listed edge order") {
    const Adjacency edges{{2, 1}, {}, {}, {0}};
    const auto first = topological_order(edges);
    CHECK(first.order == Order{2, 1, 0, 3});
    for (int run = 0; run < 3; ++run) CHECK(topological_order(edges).order == first.order);
    const Adjacency swapped{{1, 2}, {}, {}, {0}};
    CHECK(topological_order(swapped).order == Order{1, 2, 0, 3});
}

TEST_CASE("graph: repeated edges and long chains are fine") {
    CHECK(topological_order({{1, 1}, {}}).order == Order{1, 0});
    const std::size_t n = 200000;  // deeper than a recursive search's stack would allow
    Adjacency chain(n);
    for (std::size_t i = 0; i + 1 < n; ++i) chain[i] = {i + 1};
    const auto sorted = topological_order(chain);
    CHECK(sorted.cycle.empty());
    CHECK(is_topological(chain, sorted.order));
    chain[n - 1] = {0};
    CHECK(topological_order(chain).cycle.size() == n);
}
