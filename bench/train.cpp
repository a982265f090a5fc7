// Whole training runs through decent::train (the loop decent-train drives), for two targets:
//
//   mpiexec -n 2 decent-bench-train record [--repeats 5] [--steps 600] [--nodes 16] [--hidden 128]
//     P6: the default experiment of docs/config.md (16 nodes, MLP 784-128-10, Dirichlet(0.1), D-SGD on a
//     ring, 600 steps, eval every 100 steps on 2000 test samples, final merge) four ways, interleaved:
//       recorded    HDF5 recorder (topology, schedule, steps, evals) and the default probes (after the last step)
//       recorder    the HDF5 recorder, no probes
//       evals       no recorder, no probes, the same evals
//       off         no recorder, no probes, one eval after the last step
//     Time: from creating the recorder to train() returning (the recorder's finish() included).
//
//   mpiexec -n 2 decent-bench-train scale --nodes N [--steps S] [--hidden 256] [--batch 32]
//     P7: N nodes (MLP 784-256-10, d = 203530; Fashion-MNIST IID; D-SGD on a ring; no recorder) for S steps;
//     every step's duration (progress callback after every step), time per node-step = median step / N, and
//     this process's peak RSS during training (VmHWM, reset through /proc/self/clear_refs after the data is
//     loaded) against the state it must hold: parameters and momentum of its nodes (no error feedback in
//     D-SGD) plus the data. Run one N per process.
//
// One JSON line per case on rank 0 (see measure.hpp). Needs Fashion-MNIST (Debian: dataset-fashion-mnist).
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "decent/algo/train.hpp"
#include "decent/data/idx.hpp"
#include "decent/data/partition.hpp"
#include "decent/io/recorder.hpp"
#include "decent/model/factory.hpp"
#include "decent/mpi/environment.hpp"
#include "measure.hpp"

using namespace decent;
using bench::Line;

namespace {

const std::string data_dir = "/usr/share/datasets/fashion-mnist";

/// `count` samples of `data` at evenly spaced positions.
Dataset spread_subset(const Dataset& data, Eigen::Index count, const std::string& name) {
  std::vector<Eigen::Index> indices;
  for (Eigen::Index i = 0; i < std::min(count, data.size()); ++i) indices.push_back(i * data.size() / count);
  return subset(data, indices, name);
}

double dataset_bytes(const Dataset& d) {
  return static_cast<double>(d.features.size()) * sizeof(float) + static_cast<double>(d.labels.size()) * sizeof(int);
}

struct Run {
  int nodes = 16;
  std::int64_t steps = 600;
  int hidden = 128;
  Eigen::Index batch = 32;
  std::string partition = "dirichlet";
  std::string topology = "ring";
};

void record(const Comm& world, bench::Options& options) {
  Run run;
  const int repeats = static_cast<int>(options.number("repeats", 5));
  run.steps = static_cast<std::int64_t>(options.number("steps", 600));
  run.nodes = static_cast<int>(options.number("nodes", 16));
  run.hidden = static_cast<int>(options.number("hidden", 128));
  options.check_all_used();
  const Placement placement(run.nodes, world.size());
  const Dataset train_data = load_fashion_mnist(data_dir, true);
  const Dataset test = spread_subset(load_fashion_mnist(data_dir, false), 2000, "eval subset");
  const Dataset probe = spread_subset(test, 200, "probe subset");
  const Partition partition = partition_dirichlet(train_data.labels, train_data.classes, run.nodes, 0.1,
                                                  train_data.size() / run.nodes, 1);
  const std::vector<std::vector<Eigen::Index>> local(partition.begin() + placement.first(world.rank()),
                                                     partition.begin() + placement.first(world.rank()) +
                                                         placement.count(world.rank()));
  const auto model = make_model("mlp", train_data.dim(), train_data.classes, {run.hidden}, 0.0f);
  const auto topology = make_topology(run.topology, run.nodes);
  ScheduleOptions schedule_options;
  schedule_options.steps = run.steps;
  const Schedule schedule(schedule_options);
  const SchedulePlan plan = schedule.plan();
  SgdOptions sgd_options;
  sgd_options.momentum = 0.9f;
  const Sgd sgd(sgd_options);
  const LrSchedule lr = make_lr_schedule("constant", 0.05f, run.steps);

  std::int64_t pid = ::getpid();
  world.broadcast(std::span<std::int64_t>(&pid, 1), 0);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("decent_bench_record_" + std::to_string(pid) + ".h5")).string();

