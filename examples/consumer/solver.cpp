// A solver that uses decent as a library: decentralized least squares where every node holds private rows
// (A_i, b_i) and its own parameter vector. The solver owns its gradient and its loop; decent supplies the
// topology, the communication schedule, gossip and merges over MPI, the consensus measure and the HDF5
// record. Run: mpiexec -n 2 ./solver [out.h5]
#include <decent/gossip/gossip.hpp>
#include <decent/io/recorder.hpp>
#include <decent/mpi/environment.hpp>
#include <decent/optim/lr_schedule.hpp>
#include <decent/probe/consensus.hpp>
#include <decent/schedule/schedule.hpp>
#include <decent/topology/topology.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <random>
#include <vector>

namespace {

constexpr int nodes = 8, dim = 20, rows_per_node = 50, steps = 1000;

/// Node i's private data: rows of a common linear model, with a node-specific shift (heterogeneous nodes).
struct LocalProblem {
  Eigen::MatrixXd a;  // rows_per_node x dim
  Eigen::VectorXd b;
  explicit LocalProblem(int node) {
    std::mt19937_64 gen(1000 + static_cast<unsigned>(node));
    std::normal_distribution<double> normal;
    a.resize(rows_per_node, dim);
    for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = normal(gen);
    Eigen::VectorXd truth(dim);
    for (int k = 0; k < dim; ++k) truth[k] = 1.0 + 0.5 * node * (k % 3 == 0);
    b = a * truth;
    for (Eigen::Index i = 0; i < b.size(); ++i) b[i] += 0.1 * normal(gen);
  }
  /// f_i(x) = 1/(2m) ||A_i x - b_i||^2 and its gradient.
  double loss(const Eigen::VectorXf& x) const { return 0.5 * (a * x.cast<double>() - b).squaredNorm() / rows_per_node; }
  Eigen::VectorXf gradient(const Eigen::VectorXf& x) const {
    return (a.transpose() * (a * x.cast<double>() - b) / rows_per_node).cast<float>();
  }
};

}  // namespace

int main(int argc, char** argv) {
  decent::Environment environment(argc, argv);
  const decent::Comm world = decent::Comm::world();
  try {
    const std::string out = argc > 1 ? argv[1] : "solver.h5";
    const decent::Placement placement(nodes, world.size());
    const int first = placement.first(world.rank()), count = placement.count(world.rank());
    std::vector<LocalProblem> problems;
    for (int k = 0; k < count; ++k) problems.emplace_back(first + k);

    // decent's parts: a topology, a schedule (3 gossip rounds after every step, final merge), gossip, recorder.
    const auto topology = decent::make_topology("torus:2x4", nodes);
    decent::ScheduleOptions schedule_options;
    schedule_options.steps = steps;
    schedule_options.gossip_every = 1;
    schedule_options.rounds = 3;
    const decent::Schedule schedule(schedule_options);
    const decent::SchedulePlan plan = schedule.plan();
    decent::Gossip gossip(world, placement, dim);
    decent::Recorder recorder(world, placement, out, {"solver = least squares (example)\n", "solver", 0});
    recorder.write_topology(*topology);
    const std::vector<std::int32_t> rounds(plan.comm_rounds.begin(), plan.comm_rounds.end());
    recorder.write_schedule(plan.comm_steps, rounds, plan.merge_steps, schedule.describe());

    Eigen::MatrixXf x = Eigen::MatrixXf::Zero(dim, count);  // this rank's nodes, one column each
    // A constant step leaves the nodes' consensus bias (heterogeneous data); a step decay removes most of it.
    decent::LrScheduleOptions lr_options;
    lr_options.milestones = {700};
    const decent::LrSchedule lr = decent::make_lr_schedule("step", 0.05f, steps, lr_options);
    std::int64_t round = 0;
    std::vector<float> losses(static_cast<std::size_t>(count));
    for (std::int64_t t = 0; t < steps; ++t) {
      for (int k = 0; k < count; ++k) {
        const Eigen::VectorXf xk = x.col(k);
        losses[static_cast<std::size_t>(k)] = static_cast<float>(problems[static_cast<std::size_t>(k)].loss(xk));
        x.col(k) -= lr.at(t) * problems[static_cast<std::size_t>(k)].gradient(xk);
      }
      const decent::Action action = schedule.at(t);
      std::uint64_t bytes = 0;
      if (action.kind == decent::ActionKind::gossip)
        for (int r = 0; r < action.rounds; ++r) bytes += gossip.round(topology->mixing_matrix(round++), x).bytes_sent;
      if ((t + 1) % 100 == 0) {
        // The objective of the mean model sum_i f_i(x_bar) / n, and each node's own f_i(x_i).
        const decent::Consensus c = decent::consensus(world, nodes, x);
        double local_sum = 0;
        std::vector<double> own, nan(static_cast<std::size_t>(count), std::numeric_limits<double>::quiet_NaN());
        for (int k = 0; k < count; ++k) {
          local_sum += problems[static_cast<std::size_t>(k)].loss(c.mean.cast<float>());
          own.push_back(problems[static_cast<std::size_t>(k)].loss(x.col(k)));
        }
        const double merged = world.allreduce(local_sum, decent::ReduceOp::sum) / nodes;
        recorder.record_eval({t, merged, std::numeric_limits<double>::quiet_NaN(), own, nan, c.distance,
                              c.distance_to_mean});
      }
      if (action.kind == decent::ActionKind::merge) bytes += gossip.merge(x).bytes_sent;
      recorder.record_step(t, lr.at(t), losses, bytes, 0.0);
    }
    const decent::Consensus final_state = decent::consensus(world, nodes, x);
    const Eigen::VectorXf solution = final_state.mean.cast<float>();
    recorder.finish(std::span<const float>(solution.data(), dim));

    // Check against the exact minimizer of sum_i f_i: (sum A_i^T A_i) x = sum A_i^T b_i, all-reduced.
    Eigen::MatrixXd ata = Eigen::MatrixXd::Zero(dim, dim);
    Eigen::VectorXd atb = Eigen::VectorXd::Zero(dim);
    for (const auto& p : problems) {
      ata += p.a.transpose() * p.a;
      atb += p.a.transpose() * p.b;
    }
    world.allreduce(std::span<double>(ata.data(), static_cast<std::size_t>(ata.size())), decent::ReduceOp::sum);
    world.allreduce(std::span<double>(atb.data(), static_cast<std::size_t>(atb.size())), decent::ReduceOp::sum);
    const Eigen::VectorXd exact = ata.ldlt().solve(atb);
    const double error = (solution.cast<double>() - exact).norm() / exact.norm();
    if (world.rank() == 0)
      std::printf("least squares on %d nodes, %d ranks, %lld gossip rounds + final merge: relative error %.2e to the "
                  "exact solution; wrote %s\n",
                  nodes, world.size(), static_cast<long long>(plan.gossip_rounds), error, out.c_str());
    return error < 1e-3 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "solver: error: %s\n", e.what());
    return 2;
  }
}
