#include "decent/io/recorder.hpp"

#include <chrono>
#include <ctime>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "decent/core/error.hpp"
#include "decent/core/version.hpp"
#include "decent/model/gemm.hpp"
#include "decent/probe/landscape.hpp"
#include "decent/topology/spectral.hpp"
#include "decent/topology/topology.hpp"
#include "io/hdf5.hpp"
#include "io/on_root.hpp"

namespace decent {

namespace h5 = detail::h5;

namespace {

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

using detail::on_root;

}  // namespace

struct Recorder::Impl {
  const Comm& comm;
  Placement placement;
  std::string path;
  h5::Id file;
  h5::Id train_step, train_lr, train_loss, train_bytes, train_wall;
  h5::Id eval_step, merged_loss, merged_accuracy, local_loss, local_accuracy, consensus_distance, distance_to_mean,
      mergeability_gap;
  h5::Id landscape_step, interp_loss, interp_acc, barrier, plane_scale, plane_loss, plane_acc, plane_nodes;
  bool landscape_created = false;
  RecorderPosition position;  // rows recorded so far (buffered steps included)
  // The file lives in memory and each write puts all of it on disk (crash consistency, docs/hdf5.md), so a
  // write costs more as the run grows: writes at evals and probes are skipped until `write_budget` times
  // the last write's duration has passed, which keeps them below about 1/write_budget of the wall time.
  double write_budget = 30;
  std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
  double write_seconds = 0;

  /// Rank 0: writes the file to disk now (`force`: at creation, checkpoints and the end) or when due.
  void write_file(bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (!force && std::chrono::duration<double>(now - last_write).count() < write_budget * write_seconds) return;
    h5::flush(file.get());
    last_write = std::chrono::steady_clock::now();
    write_seconds = std::chrono::duration<double>(last_write - now).count();
  }
  std::map<std::string, h5::Id> extra;  // append_series, write_group_attribute: groups and datasets by path
  // Buffered steps since the last write; losses are this rank's nodes only.
  std::vector<std::int64_t> steps;
  std::vector<double> lrs, walls;
  std::vector<std::uint64_t> bytes;
  std::vector<float> losses;

  Impl(const Comm& c, Placement p, std::string file_path) : comm(c), placement(p), path(std::move(file_path)) {}

  int nodes() const { return placement.nodes(); }

  /// Collective: the buffered per-node losses of every rank, on rank 0 (rank-major: rank r's block is
  /// steps x count(r), step-major).
  std::vector<float> gather_losses() const { return comm.gatherv(std::span<const float>(losses), 0); }

  /// Rank 0: appends the buffered steps, with `gathered` from gather_losses() reordered into steps x n.
  void append_steps(const std::vector<float>& gathered) {
    const std::size_t rows = steps.size();
    if (rows == 0) return;
    const auto n = static_cast<std::size_t>(nodes());
    std::vector<float> table(rows * n);
    std::size_t offset = 0;
    for (int r = 0; r < placement.ranks(); ++r)
      for (std::size_t s = 0; s < rows; ++s)
        for (int k = 0; k < placement.count(r); ++k)
          table[s * n + static_cast<std::size_t>(placement.first(r) + k)] = gathered[offset++];
    h5::append_rows<std::int64_t>(train_step.get(), steps, rows);
    h5::append_rows<double>(train_lr.get(), lrs, rows);
    h5::append_rows<float>(train_loss.get(), table, rows);
    h5::append_rows<std::uint64_t>(train_bytes.get(), bytes, rows);
    h5::append_rows<double>(train_wall.get(), walls, rows);
  }