  enum class Mode { recorded, recorder, evals, off };
  const auto mode_name = [](Mode m) {
    return m == Mode::recorded ? "recorded" : m == Mode::recorder ? "recorder" : m == Mode::evals ? "evals" : "off";
  };
  auto once = [&](Mode mode) {
    TrainOptions o;
    o.batch = run.batch;
    o.eval_every = mode == Mode::off ? run.steps : 100;
    o.progress_every = 0;
    o.landscape_every = mode == Mode::recorded ? 0 : -1;
    o.landscape.probe_nodes = spread_nodes(run.nodes, 8);
    o.probe_data = &probe;
    world.barrier();
    const double start = MPI_Wtime();
    double accuracy = 0;
    if (mode == Mode::recorded || mode == Mode::recorder) {
      Recorder recorder(world, placement, path, {"bench", "decent-bench-train record", 1});
      recorder.write_topology(*topology);
      std::vector<std::int32_t> rounds(plan.comm_rounds.begin(), plan.comm_rounds.end());
      recorder.write_schedule(plan.comm_steps, rounds, plan.merge_steps, schedule.describe());
      accuracy = train(world, placement, o, *model, train_data, local, test, *topology, schedule, sgd, lr, &recorder)
                     .merged_accuracy;
    } else {
      accuracy = train(world, placement, o, *model, train_data, local, test, *topology, schedule, sgd, lr, nullptr)
                     .merged_accuracy;
    }
    world.barrier();
    const double seconds = MPI_Wtime() - start;
    if (world.rank() == 0)
      std::fprintf(stderr, "P6 %s: %.3f s (merged accuracy %.4f)\n", mode_name(mode), seconds, accuracy);
    return seconds;
  };
  const Mode modes[] = {Mode::recorded, Mode::recorder, Mode::evals, Mode::off};
  std::vector<std::vector<double>> seconds(4);
  for (int r = 0; r < repeats; ++r)  // interleaved
    for (int m = 0; m < 4; ++m) seconds[static_cast<std::size_t>(m)].push_back(once(modes[m]));
  if (world.rank() != 0) return;
  std::filesystem::remove(path);
  const auto describe = [&](Line& line) {
    line.field("nodes", run.nodes).field("steps", static_cast<double>(run.steps)).field("hidden", run.hidden)
        .field("ranks", world.size());
  };
  for (int m = 0; m < 4; ++m) {
    Line line("P6", mode_name(modes[m]));
    describe(line);
    line.samples("s", seconds[static_cast<std::size_t>(m)]).print();
  }
  const double recorded = bench::median(seconds[0]), recorder = bench::median(seconds[1]);
  const double evals = bench::median(seconds[2]), off = bench::median(seconds[3]);
  std::fprintf(stderr, "P6 recorded/evals = %.4f (recorder alone %.4f, probes %.4f); recorded/off = %.4f, evals/off = %.4f\n",
               recorded / evals, recorder / evals, recorded / recorder, recorded / off, evals / off);
}

