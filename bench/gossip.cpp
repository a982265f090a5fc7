// Gossip rounds against Open MPI and memcpy on the same data, in the same process, repeats interleaved.
//
//   mpiexec -n 2 decent-bench-gossip p1 [--dims 1e6,1e7] [--repeats 7] [--target-seconds 0.05] [--inner K]
//                                       [--cases gossip_round,mpi_allreduce,...] (default: all; for profiling)
//     P1: one gossip round with one node per rank (n = ranks) against MPI_Allreduce (sum) of the same d
//     floats, a ping-pong of d floats (bandwidth = 4d bytes / half the round trip), the bare exchange
//     (MPI_Isend + MPI_Irecv of d floats both ways) and memcpy of the d floats.
//   mpiexec -n 2 decent-bench-gossip p2 [--nodes 64] [--dim 2e5] [--topologies ring,exponential] [--repeats 7]
//     P2: one round with n nodes spread over the ranks against memcpy of each rank's parameter block,
//     run on all ranks at once. Bytes touched: a round reads every input of every local row and writes
//     the row, (nnz(row) + 1) * 4 d bytes; memcpy reads and writes its block, 2 * 4 * d * local nodes.
//
// Every sample is the mean of K back-to-back operations (K chosen so a sample takes about
// --target-seconds, the same K on all ranks), timed as the slowest rank's time. One JSON line per case on
// rank 0 (see measure.hpp).
#include <cstring>
#include <functional>
#include <iostream>

#include "decent/core/random.hpp"
#include "decent/gossip/gossip.hpp"
#include "decent/mpi/environment.hpp"
#include "decent/topology/topology.hpp"
#include "measure.hpp"

using namespace decent;
using bench::Line;