  void clear_steps() {
    steps.clear();
    lrs.clear();
    walls.clear();
    bytes.clear();
    losses.clear();
  }
};

Recorder::Recorder(const Comm& comm, const Placement& placement, const std::string& path, const RunInfo& info)
    : impl_(std::make_unique<Impl>(comm, placement, path)) {
  if (placement.ranks() != comm.size())
    throw std::invalid_argument("recorder: placement is for " + std::to_string(placement.ranks()) + " ranks, not " +
                                std::to_string(comm.size()));
  Impl& m = *impl_;
  on_root(comm, [&] {
    m.file = h5::create_snapshot_file(path);
    const hid_t root = m.file.get();
    h5::write_attribute(root, "decent_version", version());
    h5::write_attribute(root, "git_commit", git_commit());
    h5::write_attribute(root, "gemm", gemm_info().description);
    h5::write_attribute(root, "cpu", gemm_info().cpu);
    h5::write_attribute(root, "config", info.config);
    h5::write_attribute(root, "command_line", info.command_line);
    h5::write_attribute(root, "n_nodes", static_cast<std::int64_t>(placement.nodes()));
    h5::write_attribute(root, "n_ranks", static_cast<std::int64_t>(placement.ranks()));
    h5::write_attribute(root, "seed", static_cast<std::int64_t>(info.seed));
    h5::write_attribute(root, "started_utc", utc_now());
    h5::write_attribute(root, "finished", std::int64_t{0});
    const auto n = static_cast<hsize_t>(placement.nodes());
    h5::Id train = h5::create_group(root, "train");
    m.train_step = h5::create_extendible<std::int64_t>(train.get(), "step", {}, 1024);
    m.train_lr = h5::create_extendible<double>(train.get(), "lr", {}, 1024);
    m.train_loss = h5::create_extendible<float>(train.get(), "loss", {n}, std::max<hsize_t>(1, 4096 / n));
    m.train_bytes = h5::create_extendible<std::uint64_t>(train.get(), "bytes_sent", {}, 1024);
    m.train_wall = h5::create_extendible<double>(train.get(), "wall_s", {}, 1024);
    h5::Id eval = h5::create_group(root, "eval");
    m.eval_step = h5::create_extendible<std::int64_t>(eval.get(), "step", {}, 64);
    m.merged_loss = h5::create_extendible<double>(eval.get(), "merged_loss", {}, 64);
    m.merged_accuracy = h5::create_extendible<double>(eval.get(), "merged_acc", {}, 64);
    m.local_loss = h5::create_extendible<double>(eval.get(), "local_loss", {n}, 64);
    m.local_accuracy = h5::create_extendible<double>(eval.get(), "local_acc", {n}, 64);
    m.consensus_distance = h5::create_extendible<double>(eval.get(), "consensus_distance", {}, 64);
    m.distance_to_mean = h5::create_extendible<double>(eval.get(), "distance_to_mean", {n}, 64);
    m.mergeability_gap = h5::create_extendible<double>(eval.get(), "mergeability_gap", {}, 64);
    m.write_file(true);
  });
}

Recorder::Recorder(const Comm& comm, const Placement& placement, const std::string& path, const RecorderPosition& at)
    : impl_(std::make_unique<Impl>(comm, placement, path)) {
  if (placement.ranks() != comm.size())
    throw std::invalid_argument("recorder: placement is for " + std::to_string(placement.ranks()) + " ranks, not " +
                                std::to_string(comm.size()));
  Impl& m = *impl_;
  m.position = at;
  // Reopening the run's own file to resume is about what the user gave: an input error (exit 2).
  on_root<input_error>(comm, [&] {
    try {
      m.file = h5::open_snapshot_file(path);
    } catch (const h5::error&) {
      throw input_error("resume: cannot reopen the run's output '" + path + "' (missing, not HDF5, or open in another program)");
    }
    const hid_t root = m.file.get();
    const std::int64_t nodes = h5::read_int_attribute(root, "n_nodes");
    if (nodes != placement.nodes())
      throw input_error("resume: '" + path + "' records " + std::to_string(nodes) + " nodes, this run has " +
                               std::to_string(placement.nodes()));
    // Opens an extendible dataset and cuts it back to `rows`, which it must hold.
    const auto reopen = [&](const std::string& name, std::int64_t rows) {
      h5::Id dataset = h5::open_dataset(root, name);
      const auto held = static_cast<std::int64_t>(h5::shape(dataset.get()).at(0));
      if (held < rows)
        throw input_error("resume: '" + path + "' holds " + std::to_string(held) + " rows of /" + name +
                                 ", the checkpoint expects at least " + std::to_string(rows));
      h5::set_rows(dataset.get(), static_cast<hsize_t>(rows));
      return dataset;
    };
    m.train_step = reopen("train/step", at.steps);
    m.train_lr = reopen("train/lr", at.steps);
    m.train_loss = reopen("train/loss", at.steps);
    m.train_bytes = reopen("train/bytes_sent", at.steps);
    m.train_wall = reopen("train/wall_s", at.steps);
    m.eval_step = reopen("eval/step", at.evals);
    m.merged_loss = reopen("eval/merged_loss", at.evals);
    m.merged_accuracy = reopen("eval/merged_acc", at.evals);
    m.local_loss = reopen("eval/local_loss", at.evals);
    m.local_accuracy = reopen("eval/local_acc", at.evals);
    m.consensus_distance = reopen("eval/consensus_distance", at.evals);
    m.distance_to_mean = reopen("eval/distance_to_mean", at.evals);
    m.mergeability_gap = reopen("eval/mergeability_gap", at.evals);
    if (h5::exists(root, "landscape")) {
      m.landscape_created = true;
      m.landscape_step = reopen("landscape/step", at.landscapes);
      const std::pair<h5::Id*, const char*> parts[] = {
          {&m.interp_loss, "landscape/interp_loss"}, {&m.interp_acc, "landscape/interp_acc"},
          {&m.barrier, "landscape/barrier"},         {&m.plane_scale, "landscape/plane_scale"},
          {&m.plane_loss, "landscape/plane_loss"},   {&m.plane_acc, "landscape/plane_acc"},
          {&m.plane_nodes, "landscape/plane_nodes"}};
      for (const auto& [id, name] : parts)
        if (h5::exists(root, name)) *id = reopen(name, at.landscapes);
    } else if (at.landscapes > 0) {
      throw input_error("resume: '" + path + "' has no /landscape, the checkpoint expects " +
                               std::to_string(at.landscapes) + " probes");
    }
    if (h5::exists(root, "final")) h5::remove(root, "final");
    if (H5Aexists(root, "finished_utc") > 0) h5::check(H5Adelete(root, "finished_utc"), "H5Adelete finished_utc");
    h5::write_attribute(root, "finished", std::int64_t{0});
    const std::int64_t resumes = H5Aexists(root, "resumes") > 0 ? h5::read_int_attribute(root, "resumes") : 0;
    h5::write_attribute(root, "resumes", resumes + 1);
    h5::write_attribute(root, "resumed_utc", utc_now());
    m.write_file(true);
  });
}

bool run_finished(const std::string& path) {
  try {
    const h5::Id file = h5::open_file(path, false);
    return h5::read_int_attribute(file.get(), "finished") == 1;
  } catch (const h5::error&) {
    return false;
  }
}

Recorder::~Recorder() = default;

void Recorder::flush() {
  Impl& m = *impl_;
  const std::vector<float> step_losses = m.gather_losses();
  on_root(m.comm, [&] {
    m.append_steps(step_losses);
    m.write_file(true);
  });
  m.clear_steps();
}

RecorderPosition Recorder::position() const noexcept { return impl_->position; }

void Recorder::set_write_budget(double factor) {
  if (!(factor >= 0)) throw std::invalid_argument("recorder: write budget must be >= 0");
  impl_->write_budget = factor;
}

const std::string& Recorder::path() const noexcept { return impl_->path; }

void Recorder::write_topology(const Topology& topology) {
  Impl& m = *impl_;
  on_root(m.comm, [&] {
    h5::Id group = h5::create_group(m.file.get(), "topology");
    const MixingMatrix w = topology.mixing_matrix(0);
    std::vector<std::int64_t> edges;
    std::vector<double> weights;
    for (int i = 0; i < w.sparse().outerSize(); ++i)
      for (MixingMatrix::Sparse::InnerIterator it(w.sparse(), i); it; ++it) {
        edges.push_back(i);
        edges.push_back(it.col());
        weights.push_back(it.value());
      }
    const auto m_entries = static_cast<hsize_t>(weights.size());
    h5::write_dataset<std::int64_t>(group.get(), "edges", {m_entries, 2}, edges);
    h5::write_dataset<double>(group.get(), "weights", {m_entries}, weights);
    h5::write_attribute(group.get(), "spec", topology.name());
    h5::write_attribute(group.get(), "weight_scheme", topology.weights());
    h5::write_attribute(group.get(), "period", static_cast<std::int64_t>(topology.period()));
    const double gap = topology.period() >= 1 ? spectral_gap(topology.period_product()) : spectral_gap(w);
    h5::write_attribute(group.get(), "spectral_gap", gap);
    h5::write_attribute(group.get(), "consensus_rate", consensus_rate(topology));
  });
}

void Recorder::write_schedule(std::span<const std::int64_t> comm_steps, std::span<const std::int32_t> comm_rounds,
                              std::span<const std::int64_t> merge_steps, const std::string& description) {
  Impl& m = *impl_;
  on_root(m.comm, [&] {
    if (comm_steps.size() != comm_rounds.size())
      throw std::invalid_argument("recorder: comm_steps and comm_rounds differ in length");
    h5::Id group = h5::create_group(m.file.get(), "schedule");
    h5::write_dataset<std::int64_t>(group.get(), "comm_step", {comm_steps.size()}, comm_steps);
    h5::write_dataset<std::int32_t>(group.get(), "comm_rounds", {comm_rounds.size()}, comm_rounds);
    h5::write_dataset<std::int64_t>(group.get(), "merge_step", {merge_steps.size()}, merge_steps);
    h5::write_attribute(group.get(), "description", description);
  });
}

void Recorder::record_step(std::int64_t step, double lr, std::span<const float> local_loss, std::uint64_t bytes_sent,
                           double wall_seconds) {
  Impl& m = *impl_;
  if (static_cast<int>(local_loss.size()) != m.placement.count(m.comm.rank()))
    throw std::invalid_argument("recorder: " + std::to_string(local_loss.size()) + " losses for " +
                                std::to_string(m.placement.count(m.comm.rank())) + " local nodes");
  m.steps.push_back(step);
  m.lrs.push_back(lr);
  m.bytes.push_back(bytes_sent);
  m.walls.push_back(wall_seconds);
  m.losses.insert(m.losses.end(), local_loss.begin(), local_loss.end());
  ++m.position.steps;
}

void Recorder::record_eval(const EvalRecord& eval) {
  Impl& m = *impl_;
  const auto local = static_cast<std::size_t>(m.placement.count(m.comm.rank()));
  if (eval.local_loss.size() != local || eval.local_accuracy.size() != local || eval.distance_to_mean.size() != local)
    throw std::invalid_argument("recorder: eval spans must hold this rank's " + std::to_string(local) + " nodes");
  // Gathers are collective, so every rank takes part before rank 0 writes.
  const auto loss = m.comm.gatherv(eval.local_loss, 0);
  const auto accuracy = m.comm.gatherv(eval.local_accuracy, 0);
  const auto distance = m.comm.gatherv(eval.distance_to_mean, 0);
  const std::vector<float> step_losses = m.gather_losses();
  on_root(m.comm, [&] {
    m.append_steps(step_losses);
    h5::append_rows<std::int64_t>(m.eval_step.get(), std::span<const std::int64_t>(&eval.step, 1), 1);
    h5::append_rows<double>(m.merged_loss.get(), std::span<const double>(&eval.merged_loss, 1), 1);
    h5::append_rows<double>(m.merged_accuracy.get(), std::span<const double>(&eval.merged_accuracy, 1), 1);
    h5::append_rows<double>(m.local_loss.get(), loss, 1);
    h5::append_rows<double>(m.local_accuracy.get(), accuracy, 1);
    h5::append_rows<double>(m.consensus_distance.get(), std::span<const double>(&eval.consensus_distance, 1), 1);
    h5::append_rows<double>(m.distance_to_mean.get(), distance, 1);
    double local_mean = 0;
    for (double a : accuracy) local_mean += a;
    const double gap = eval.merged_accuracy - local_mean / static_cast<double>(accuracy.size());
    h5::append_rows<double>(m.mergeability_gap.get(), std::span<const double>(&gap, 1), 1);
    m.write_file(false);
  });
  m.clear_steps();
  ++m.position.evals;
}

void Recorder::record_landscape(std::int64_t step, const Eigen::VectorXd& alphas, const LandscapeProbe& probe) {
  Impl& m = *impl_;
  // Interpolation rows are spread over the ranks: gather them in node order (row-major P x A).
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMajor loss_rows = probe.interp_loss, acc_rows = probe.interp_acc;
  const auto loss = m.comm.gatherv(std::span<const double>(loss_rows.data(), static_cast<std::size_t>(loss_rows.size())), 0);
  const auto acc = m.comm.gatherv(std::span<const double>(acc_rows.data(), static_cast<std::size_t>(acc_rows.size())), 0);
  const auto barrier = m.comm.gatherv(std::span<const double>(probe.barrier), 0);
  std::vector<std::int64_t> mine(probe.local_nodes.begin(), probe.local_nodes.end());
  const auto nodes = m.comm.gatherv(std::span<const std::int64_t>(mine), 0);
  on_root(m.comm, [&] {
    const auto probed = static_cast<hsize_t>(nodes.size());
    const auto points = static_cast<hsize_t>(alphas.size());
    const auto grid = static_cast<hsize_t>(probe.axis.size());
    const auto n = static_cast<hsize_t>(m.nodes());
    if (!m.landscape_created) {
      h5::Id group = h5::create_group(m.file.get(), "landscape");
      h5::write_dataset<double>(group.get(), "alpha", {points}, std::span<const double>(alphas.data(), points));
      h5::write_dataset<std::int64_t>(group.get(), "interp_nodes", {probed}, nodes);
      h5::write_dataset<double>(group.get(), "plane_axis", {grid}, std::span<const double>(probe.axis.data(), grid));
      h5::write_attribute(group.get(), "plane", probe.plane.empty() ? std::string("none") : probe.plane);
      m.landscape_step = h5::create_extendible<std::int64_t>(group.get(), "step", {}, 16);
      // Datasets of a part that is switched off (no probed nodes, no grid) are not created at all.
      if (probed > 0 && points > 0) {
        m.interp_loss = h5::create_extendible<double>(group.get(), "interp_loss", {probed, points}, 4);
        m.interp_acc = h5::create_extendible<double>(group.get(), "interp_acc", {probed, points}, 4);
        m.barrier = h5::create_extendible<double>(group.get(), "barrier", {probed}, 16);
      }
      if (grid > 0) {
        m.plane_scale = h5::create_extendible<double>(group.get(), "plane_scale", {2}, 16);
        m.plane_loss = h5::create_extendible<double>(group.get(), "plane_loss", {grid, grid}, 4);
        m.plane_acc = h5::create_extendible<double>(group.get(), "plane_acc", {grid, grid}, 4);
        m.plane_nodes = h5::create_extendible<double>(group.get(), "plane_nodes", {n, 2}, 4);
      }
      m.landscape_created = true;
    }
    h5::append_rows<std::int64_t>(m.landscape_step.get(), std::span<const std::int64_t>(&step, 1), 1);
    if (probed > 0 && points > 0) {
      h5::append_rows<double>(m.interp_loss.get(), loss, 1);
      h5::append_rows<double>(m.interp_acc.get(), acc, 1);
      h5::append_rows<double>(m.barrier.get(), barrier, 1);
    }
    if (grid > 0) {
      h5::append_rows<double>(m.plane_scale.get(), std::span<const double>(probe.scale.data(), 2), 1);
      const RowMajor plane_loss = probe.plane_loss, plane_acc = probe.plane_acc, coords = probe.node_coords;
      h5::append_rows<double>(m.plane_loss.get(), std::span<const double>(plane_loss.data(), grid * grid), 1);
      h5::append_rows<double>(m.plane_acc.get(), std::span<const double>(plane_acc.data(), grid * grid), 1);
      h5::append_rows<double>(m.plane_nodes.get(), std::span<const double>(coords.data(), n * 2), 1);
    }
    m.write_file(false);
  });
  ++m.position.landscapes;
}

void Recorder::finish(std::span<const float> merged_params) {
  Impl& m = *impl_;
  const std::vector<float> step_losses = m.gather_losses();
  on_root(m.comm, [&] {
    m.append_steps(step_losses);
    h5::Id group = h5::create_group(m.file.get(), "final");
    h5::write_dataset<float>(group.get(), "merged_params", {merged_params.size()}, merged_params);
    h5::write_attribute(m.file.get(), "finished_utc", utc_now());
    h5::write_attribute(m.file.get(), "finished", std::int64_t{1});
    m.write_file(true);
    m.train_step.close();
    m.train_lr.close();
    m.train_loss.close();
    m.train_bytes.close();
    m.train_wall.close();
    m.eval_step.close();
    m.merged_loss.close();
    m.merged_accuracy.close();
    m.local_loss.close();
    m.local_accuracy.close();
    m.consensus_distance.close();
    m.distance_to_mean.close();
    m.mergeability_gap.close();
    for (h5::Id* id : {&m.landscape_step, &m.interp_loss, &m.interp_acc, &m.barrier, &m.plane_scale, &m.plane_loss,
                       &m.plane_acc, &m.plane_nodes})
      id->close();
    m.extra.clear();
    m.file.close();
  });
  m.clear_steps();
}

namespace {

/// The group /name, created on first use (or opened, in a resumed file) and kept open in `open`.
hid_t extra_group(std::map<std::string, h5::Id>& open, hid_t file, const std::string& name) {
  auto it = open.find(name);
  if (it == open.end())
    it = open.emplace(name, h5::exists(file, name) ? h5::open_group(file, name) : h5::create_group(file, name)).first;
  return it->second.get();
}

template <class T>
void append_extra(std::map<std::string, h5::Id>& open, hid_t file, const std::string& group, const std::string& name,
                  std::span<const T> values) {
  const std::string path = group + "/" + name;
  auto it = open.find(path);
  if (it == open.end()) {
    const hid_t parent = extra_group(open, file, group);
    it = open.emplace(path, h5::exists(parent, name) ? h5::open_dataset(parent, name)
                                                     : h5::create_extendible<T>(parent, name, {}, 1024)).first;
  }
  if (!values.empty()) h5::append_rows<T>(it->second.get(), values, values.size());
}

}  // namespace

void Recorder::cut_series(const std::string& group, const std::string& name, std::int64_t rows) {
  Impl& m = *impl_;
  on_root<input_error>(m.comm, [&] {
    const hid_t file = m.file.get();
    const std::string path = group + "/" + name;
    if (!h5::exists(file, group) || !h5::exists(extra_group(m.extra, file, group), name)) {
      if (rows == 0) return;
      throw input_error("resume: '" + m.path + "' has no /" + path + ", the checkpoint expects " +
                        std::to_string(rows) + " rows");
    }
    auto it = m.extra.find(path);
    if (it == m.extra.end()) it = m.extra.emplace(path, h5::open_dataset(extra_group(m.extra, file, group), name)).first;
    const auto held = static_cast<std::int64_t>(h5::shape(it->second.get()).at(0));
    if (held < rows)
      throw input_error("resume: '" + m.path + "' holds " + std::to_string(held) + " rows of /" + path +
                        ", the checkpoint expects at least " + std::to_string(rows));
    h5::set_rows(it->second.get(), static_cast<hsize_t>(rows));
  });
}

void Recorder::append_series(const std::string& group, const std::string& name, std::span<const double> values) {
  Impl& m = *impl_;
  on_root(m.comm, [&] { append_extra<double>(m.extra, m.file.get(), group, name, values); });
}

void Recorder::append_series(const std::string& group, const std::string& name,
                             std::span<const std::int64_t> values) {
  Impl& m = *impl_;
  on_root(m.comm, [&] { append_extra<std::int64_t>(m.extra, m.file.get(), group, name, values); });
}

void Recorder::write_group_attribute(const std::string& group, const std::string& name, const std::string& value) {
  Impl& m = *impl_;
  on_root(m.comm, [&] { h5::write_attribute(extra_group(m.extra, m.file.get(), group), name, value); });
}

void Recorder::write_group_attribute(const std::string& group, const std::string& name, double value) {
  Impl& m = *impl_;
  on_root(m.comm, [&] { h5::write_attribute(extra_group(m.extra, m.file.get(), group), name, value); });
}

}  // namespace decent
