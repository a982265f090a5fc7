#pragma once
/// @file Topology files: an edge list with optional weights (format in topologies/README.md).
#include <optional>
#include <stdexcept>
#include <string>

#include "decent/core/error.hpp"
#include "decent/topology/graph.hpp"
#include "decent/topology/mixing_matrix.hpp"

namespace decent {

/// A parsed topology file: the graph, and the mixing matrix if the file gives weights.
struct TopologyFile {
  Graph graph;
  std::optional<MixingMatrix> weights;
};

/// Error in a topology file; what() names the file, the line and the problem.
class topology_file_error : public input_error {
public:
  using input_error::input_error;
};

/// Reads a topology file. Throws topology_file_error on any malformed content, with file and line.
TopologyFile read_topology_file(const std::string& path);
/// Writes W (its pattern and weights, diagonal included) in the file format; read_topology_file of
/// the result gives W back exactly (weights are printed with 17 significant digits).
void write_topology_file(const std::string& path, const MixingMatrix& w, const std::string& comment = "");

}  // namespace decent
