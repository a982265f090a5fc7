// Average consensus with decent's public API: every node starts from its own vector and gossips on a
// topology until all nodes hold the global mean. Run: mpiexec -n 2 ./consensus [topology] [nodes] [rounds]
#include <decent/gossip/gossip.hpp>
#include <decent/mpi/environment.hpp>
#include <decent/topology/spectral.hpp>
#include <decent/topology/topology.hpp>

#include <cmath>
#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  decent::Environment environment(argc, argv);
  try {
    const std::string spec = argc > 1 ? argv[1] : "ring";
    const int nodes = argc > 2 ? std::stoi(argv[2]) : 8;
    const int rounds = argc > 3 ? std::stoi(argv[3]) : 100;
    const int dim = 1000;

    const decent::Comm world = decent::Comm::world();
    const auto topology = decent::make_topology(spec, nodes);
    decent::Gossip gossip(world, decent::Placement(nodes, world.size()), dim);

    // Node i starts at the constant vector i, so the mean is (n - 1) / 2 everywhere.
    Eigen::MatrixXf x(dim, gossip.local_count());
    for (int k = 0; k < gossip.local_count(); ++k) x.col(k).setConstant(static_cast<float>(gossip.first_node() + k));
    for (int t = 0; t < rounds; ++t) gossip.round(topology->mixing_matrix(t), x);

    const float mean = (nodes - 1) / 2.0f;
    const double error = world.allreduce(static_cast<double>((x.array() - mean).abs().maxCoeff()), decent::ReduceOp::max);
    if (world.rank() == 0)
      std::printf("%s on %d nodes, %d ranks: after %d rounds max |x_i - mean| = %.3g\n", spec.c_str(), nodes,
                  world.size(), rounds, error);
    return error < 1e-3 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consensus: error: %s\n", e.what());
    return 2;
  }
}
