#pragma once
/// @file One HDF5 file per run (schema in docs/hdf5.md): per-step losses, evals, topology, schedule.
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <Eigen/Dense>

#include "decent/mpi/comm.hpp"
#include "decent/placement/placement.hpp"

namespace decent {

class Topology;
struct LandscapeProbe;

/// What a run says about itself in the file's root attributes.
struct RunInfo {
  std::string config;        ///< the full configuration as INI text
  std::string command_line;  ///< how the run was started
  std::uint64_t seed = 0;
};

/// Measurements at one eval step. Spans hold this rank's nodes, in node order.
struct EvalRecord {
  std::int64_t step = 0;
  double merged_loss = 0, merged_accuracy = 0;   ///< of x_bar, the mean of all nodes (not applied)
  std::span<const double> local_loss, local_accuracy;
  double consensus_distance = 0;                 ///< (1/n) sum_i ||x_i - x_bar||^2
  std::span<const double> distance_to_mean;      ///< ||x_i - x_bar||^2
};

/// True if `path` is a run's HDF5 output that says finished = 1 (false if it is missing or unreadable).
bool run_finished(const std::string& path);

/// How far a file's series go: rows of /train, /eval and /landscape (a checkpoint stores it).
struct RecorderPosition {
  std::int64_t steps = 0, evals = 0, landscapes = 0;
};

/// Records a run into one HDF5 file. Each rank hands in its own nodes' values; rank 0 gathers and writes
/// (the serial HDF5 driver on one rank: measured 3-17x faster than collective parallel I/O for these
/// small per-step records, docs/hdf5.md). Training steps are buffered and written, with a flush, at every eval.
/// The file says finished = 0 until finish() succeeds.
class Recorder {
public:
  /// Creates `path` (replacing it) and writes the root attributes. Collective over `comm`, which must outlive
  /// the recorder (it is kept by reference); throws on every rank if rank 0 cannot create the file.
  Recorder(const Comm& comm, const Placement& placement, const std::string& path, const RunInfo& info);
  /// Reopens `path`, recorded by an earlier run of `placement.nodes()` nodes, cut back to `at` (the
  /// position a checkpoint saved), with finished = 0 and the root attribute `resumes` incremented; the run
  /// then continues recording where the checkpoint was taken. Collective; throws on every rank if the file
  /// is missing, has other nodes, or holds fewer rows than `at`.
  Recorder(const Comm& comm, const Placement& placement, const std::string& path, const RecorderPosition& at);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  /// /topology: round 0's W as edges and weights, with the spec, period and spectral gap. Collective.
  void write_topology(const Topology& topology);
  /// /schedule: steps after which gossip rounds run (and how many) and steps that end with a merge.
  /// Collective; the arguments matter on rank 0.
  void write_schedule(std::span<const std::int64_t> comm_steps, std::span<const std::int32_t> comm_rounds,
                      std::span<const std::int64_t> merge_steps, const std::string& description);
  /// Buffers training step `step`: learning rate, this rank's nodes' losses, bytes sent by all nodes in the
  /// step and wall seconds since the start. Not collective.
  void record_step(std::int64_t step, double lr, std::span<const float> local_loss, std::uint64_t bytes_sent,
                   double wall_seconds);
  /// Writes buffered steps and this eval, then flushes the file to disk. Collective.
  void record_eval(const EvalRecord& eval);
  /// Appends a landscape probe taken after step `step` under /landscape (created by the first call, whose
  /// alphas and probed nodes fix the shapes). Collective; `probe` is this rank's result.
  void record_landscape(std::int64_t step, const Eigen::VectorXd& alphas, const LandscapeProbe& probe);
  /// Writes buffered steps and flushes the file to disk (before a checkpoint). Collective.
  void flush();
  /// Rows recorded so far, buffered steps included (the same on every rank).
  RecorderPosition position() const noexcept;
  /// The file is kept in memory and written whole at each flush (docs/hdf5.md). An eval or probe skips its
  /// write until `factor` times the last write's duration has passed (default 30: writes take at most
  /// about 3% of the wall time); 0 writes at every eval. Creation, flush(), checkpoints and finish() always write.
  void set_write_budget(double factor);
  /// Writes buffered steps, /final/merged_params and finished = 1, and closes the file. Collective.
  void finish(std::span<const float> merged_params);
  /// The file's path.
  const std::string& path() const noexcept;
  /// Appends `values` to the extendible 1-D dataset /group/name; the first call creates both (`group` must be
  /// new to the file, e.g. "federated"). Written at the next flush. Collective; rank 0's values are written.
  void append_series(const std::string& group, const std::string& name, std::span<const double> values);
  void append_series(const std::string& group, const std::string& name, std::span<const std::int64_t> values);
  /// In a resumed file: cuts the series /group/name back to its first `rows` values (the length a checkpoint
  /// saved), so appends continue from there. Collective; input_error if the file holds fewer rows.
  void cut_series(const std::string& group, const std::string& name, std::int64_t rows);
  /// Writes a scalar attribute of /group (created as append_series does). Collective; rank 0's value is written.
  void write_group_attribute(const std::string& group, const std::string& name, const std::string& value);
  void write_group_attribute(const std::string& group, const std::string& name, double value);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace decent
