#include "decent/probe/consensus.hpp"

#include <span>
#include <stdexcept>
#include <string>

namespace decent {

Consensus consensus(const Comm& comm, int nodes, const Eigen::Ref<const Eigen::MatrixXf>& local) {
  if (nodes < 1) throw std::invalid_argument("consensus: node count must be >= 1, got " + std::to_string(nodes));
  Consensus c;
  c.mean = Eigen::VectorXd::Zero(local.rows());
  for (Eigen::Index k = 0; k < local.cols(); ++k) c.mean += local.col(k).cast<double>();
  comm.allreduce(std::span<double>(c.mean.data(), static_cast<std::size_t>(c.mean.size())), ReduceOp::sum);
  c.mean /= nodes;
  double local_sum = 0;
  for (Eigen::Index k = 0; k < local.cols(); ++k) {
    c.distance_to_mean.push_back((local.col(k).cast<double>() - c.mean).squaredNorm());
    local_sum += c.distance_to_mean.back();
  }
  c.distance = comm.allreduce(local_sum, ReduceOp::sum) / nodes;
  return c;
}

}  // namespace decent
