#include "decent/topology/file.hpp"

#include "support/scratch_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#ifndef DECENT_SOURCE_DIR
#error "DECENT_SOURCE_DIR must name the source tree (the CMake sets it; standalone: -DDECENT_SOURCE_DIR='\"/repo\"')"
#endif

namespace {

namespace fs = std::filesystem;
using decent::MixingMatrix;
using decent::read_topology_file;
using decent::topology_file_error;
using decent::write_topology_file;

using decent::test::ScratchDir;

std::string shipped(const std::string& name) { return std::string(DECENT_SOURCE_DIR "/topologies/") + name; }

}  // namespace

TEST_CASE("the documented example parses", "[topology][file]") {
  ScratchDir dir("decent_file_test");
  const std::string path = dir.file("example.txt",
                                    "# a weighted example\n"
                                    "\n"
                                    "nodes 4   # four nodes\n"
                                    "0 1 0.25\n"
                                    "\t1 2\t0.25  \n"
                                    "3 3 0.5   # explicit self weight\n"
                                    "3 0 0.5\n");
  const auto file = read_topology_file(path);
  CHECK(file.graph.nodes() == 4);
  CHECK_FALSE(file.graph.directed());
  CHECK(file.graph.edges() == std::vector<std::pair<int, int>>{{0, 1}, {0, 3}, {1, 2}});
  REQUIRE(file.weights.has_value());
  const MixingMatrix& w = *file.weights;
  CHECK(w.weight(0, 1) == 0.25);
  CHECK(w.weight(1, 0) == 0.25);
  CHECK(w.weight(0, 3) == 0.5);
  CHECK(w.weight(3, 0) == 0.5);
  CHECK(w.weight(3, 3) == 0.5);
  // Diagonals not given complete their rows to 1.
  CHECK(w.weight(0, 0) == Approx(0.25));
  CHECK(w.weight(1, 1) == Approx(0.5));
  CHECK(w.weight(2, 2) == Approx(0.75));
  CHECK(w.is_symmetric());
  CHECK(w.is_doubly_stochastic(1e-12));
}

TEST_CASE("unweighted files give a graph and no weights", "[topology][file]") {
  ScratchDir dir("decent_file_test");

  SECTION("node count defaults to the largest id + 1") {
    const auto file = read_topology_file(dir.file("u.txt", "0 1\n1 2\n2 0\n"));
    CHECK(file.graph.nodes() == 3);
    CHECK(file.graph.edge_count() == 3);
    CHECK_FALSE(file.weights.has_value());
  }
  SECTION("declared nodes allow isolated nodes") {
    const auto file = read_topology_file(dir.file("u.txt", "nodes 6\n0 1\n"));
    CHECK(file.graph.nodes() == 6);
    CHECK(file.graph.degree(5) == 0);
    CHECK_FALSE(file.graph.connected());
  }
  SECTION("nodes alone: isolated nodes, no edges") {
    const auto file = read_topology_file(dir.file("u.txt", "nodes 3\n"));
    CHECK(file.graph.nodes() == 3);
    CHECK(file.graph.edge_count() == 0);
  }
  SECTION("directed: i j means node i mixes in node j") {
    const auto file = read_topology_file(dir.file("d.txt", "directed\nnodes 3\n0 1\n1 0\n2 0\n"));
    CHECK(file.graph.directed());
    CHECK(file.graph.edge_count() == 3);
    CHECK(file.graph.neighbors(2) == std::vector<int>{0});
    CHECK(file.graph.neighbors(0) == std::vector<int>{1});
  }
  SECTION("Windows line endings read the same") {
    const auto file = read_topology_file(dir.file("crlf.txt", "nodes 3\r\n0 1\r\n1 2\r\n"));
    CHECK(file.graph.edge_count() == 2);
  }
}

