// Fuzz target: decent::read_topology_file (lib/include/decent/topology/file.hpp).
// Input: the file as it is. Contract: a graph (and, for a weighted file, a row-stochastic mixing matrix
// on the same nodes) or decent::topology_file_error; nothing else. A weighted result also goes through
// write_topology_file and back, which must give the same matrix exactly (as file.hpp promises).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "decent/topology/file.hpp"
#include "fuzz_support.hpp"

namespace {

// Writing a file of millions of nodes per input would only slow the fuzzer down.
constexpr int max_round_trip_nodes = 4096;

/// The stored non-zero entries of W, row by row.
std::vector<std::tuple<int, int, double>> entries(const decent::MixingMatrix& w) {
  std::vector<std::tuple<int, int, double>> out;
  for (int i = 0; i < w.nodes(); ++i)
    for (decent::MixingMatrix::Sparse::InnerIterator it(w.sparse(), i); it; ++it)
      if (it.value() != 0) out.emplace_back(i, static_cast<int>(it.col()), it.value());
  return out;
}

void check_round_trip(const decent::MixingMatrix& w, const decent::fuzz::ScratchFile& copy) {
  using decent::fuzz::expect;
  try {
    decent::write_topology_file(copy.path(), w, "fuzz round trip");
    const decent::TopologyFile back = decent::read_topology_file(copy.path());
    expect(back.weights.has_value(), "a written matrix reads back as a weighted file");
    expect(back.weights->nodes() == w.nodes(), "round trip keeps the node count");
    expect(entries(*back.weights) == entries(w), "round trip gives W back exactly");
  } catch (const decent::topology_file_error& e) {
    decent::fuzz::violation(std::string("reading back a written matrix failed: ") + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using decent::fuzz::expect;
  static const decent::fuzz::ScratchFile file("topology"), copy("topology_copy");
  file.write(data, size);
  try {
    const decent::TopologyFile t = decent::read_topology_file(file.path());
    const int n = t.graph.nodes();
    expect(n >= 1, "at least one node");
    for (int i = 0; i < n; ++i)
      for (const int j : t.graph.neighbors(i)) expect(j >= 0 && j < n && j != i, "neighbours are other nodes");
    if (t.weights) {
      const decent::MixingMatrix& w = *t.weights;
      expect(w.nodes() == n, "weights on the graph's nodes");
      for (int i = 0; i < n; ++i) {
        double sum = 0;
        for (decent::MixingMatrix::Sparse::InnerIterator it(w.sparse(), i); it; ++it) {
          expect(std::isfinite(it.value()) && it.value() >= 0, "finite, non-negative weights");
          sum += it.value();
        }
        expect(std::abs(sum - 1) <= 1e-6, "rows sum to 1");
      }
      if (n <= max_round_trip_nodes) check_round_trip(w, copy);
    }
  } catch (const decent::topology_file_error&) {
  } catch (const std::exception& e) {
    decent::fuzz::undocumented(e);
  }
  return 0;
}
