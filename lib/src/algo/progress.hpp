// Private: the progress report of the training loops that record one loss per node and step (decent::train,
// decent::train_zo).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "decent/algo/train.hpp"
#include "decent/mpi/comm.hpp"

namespace decent::detail {

/// After step t (0-based; `last` for the final one): when `progress` is set and a report is due (every
/// `every` steps and after the last), fills in the step, the mean of all `nodes` nodes' losses (collective
/// over `comm`: every rank must call it alike) and the seconds since `start`, and calls `progress`.
inline void report_progress(const Comm& comm, int nodes, std::span<const float> losses, std::int64_t t, bool last,
                            std::int64_t every, double start, TrainProgress& report,
                            const std::function<void(const TrainProgress&)>& progress) {
  if (!progress || every <= 0 || ((t + 1) % every != 0 && !last)) return;
  double sum = 0;
  for (const float l : losses) sum += l;
  report.step = t + 1;
  report.mean_loss = comm.allreduce(sum, ReduceOp::sum) / nodes;
  report.seconds = MPI_Wtime() - start;
  progress(report);
}

}  // namespace decent::detail
