#include "decent/placement/placement.hpp"

#include <catch2/catch.hpp>

using decent::Placement;

TEST_CASE("block placement spreads the remainder over the first ranks", "[placement]") {
  Placement p(10, 4);
  CHECK(p.count(0) == 3);
  CHECK(p.count(1) == 3);
  CHECK(p.count(2) == 2);
  CHECK(p.count(3) == 2);
  CHECK(p.first(2) == 6);
  CHECK(p.owner(5) == 1);
  CHECK(p.owner(6) == 2);
  CHECK(p.local_index(7) == 1);
}

TEST_CASE("owner, first and count agree for many sizes", "[placement]") {
  for (int ranks = 1; ranks <= 9; ++ranks)
    for (int nodes = ranks; nodes <= 40; ++nodes) {
      Placement p(nodes, ranks);
      int next = 0;
      for (int r = 0; r < ranks; ++r) {
        REQUIRE(p.first(r) == next);
        REQUIRE(p.count(r) >= 1);
        for (int k = 0; k < p.count(r); ++k) REQUIRE(p.owner(next + k) == r);
        next += p.count(r);
      }
      REQUIRE(next == nodes);
    }
}

TEST_CASE("impossible placements are rejected", "[placement]") {
  CHECK_THROWS_WITH(Placement(3, 4), Catch::Contains("3 nodes cannot be placed on 4 ranks"));
  CHECK_THROWS_AS(Placement(3, 0), std::invalid_argument);
  CHECK_THROWS_AS(Placement(4, 2).owner(4), std::out_of_range);
}