TEST_CASE("directed weighted files set only W_ij", "[topology][file]") {
  ScratchDir dir("decent_file_test");
  const auto file = read_topology_file(dir.file("dw.txt", "directed\n0 1 0.5\n1 2 0.25\n2 0 1\n"));
  REQUIRE(file.weights.has_value());
  const MixingMatrix& w = *file.weights;
  CHECK(w.weight(0, 1) == 0.5);
  CHECK(w.weight(1, 0) == 0.0);
  CHECK(w.weight(0, 0) == 0.5);
  CHECK(w.weight(1, 1) == 0.75);
  CHECK(w.weight(2, 2) == 0.0);  // a full row leaves no self weight, and none is stored
  CHECK(w.non_zeros() == 5);
}

TEST_CASE("malformed files name the path, the line and the problem", "[topology][file]") {
  ScratchDir dir("decent_file_test");
  // Each case: file text, the line the error must name, a word naming the problem.
  struct BadFile {
    const char* name;
    const char* text;
    int line;
    const char* problem;
  };
  const std::vector<BadFile> cases = {
      {"out_of_range", "nodes 10\n0 1\n# c\n\n1 2\n2 3\n9 12\n", 7,
       "node id 12 is out of range 0..9 (the file declares nodes 10)"},
      {"fractional_id", "0 1\n1.5 2\n", 2, "not a non-negative integer"},
      {"negative_id", "0 1\n1 -1\n", 2, "not a non-negative integer"},
      {"text_id", "0 1\n\n2 abc\n", 3, "not a non-negative integer"},
      {"overflow_id", "0 1\n0 99999999999999999999999\n", 2, "too large"},
      {"id_beyond_int", "0 4294967296\n", 1, "too large"},
      {"huge_node_count", "nodes 2000000000\n0 1\n", 1, "too large"},
      {"node_count_above_cap", "nodes 16777215\n0 1 0.5\n", 1, "'16777215' is too large (at most 1048575)"},
      {"binary_token", "0 1\n1 \x01\x1b[2J\n", 2, "node id '\\x01\\x1b[2J' is not a non-negative integer"},
      {"zero_weight", "0 1 0.5\n1 2 0\n", 2, "out of range"},
      {"weight_above_one", "0 1 1.5\n", 1, "out of range"},
      {"negative_weight", "0 1 -0.25\n", 1, "out of range"},
      {"nan_weight", "0 1 0.5\n1 2 nan\n", 2, "out of range"},
      {"infinite_weight", "0 1 inf\n", 1, "out of range"},
      {"text_weight", "0 1 half\n", 1, "not a real number"},
      {"underflowing_weight", "0 1 1e-400\n", 1, "out of range"},
      {"weight_then_none", "0 1 0.25\n1 2 0.25\n2 3\n", 3, "fully weighted or unweighted"},
      {"none_then_weight", "0 1\n# comment\n1 2 0.25\n", 3, "fully weighted or unweighted"},
      {"unweighted_self_loop", "0 1\n2 2\n", 2, "self-loop"},
      {"duplicate_edge", "0 1\n1 2\n0 1\n", 3, "duplicate edge 0 1 (first given on line 1)"},
      {"reversed_duplicate_edge", "0 1\n1 2\n2 1\n", 3, "duplicate edge 2 1 (first given on line 2)"},
      {"duplicate_arc", "directed\n0 1\n1 0\n0 1\n", 4, "duplicate arc 0 1 (first given on line 2)"},
      {"duplicate_self_weight", "0 0 0.5\n0 1 0.5\n0 0 0.5\n", 3, "first given on line 1"},
      {"unknown_keyword", "nodes 3\nundirected\n0 1\n", 2, "unknown keyword 'undirected'"},
      {"one_token", "0 1\n2\n", 2, "wrong token count"},
      {"four_tokens", "0 1 0.5 0.5\n", 1, "wrong token count"},
      {"nodes_without_value", "nodes\n0 1\n", 1, "wrong token count"},
      {"directed_with_value", "directed yes\n0 1\n", 1, "wrong token count"},
      {"nodes_twice", "nodes 3\nnodes 3\n0 1\n", 2, "given twice"},
      {"directed_twice", "directed\n# again\ndirected\n0 1\n", 3, "given twice"},
      {"nodes_after_edge", "0 1\nnodes 3\n", 2, "before the first edge"},
      {"directed_after_edge", "0 1\n1 2\ndirected\n", 3, "before the first edge"},
      {"zero_nodes", "nodes 0\n", 1, "at least one node"},
      {"bad_node_count", "nodes many\n", 1, "not a non-negative integer"},
      {"row_above_one", "nodes 3\n0 1 0.5\n0 2 0.75\n", 3, "node 0's row sum is 1.25, above 1"},
      {"row_above_one_other_end", "0 2 0.5\n1 2 0.75\n", 2, "node 2's row sum is 1.25"},
      {"self_weight_row_short", "0 0 0.5\n0 1 0.25\n1 1 0.75\n", 1, "node 0's row sum is 0.75, not 1"},
      {"self_weight_row_over", "0 1 0.5\n1 1 0.75\n", 2, "node 1's row sum is 1.25"},
  };
  for (const BadFile& bad : cases) {
    const std::string path = dir.file(std::string(bad.name) + ".txt", bad.text);
    INFO("case " << bad.name);
    REQUIRE_THROWS_AS(read_topology_file(path), topology_file_error);
    REQUIRE_THROWS_WITH(read_topology_file(path), Catch::Contains(path + ":" + std::to_string(bad.line) + ": ") &&
                                                      Catch::Contains(bad.problem));
  }
}

