// decent-gossip: runs gossip rounds of n nodes over the MPI ranks and reports how the consensus
// distance shrinks, what crosses the network and how long a round takes. Optionally ends with a merge.
#include <boost/program_options.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "failure.hpp"
#include "program_options_error.hpp"
#include "seed_option.hpp"

#include "decent/core/random.hpp"
#include "decent/gossip/gossip.hpp"
#include "decent/mpi/environment.hpp"
#include "decent/probe/consensus.hpp"
#include "decent/topology/file.hpp"
#include "decent/topology/topology.hpp"

namespace po = boost::program_options;
using namespace decent;

namespace {

struct Options {
  std::string topology = "ring";
  int nodes = 16;
  long dim = 100000;
  int rounds = 50;
  int every = 0;
  std::uint64_t seed = 1;
  std::string weights;
  bool merge = false;
};

std::optional<Options> parse(int argc, char** argv, bool print) {
  Options o;
  std::string seed = "1";
  po::options_description visible(
      "decent-gossip: gossip n nodes' parameter vectors over the MPI ranks and report the consensus distance\n\n"
      "Usage: mpiexec -n P decent-gossip --topology NAME --nodes N [options]\n\nOptions");
  visible.add_options()
    ("help,h", "print this help and exit")
    ("topology,t", po::value(&o.topology)->default_value(o.topology), "topology spec, as for decent-topo")
    ("nodes,n", po::value(&o.nodes)->default_value(o.nodes), "number of nodes (>= number of ranks)")
    ("dim,d", po::value(&o.dim)->default_value(o.dim), "parameters per node (floats)")
    ("rounds,r", po::value(&o.rounds)->default_value(o.rounds), "gossip rounds")
    ("every", po::value(&o.every), "report every K rounds (default: rounds/10)")
    ("weights,w", po::value(&o.weights), "metropolis, uniform or max-degree (static graphs)")
    ("seed", po::value(&seed)->default_value(seed), "seed of the initial parameters and random graphs, 0 to 2^63 - 1")
    ("merge", po::bool_switch(&o.merge), "finish with a global merge (all-reduce mean)");
  po::variables_map vm;
  // No prefix guessing: a misspelled option is an error, never silently another option.
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  po::store(driver::without_stray_words(po::command_line_parser(argc, argv).options(visible).style(style).run()), vm);
  if (vm.count("help")) {
    if (print) std::cout << visible;
    return std::nullopt;
  }
  po::notify(vm);
  const std::optional<std::uint64_t> seed_value = driver::parse_seed(seed);
  if (!seed_value)
    throw std::invalid_argument("--seed: '" + driver::detail::quotable(seed) + "' " + driver::seed_requirement);
  o.seed = *seed_value;
  if (o.dim < 1) throw std::invalid_argument("--dim must be >= 1, got " + std::to_string(o.dim));
  if (o.rounds < 0) throw std::invalid_argument("--rounds must be >= 0, got " + std::to_string(o.rounds));
  if (vm.count("every") && o.every < 1) throw std::invalid_argument("--every must be >= 1");
  if (o.every == 0) o.every = std::max(1, o.rounds / 10);
  return o;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int run(const Options& o, const Comm& world) {
  TopologyOptions topology_options;
  topology_options.seed = o.seed;
  if (!o.weights.empty()) topology_options.weights = parse_weight_scheme(o.weights);
  const auto topology = make_topology(o.topology, o.nodes, topology_options);
  Gossip gossip(world, Placement(o.nodes, world.size()), static_cast<std::size_t>(o.dim));
  const bool root = world.rank() == 0;

  // Node j starts from its own seeded stream, so the run does not depend on the rank count.
  Eigen::MatrixXf x(o.dim, gossip.local_count());
  for (int k = 0; k < gossip.local_count(); ++k) {
    Rng rng(derive_seed(o.seed, {0x494E4954ull /* "INIT" */, static_cast<std::uint64_t>(gossip.first_node() + k)}));
    for (long r = 0; r < o.dim; ++r) x(r, k) = static_cast<float>(2 * rng.uniform() - 1);
  }
  const Consensus start = consensus(world, o.nodes, x);
  if (root) {
    std::printf("decent-gossip: %s on %d nodes over %d ranks, %ld parameters per node, %d rounds\n",
                topology->name().c_str(), o.nodes, world.size(), o.dim, o.rounds);
    std::printf("%8s %20s %12s %16s %12s\n", "round", "consensus_distance", "relative", "bytes_all_ranks", "ms_round");
    std::printf("%8d %20.6e %12.4e %16s %12s\n", 0, start.distance, 1.0, "-", "-");
  }

  std::vector<double> round_ms;
  std::uint64_t bytes_total = 0;
  for (int t = 0; t < o.rounds; ++t) {
    const MixingMatrix w = topology->mixing_matrix(t);
    world.barrier();
    const double begin = MPI_Wtime();
    const RoundStats stats = gossip.round(w, x);
    const double ms = world.allreduce((MPI_Wtime() - begin) * 1e3, ReduceOp::max);
    const auto bytes = world.allreduce(stats.bytes_sent, ReduceOp::sum);
    round_ms.push_back(ms);
    bytes_total += bytes;
    if ((t + 1) % o.every == 0 || t + 1 == o.rounds) {
      const Consensus c = consensus(world, o.nodes, x);
      if (root)
        std::printf("%8d %20.6e %12.4e %16llu %12.3f\n", t + 1, c.distance,
                    start.distance > 0 ? c.distance / start.distance : 0.0, static_cast<unsigned long long>(bytes), ms);
    }
  }
  const Consensus end = consensus(world, o.nodes, x);
  const double drift = (end.mean - start.mean).cwiseAbs().maxCoeff();
  if (root) {
    std::printf("median round %.3f ms; %.3f MB crossed ranks per round; mean drift max|xbar_T - xbar_0| = %.3g%s\n",
                median(round_ms), o.rounds ? bytes_total / 1e6 / o.rounds : 0.0, drift,
                topology->mixing_matrix(0).is_doubly_stochastic(1e-9) ? ""
                                                                      : " (W is not doubly stochastic: the mean moves)");
  }
  if (o.merge) {
    gossip.merge(x);
    const Consensus merged = consensus(world, o.nodes, x);
    if (root) std::printf("after merge: consensus distance %.3e\n", merged.distance);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Environment environment(argc, argv);
  const Comm world = Comm::world();
  const Comm errors = world.dup();
  // Options, sizes and topology files are the same on every rank, so every rank fails alike and rank 0
  // alone says why (driver/failure.hpp).
  try {
    const std::optional<Options> o = parse(argc, argv, world.rank() == 0);
    return o ? run(*o, world) : 0;
  } catch (const po::error& e) {
    return driver::bad_input("decent-gossip", std::invalid_argument(driver::error_message(e) + " (see decent-gossip --help)"),
                             errors);
  } catch (const std::invalid_argument& e) {  // the input-error branch (decent/core/error.hpp)
    return driver::bad_input("decent-gossip", e, errors);
  } catch (const std::bad_alloc&) {
    // Sizes come from the options, so this is normally every rank's failure too.
    return driver::bad_input("decent-gossip", std::invalid_argument("out of memory: the sizes asked for do not fit (std::bad_alloc)"),
                             errors);
  } catch (const std::exception& e) {
    driver::rank_failure("decent-gossip", e, world.rank());
  }
}