void scale(const Comm& world, bench::Options& options) {
  Run run;
  run.nodes = static_cast<int>(options.number("nodes", 16));
  run.steps = static_cast<std::int64_t>(options.number("steps", std::max(8, 6400 / run.nodes)));
  run.hidden = static_cast<int>(options.number("hidden", 256));
  run.batch = static_cast<Eigen::Index>(options.number("batch", 32));
  options.check_all_used();
  const double rss_start = bench::peak_rss_bytes();
  const Placement placement(run.nodes, world.size());
  const Dataset train_data = load_fashion_mnist(data_dir, true);
  const Dataset test = spread_subset(load_fashion_mnist(data_dir, false), 200, "eval subset");
  const Partition partition = partition_iid(train_data.size(), run.nodes, 1);
  const std::vector<std::vector<Eigen::Index>> local(partition.begin() + placement.first(world.rank()),
                                                     partition.begin() + placement.first(world.rank()) +
                                                         placement.count(world.rank()));
  const auto model = make_model("mlp", train_data.dim(), train_data.classes, {run.hidden}, 0.0f);
  const auto topology = make_topology(run.topology, run.nodes);
  ScheduleOptions schedule_options;
  schedule_options.steps = run.steps;
  const Schedule schedule(schedule_options);
  SgdOptions sgd_options;
  sgd_options.momentum = 0.9f;
  const Sgd sgd(sgd_options);
  const LrSchedule lr = make_lr_schedule("constant", 0.05f, run.steps);
  TrainOptions o;
  o.batch = run.batch;
  o.eval_every = run.steps;
  o.progress_every = 1;
  o.landscape_every = -1;
  std::vector<double> at;  // seconds since the start after every step
  const double rss_data = bench::peak_rss_bytes();
  // Loading the data has a transient peak of its own (the gzip stream and the bytes beside the floats);
  // from here VmHWM measures training alone.
  const bool reset = bench::reset_peak_rss();
  const double rss_before_train = bench::current_rss_bytes();
  const TrainResult result = train(world, placement, o, *model, train_data, local, test, *topology, schedule, sgd, lr,
                                   nullptr, [&](const TrainProgress& p) { at.push_back(p.seconds); });
  std::vector<double> step_seconds;
  for (std::size_t s = 1; s + 1 < at.size(); ++s) step_seconds.push_back(at[s] - at[s - 1]);  // not the first or last

  const int count = placement.count(world.rank());
  const double d = static_cast<double>(model->parameter_count());
  const double state = 2.0 * d * sizeof(float) * count;  // parameters + momentum of this rank's nodes
  const double data = dataset_bytes(train_data) + dataset_bytes(test);
  const double peak = bench::peak_rss_bytes();
  // The rank with the most nodes is the one that bounds memory.
  const double peak_max = world.allreduce(peak, ReduceOp::max);
  const double before_max = world.allreduce(rss_before_train, ReduceOp::max);
  const double state_max = world.allreduce(state, ReduceOp::max);
  if (world.rank() != 0) return;
  Line("P7", "node_step")
      .field("nodes", run.nodes).field("ranks", world.size()).field("d", d).field("batch", static_cast<double>(run.batch))
      .field("steps", static_cast<double>(run.steps)).field("merged_accuracy", result.merged_accuracy)
      .field("median_step_s", bench::median(step_seconds))
      .field("peak_rss_bytes", peak_max).field("state_bytes", state_max).field("data_bytes", data)
      .field("rss_at_start_bytes", rss_start).field("peak_rss_loading_bytes", rss_data)
      .field("rss_before_train_bytes", before_max).field("peak_is_training_only", reset ? 1 : 0)
      .samples("s", [&] {
        std::vector<double> per_node;
        for (double s : step_seconds) per_node.push_back(s / run.nodes);
        return per_node;
      }())
      .print();
  std::fprintf(stderr, "P7 %d nodes: %.3f ms per step, %.1f us per node-step; peak RSS in training %.0f MB (%.0f MB at its "
               "start, %.0f MB at process start), state %.0f MB + data %.0f MB (peak / (state + data) = %.2f)\n",
               run.nodes, 1e3 * bench::median(step_seconds), 1e6 * bench::median(step_seconds) / run.nodes, peak_max / 1e6,
               before_max / 1e6, rss_start / 1e6, state_max / 1e6, data / 1e6, peak_max / (state_max + data));
}

}  // namespace

int main(int argc, char** argv) {
  Environment environment(argc, argv);
  const Comm world = Comm::world();
  try {
    const std::string what = argc > 1 ? argv[1] : "";
    bench::Options options(argc, argv, 2);
    if (what == "record") record(world, options);
    else if (what == "scale") scale(world, options);
    else throw std::invalid_argument("usage: decent-bench-train record|scale [--key value ...]");
  } catch (const std::exception& e) {
    if (world.rank() == 0) std::cerr << "decent-bench-train: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