TEST_CASE("files without nodes and unreadable files name the path", "[topology][file]") {
  ScratchDir dir("decent_file_test");
  SECTION("empty file") {
    const std::string path = dir.file("empty.txt", "");
    REQUIRE_THROWS_WITH(read_topology_file(path), Catch::Contains(path) && Catch::Contains("no nodes"));
  }
  SECTION("only comments and blank lines") {
    const std::string path = dir.file("comments.txt", "# nothing here\n\n   # still nothing\n\t\n");
    REQUIRE_THROWS_WITH(read_topology_file(path), Catch::Contains(path) && Catch::Contains("no nodes"));
  }
  SECTION("missing file") {
    const std::string path = dir.path("does-not-exist.txt");
    REQUIRE_THROWS_AS(read_topology_file(path), topology_file_error);
    REQUIRE_THROWS_WITH(read_topology_file(path), Catch::Contains(path) && Catch::Contains("cannot open"));
  }
  SECTION("a directory") {
    const std::string path = dir.path("");
    REQUIRE_THROWS_WITH(read_topology_file(path), Catch::Contains(path) && Catch::Contains("directory"));
  }
  SECTION("unwritable path") {
    const std::string path = dir.path("no-such-dir/out.txt");
    REQUIRE_THROWS_AS(write_topology_file(path, MixingMatrix::identity(2)), topology_file_error);
    REQUIRE_THROWS_WITH(write_topology_file(path, MixingMatrix::identity(2)),
                        Catch::Contains(path) && Catch::Contains("cannot open"));
  }
}

namespace {

void require_same_entries(const MixingMatrix& a, const MixingMatrix& b) {
  REQUIRE(a.nodes() == b.nodes());
  REQUIRE(a.non_zeros() == b.non_zeros());
  for (int i = 0; i < a.nodes(); ++i)
    for (int j = 0; j < a.nodes(); ++j) {
      INFO("entry (" << i << ", " << j << ")");
      REQUIRE(a.weight(i, j) == b.weight(i, j));
    }
}

}  // namespace