namespace {

constexpr int bench_tag = 0x6265;

/// Runs op() k times after a barrier; returns the mean time per op of the slowest rank. Collective.
template <class Op>
double timed(const Comm& comm, int k, Op&& op) {
  comm.barrier();
  const double start = MPI_Wtime();
  for (int i = 0; i < k; ++i) op();
  const double mine = (MPI_Wtime() - start) / k;
  return comm.allreduce(mine, ReduceOp::max);
}

/// How many back-to-back ops make one sample of about `seconds` (at least 1), agreed by all ranks.
template <class Op>
int inner_count(const Comm& comm, double seconds, int forced, Op&& op) {
  op();  // warm-up: first touch, MPI connection set-up, plan caches
  if (forced > 0) return forced;
  const double one = timed(comm, 1, op);
  return std::max(1, static_cast<int>(std::lround(seconds / std::max(one, 1e-9))));
}

void fill(float* data, std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<float>(2 * rng.uniform() - 1);
}

/// One case: k ops per sample, `repeats` samples, interleaved with the other cases by the caller.
struct Case {
  Case(std::string case_name, std::function<void()> operation) : name(std::move(case_name)), op(std::move(operation)) {}
  std::string name;
  std::function<void()> op;
  int k = 1;
  std::vector<double> samples;
};

void run_interleaved(const Comm& comm, std::vector<Case>& cases, int repeats, double seconds, int forced) {
  for (auto& c : cases) c.k = inner_count(comm, seconds, forced, c.op);
  for (int r = 0; r < repeats; ++r)  // interleaved, so drifting machine load hits every case alike
    for (auto& c : cases) c.samples.push_back(timed(comm, c.k, c.op));
}

void p1(const Comm& world, bench::Options& options) {
  const auto dims = options.numbers("dims", "1e6,1e7");
  const int repeats = static_cast<int>(options.number("repeats", 7));
  const double seconds = options.number("target-seconds", 0.05);
  const int forced = static_cast<int>(options.number("inner", 0));
  const auto only = options.words("cases", "");
  options.check_all_used();
  if (world.size() != 2) throw std::invalid_argument("p1 needs exactly 2 ranks (one node each)");
  const int me = world.rank(), peer = 1 - me;
  for (double dd : dims) {
    const auto d = static_cast<std::size_t>(dd);
    Gossip gossip(world, Placement(2, 2), d);
    const MixingMatrix w = make_topology("ring", 2)->mixing_matrix(0);
    Eigen::MatrixXf x(static_cast<Eigen::Index>(d), 1);
    fill(x.data(), d, derive_seed(1, {static_cast<std::uint64_t>(me)}));
    std::vector<float> reduce(d, 0.0f), ping(d, 1.0f), inbox(d), copy(d);
    std::vector<Case> cases;
    cases.emplace_back("gossip_round", [&] { gossip.round(w, x); });
    cases.emplace_back("mpi_allreduce", [&] { world.allreduce(std::span<float>(reduce), ReduceOp::sum); });
    cases.emplace_back("mpi_pingpong_roundtrip", [&] {
                       if (me == 0) {
                         world.send(std::span<const float>(ping), peer, bench_tag);
                         world.recv(std::span<float>(ping), peer, bench_tag);
                       } else {
                         world.recv(std::span<float>(ping), peer, bench_tag);
                         world.send(std::span<const float>(ping), peer, bench_tag);
                       }
                     });
    cases.emplace_back("mpi_exchange", [&] {
                       Request requests[2] = {world.irecv(std::span<float>(inbox), peer, bench_tag),
                                              world.isend(std::span<const float>(x.data(), d), peer, bench_tag)};
                       wait_all(requests);
                     });
    cases.emplace_back("memcpy", [&] { std::memcpy(copy.data(), x.data(), d * sizeof(float)); });
    if (!only.empty()) {
      std::erase_if(cases, [&](const Case& c) { return std::find(only.begin(), only.end(), c.name) == only.end(); });
      run_interleaved(world, cases, repeats, seconds, forced);
      if (me == 0)
        for (auto& c : cases) Line("P1", c.name).field("d", dd).field("inner", c.k).samples("s", c.samples).print();
      continue;
    }
    run_interleaved(world, cases, repeats, seconds, forced);
    if (me != 0) continue;
    for (auto& c : cases) Line("P1", c.name).field("d", dd).field("bytes", 4.0 * dd).field("inner", c.k).samples("s", c.samples).print();
    const double round = bench::median(cases[0].samples), allreduce = bench::median(cases[1].samples);
    const double one_way = bench::median(cases[2].samples) / 2;
    std::fprintf(stderr, "P1 d=%.0e: round %.3f ms, allreduce %.3f ms (round/allreduce %.2f); ping-pong %.2f GB/s, "
                 "round %.2f GB/s (ratio %.2f); exchange %.3f ms, memcpy %.3f ms\n",
                 dd, 1e3 * round, 1e3 * allreduce, round / allreduce, 4 * dd / one_way / 1e9, 4 * dd / round / 1e9,
                 one_way / round, 1e3 * bench::median(cases[3].samples), 1e3 * bench::median(cases[4].samples));
  }
}

void p2(const Comm& world, bench::Options& options) {
  const int nodes = static_cast<int>(options.number("nodes", 64));
  const auto d = static_cast<std::size_t>(options.number("dim", 2e5));
  const auto topologies = options.words("topologies", "ring,exponential");
  const int repeats = static_cast<int>(options.number("repeats", 7));
  const double seconds = options.number("target-seconds", 0.05);
  const int forced = static_cast<int>(options.number("inner", 0));
  options.check_all_used();
  const Placement placement(nodes, world.size());
  Gossip gossip(world, placement, d);
  const int count = gossip.local_count();
  Eigen::MatrixXf x(static_cast<Eigen::Index>(d), count), copy(static_cast<Eigen::Index>(d), count);
  for (int k = 0; k < count; ++k)
    fill(x.col(k).data(), d, derive_seed(2, {static_cast<std::uint64_t>(gossip.first_node() + k)}));
  const double block_bytes = 4.0 * static_cast<double>(d) * count;
  std::vector<Case> cases;
  std::vector<double> touched;  // bytes touched per round, summed over ranks
  for (const auto& spec : topologies) {
    const auto topology = make_topology(spec, nodes);
    if (topology->time_varying()) throw std::invalid_argument("p2 takes static topologies, not " + spec);
    const MixingMatrix w = topology->mixing_matrix(0);
    double mine = 0;
    for (int i = gossip.first_node(); i < gossip.first_node() + count; ++i) {
      int inputs = 0;
      for (MixingMatrix::Sparse::InnerIterator it(w.sparse(), i); it; ++it) ++inputs;
      mine += 4.0 * static_cast<double>(d) * (inputs + 1);
    }
    touched.push_back(world.allreduce(mine, ReduceOp::sum));
    cases.emplace_back("gossip_round_" + spec, [&gossip, &x, w] { gossip.round(w, x); });
  }
  cases.emplace_back("memcpy_block", [&] { std::memcpy(copy.data(), x.data(), static_cast<std::size_t>(block_bytes)); });
  run_interleaved(world, cases, repeats, seconds, forced);
  const double memcpy_touched = 2 * world.allreduce(block_bytes, ReduceOp::sum);
  if (world.rank() != 0) return;
  const double memcpy_rate = memcpy_touched / bench::median(cases.back().samples);
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const bool is_copy = c + 1 == cases.size();
    const double bytes = is_copy ? memcpy_touched : touched[c];
    Line("P2", cases[c].name).field("nodes", nodes).field("d", static_cast<double>(d)).field("ranks", world.size())
        .field("bytes_touched", bytes).field("inner", cases[c].k).samples("s", cases[c].samples).print();
    std::fprintf(stderr, "P2 %s: %.3f ms, %.2f GB/s touched (%.2fx memcpy)\n", cases[c].name.c_str(),
                 1e3 * bench::median(cases[c].samples), bytes / bench::median(cases[c].samples) / 1e9,
                 bytes / bench::median(cases[c].samples) / memcpy_rate);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Environment environment(argc, argv);
  const Comm world = Comm::world();
  try {
    const std::string what = argc > 1 ? argv[1] : "";
    bench::Options options(argc, argv, 2);
    if (what == "p1") p1(world, options);
    else if (what == "p2") p2(world, options);
    else throw std::invalid_argument("usage: decent-bench-gossip p1|p2 [--key value ...]");
  } catch (const std::exception& e) {
    if (world.rank() == 0) std::cerr << "decent-bench-gossip: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
