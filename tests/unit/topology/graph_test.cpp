#include "decent/topology/graph.hpp"

#include <catch2/catch.hpp>

using decent::Graph;

TEST_CASE("undirected edges are stored both ways, sorted and without duplicates", "[graph]") {
  Graph g(4);
  g.add_edge(2, 0);
  g.add_edge(0, 1);
  g.add_edge(1, 0);
  CHECK(g.neighbors(0) == std::vector<int>{1, 2});
  CHECK(g.neighbors(1) == std::vector<int>{0});
  CHECK(g.edge_count() == 2);
  CHECK(g.edges() == std::vector<std::pair<int, int>>{{0, 1}, {0, 2}});
  CHECK(g.min_degree() == 0);
  CHECK(g.max_degree() == 2);
  CHECK_FALSE(g.connected());  // node 3 is isolated
  CHECK(g.diameter() == -1);
}

TEST_CASE("bad edges are rejected", "[graph]") {
  Graph g(3);
  CHECK_THROWS_AS(g.add_edge(0, 3), std::invalid_argument);
  CHECK_THROWS_AS(g.add_edge(-1, 0), std::invalid_argument);
  CHECK_THROWS_WITH(g.add_edge(1, 1), Catch::Contains("self-loop"));
  CHECK_THROWS_AS(Graph(-1), std::invalid_argument);
}

TEST_CASE("directed connectivity is strong connectivity", "[graph]") {
  Graph cycle(4, true), path(4, true);
  for (int i = 0; i < 4; ++i) cycle.add_edge(i, (i + 1) % 4);
  for (int i = 0; i < 3; ++i) path.add_edge(i, i + 1);
  CHECK(cycle.connected());
  CHECK(cycle.diameter() == 3);
  CHECK(cycle.edge_count() == 4);
  CHECK_FALSE(path.connected());
}

TEST_CASE("diameter of a path and of a single node", "[graph]") {
  Graph path(5);
  for (int i = 0; i < 4; ++i) path.add_edge(i, i + 1);
  CHECK(path.diameter() == 4);
  CHECK(Graph(1).diameter() == 0);
  CHECK(Graph(1).connected());
  CHECK_FALSE(Graph(0).connected());
}