TEST_CASE("write then read gives the mixing matrix back exactly", "[topology][file]") {
  ScratchDir dir("decent_file_test");

  SECTION("symmetric, with weights that have no short decimal form") {
    // Metropolis-Hastings weights on a small irregular graph: thirds, quarters and their remainders.
    const int n = 5;
    const std::vector<std::pair<int, int>> edges = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {3, 4}};
    std::vector<int> degree(n, 0);
    for (const auto& [i, j] : edges) ++degree[i], ++degree[j];
    MixingMatrix::Triplets entries;
    std::vector<double> off(n, 0.0);
    for (const auto& [i, j] : edges) {
      const double weight = 1.0 / (1.0 + std::max(degree[i], degree[j]));
      entries.emplace_back(i, j, weight);
      entries.emplace_back(j, i, weight);
      off[i] += weight;
      off[j] += weight;
    }
    for (int i = 0; i < n; ++i) entries.emplace_back(i, i, 1.0 - off[i]);
    const MixingMatrix w = MixingMatrix::from_triplets(n, entries);

    const std::string path = dir.path("symmetric.txt");
    write_topology_file(path, w, "Metropolis-Hastings weights\nsecond comment line");
    const auto file = read_topology_file(path);
    CHECK_FALSE(file.graph.directed());
    CHECK(file.graph.edge_count() == edges.size());
    REQUIRE(file.weights.has_value());
    require_same_entries(w, *file.weights);

    std::ifstream text(path);
    std::string first, second;
    std::getline(text, first);
    std::getline(text, second);
    CHECK(first == "# Metropolis-Hastings weights");
    CHECK(second == "# second comment line");
  }

  SECTION("directed, some rows without self weight") {
    const int n = 4;
    const MixingMatrix::Triplets entries = {
        {0, 0, 0.1},       {0, 1, 0.9},       {1, 2, 1.0 / 3.0}, {1, 3, 2.0 / 3.0},
        {2, 2, 1.0 / 7.0}, {2, 0, 6.0 / 7.0}, {3, 3, 0.3},       {3, 0, 0.7},
    };
    const MixingMatrix w = MixingMatrix::from_triplets(n, entries);
    REQUIRE_FALSE(w.is_symmetric());

    const std::string path = dir.path("directed.txt");
    write_topology_file(path, w);
    const auto file = read_topology_file(path);
    CHECK(file.graph.directed());
    CHECK(file.graph.edge_count() == 5);
    REQUIRE(file.weights.has_value());
    require_same_entries(w, *file.weights);
  }

  SECTION("the identity: self weights only") {
    const std::string path = dir.path("identity.txt");
    write_topology_file(path, MixingMatrix::identity(3));
    const auto file = read_topology_file(path);
    CHECK(file.graph.nodes() == 3);
    CHECK(file.graph.edge_count() == 0);
    REQUIRE(file.weights.has_value());
    require_same_entries(MixingMatrix::identity(3), *file.weights);
  }
}

TEST_CASE("shipped topology files parse and have their documented properties", "[topology][file]") {
  struct Shipped {
    const char* name;
    int nodes;
    std::size_t edges;
    int min_degree;
    int max_degree;
    int diameter;
    bool weighted;
  };
  const Shipped files = GENERATE(values<Shipped>({
      {"petersen.txt", 10, 15, 3, 3, 2, false},
      {"barbell-10.txt", 10, 21, 4, 5, 3, false},
      {"grid-4x4.txt", 16, 24, 2, 4, 6, false},
      {"path-8.txt", 8, 7, 1, 2, 7, false},
      {"ring-8-lazy.txt", 8, 8, 2, 2, 4, true},
  }));
  INFO("file " << files.name);
  const auto file = read_topology_file(shipped(files.name));
  CHECK_FALSE(file.graph.directed());
  CHECK(file.graph.nodes() == files.nodes);
  CHECK(file.graph.edge_count() == files.edges);
  CHECK(file.graph.min_degree() == files.min_degree);
  CHECK(file.graph.max_degree() == files.max_degree);
  CHECK(file.graph.diameter() == files.diameter);
  CHECK(file.weights.has_value() == files.weighted);
  if (file.weights) {
    const MixingMatrix& w = *file.weights;
    CHECK(w.is_symmetric());
    CHECK(w.is_doubly_stochastic());
    for (int i = 0; i < w.nodes(); ++i) {
      CHECK(w.weight(i, i) == 0.5);
      CHECK(w.weight(i, (i + 1) % w.nodes()) == 0.25);
      CHECK(w.weight(i, (i + w.nodes() - 1) % w.nodes()) == 0.25);
    }
  }
}
