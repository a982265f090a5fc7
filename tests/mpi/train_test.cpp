// The training loop on real ranks: algorithms that must agree do, and the recorded numbers do not depend
// on the rank count.
#include "support/index_range.hpp"
#include "support/mpi_files.hpp"
#include "decent/algo/train.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <functional>
#include <limits>

#include "decent/data/partition.hpp"
#include "decent/data/synthetic.hpp"
#include "decent/data/dataset.hpp"
#include "decent/io/checkpoint.hpp"
#include "decent/io/recorder.hpp"
#include "decent/model/factory.hpp"

using namespace decent;

namespace {

/// One Gaussian mixture split into train and test (the same class means on both sides).
struct Problem {
  Dataset all = gaussian_mixture(4, 8, 800, 2.5, 3);
  Dataset train = subset(all, test::index_range(0, 600), "train");
  Dataset test = subset(all, test::index_range(600, 200), "test");
  int nodes = 6;
  Partition shards = partition_dirichlet(train.labels, 4, 6, 0.5, 80, 7);
};

struct Run {
  std::string topology = "ring";
  Algorithm algorithm = Algorithm::dsgd;
  std::string model = "mlp";
  std::int64_t steps = 40;
  bool final_merge = true;
  float momentum = 0.9f;
  std::string compressor = "none";
  ErrorFeedback feedback = ErrorFeedback::none;
  float econtrol_eta = 0.1f;
  float choco_gamma = 0.5f;
  std::int64_t compress_warmup = 0;
};

TrainOptions options_of(const Run& r) {
  TrainOptions options;
  options.algorithm = r.algorithm;
  options.batch = 16;
  options.eval_every = 10;
  options.seed = 11;
  options.compressor = r.compressor;
  options.feedback.rule = r.feedback;
  options.feedback.econtrol_eta = r.econtrol_eta;
  options.choco_gamma = r.choco_gamma;
  options.compress_warmup = r.compress_warmup;
  return options;
}

ScheduleOptions schedule_of(const Run& r) {
  ScheduleOptions so;
  so.steps = r.steps;
  so.final_merge = r.final_merge && r.algorithm != Algorithm::server;
  so.rounds = r.algorithm == Algorithm::server ? 0 : 1;
  return so;
}

TrainResult run(const Comm& comm, const Problem& p, const Run& r, Recorder* recorder = nullptr,
                const std::function<void(TrainOptions&)>& adjust = {},
                const std::function<void(const TrainProgress&)>& progress = {}) {
  const Placement placement(p.nodes, comm.size());
  const std::vector<std::vector<Eigen::Index>> local(p.shards.begin() + placement.first(comm.rank()),
                                                     p.shards.begin() + placement.first(comm.rank()) +
                                                         placement.count(comm.rank()));
  const auto model = make_model(r.model, 8, 4, r.model == "mlp" ? std::vector<int>{16} : std::vector<int>{}, 0.0f);
  const auto topology = make_topology(r.topology, p.nodes);
  const Schedule schedule(schedule_of(r));
  SgdOptions sgd_options;
  sgd_options.momentum = r.momentum;
  sgd_options.weight_decay = 1e-3f;
  TrainOptions options = options_of(r);
  if (adjust) adjust(options);
  return train(comm, placement, options, *model, p.train, local, p.test, *topology, schedule, Sgd(sgd_options),
               make_lr_schedule("constant", 0.1f, r.steps), recorder, progress);
}

std::string scratch(const Comm& comm, const std::string& name) { return test::scratch_h5(comm, "train", name); }

using test::read_doubles;

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1.0, std::abs(b[i])));
  return worst;
}

}  // namespace

TEST_CASE("a CNN with dropout trains to the same merged model on any number of ranks", "[train][layers]") {
  const Comm world = Comm::world(), self = Comm::self();
  // 6 x 6 one-channel "images" of a Gaussian mixture.
  const Dataset all = gaussian_mixture(4, 36, 700, 5.0, 5);
  Dataset train_set = subset(all, test::index_range(0, 600), "train"), test_set = subset(all, test::index_range(600, 100), "test");
  train_set.sample_shape = test_set.sample_shape = {1, 6, 6};
  const int nodes = 4;
  const Partition shards = partition_iid(600, nodes, 3);
  ModelOptions o;
  o.name = "layers";
  o.layers = "conv(4,3) relu maxpool(2) flatten dense(8) relu dropout(0.25) dense(4)";
  o.input = train_set.shape();
  o.classes = 4;
  const auto model = make_model(o);
  REQUIRE(model->stochastic());
  const auto topology = make_topology("ring", nodes);
  ScheduleOptions so;
  so.steps = 60;
  TrainOptions options;
  options.batch = 16;
  options.eval_every = 10;
  options.seed = 4;
  const auto run_on = [&](const Comm& comm) {
    const Placement placement(nodes, comm.size());
    const std::vector<std::vector<Eigen::Index>> local(shards.begin() + placement.first(comm.rank()),
                                                       shards.begin() + placement.first(comm.rank()) + placement.count(comm.rank()));
    return train(comm, placement, options, *model, train_set, local, test_set, *topology, Schedule(so), Sgd({0.9f}),
                 make_lr_schedule("constant", 0.05f, so.steps), nullptr);
  };
  const TrainResult distributed = run_on(world), single = run_on(self);
  const double scale = std::max(1.0f, single.merged_params.cwiseAbs().maxCoeff());
  // The mean is rounded from double to float: the rank counts agree to float rounding.
  CHECK((distributed.merged_params - single.merged_params).cwiseAbs().maxCoeff() <= 2.5e-7 * scale);
  CHECK(distributed.merged_accuracy == Approx(single.merged_accuracy).margin(1e-9));
  CHECK(single.merged_accuracy > 0.5);  // it learned something (4 classes)
}

TEST_CASE("D-SGD on the complete graph equals server-based SGD", "[train]") {
  // W = J averages the updated models exactly; SGD with momentum and weight decay is linear in the
  // gradient, so the average of the nodes' steps is the step with the average gradient.
  const Comm world = Comm::world();
  const Problem p;
  Run dsgd;
  dsgd.topology = "complete";
  Run server = dsgd;
  server.algorithm = Algorithm::server;
  const TrainResult a = run(world, p, dsgd), b = run(world, p, server);
  REQUIRE(a.merged_params.size() == b.merged_params.size());
  const double scale = b.merged_params.cwiseAbs().maxCoeff();
  CHECK((a.merged_params - b.merged_params).cwiseAbs().maxCoeff() <= 1e-5 * scale);
  CHECK(a.merged_accuracy == Approx(b.merged_accuracy).margin(0.011));
  CHECK(b.consensus_distance == 0.0);  // server nodes never drift apart
  // A sparse graph does not reproduce it: the check above can fail.
  Run ring = dsgd;
  ring.topology = "ring";
  ring.final_merge = false;
  const TrainResult c = run(world, p, ring);
  CHECK((c.merged_params - b.merged_params).cwiseAbs().maxCoeff() > 1e-3 * scale);
}

TEST_CASE("a run records the same numbers on any number of ranks", "[train]") {
  const Comm world = Comm::world();
  const Problem p;
  for (const char* topology : {"ring", "random:0.7", "base:1"}) {
    INFO(topology);
    Run r;
    r.topology = topology;
    r.final_merge = std::string(topology) != "base:1";
    const std::string distributed = scratch(world, std::string("all_") + topology);
    const std::string single = scratch(world, std::string("one_") + topology);
    {
      Recorder recorder(world, Placement(p.nodes, world.size()), distributed, {"", "", 11});
      run(world, p, r, &recorder);
    }
    if (world.rank() == 0) {
      const Comm self = Comm::self();
      Recorder recorder(self, Placement(p.nodes, 1), single, {"", "", 11});
      run(self, p, r, &recorder);
    }
    world.barrier();
    if (world.rank() == 0) {
      // Gossip is bitwise identical across rank counts; evals sum test samples in a different order.
      // Each node's own numbers are bitwise equal; those that combine nodes (means, distances to the mean)
      // sum in another order.
      for (const char* name : {"/train/loss", "/train/bytes_sent", "/eval/local_loss", "/eval/local_acc"}) {
        INFO(name);
        CHECK(max_relative_difference(read_doubles(distributed, name), read_doubles(single, name)) == 0.0);
      }
      for (const char* name : {"/eval/merged_loss", "/eval/merged_acc", "/eval/consensus_distance",
                               "/eval/distance_to_mean"}) {
        INFO(name);
        CHECK(max_relative_difference(read_doubles(distributed, name), read_doubles(single, name)) < 1e-6);
      }
      // The mean is rounded from double to float: the rank counts agree to 2 float ulps.
      CHECK(max_relative_difference(read_doubles(distributed, "/final/merged_params"),
                                    read_doubles(single, "/final/merged_params")) < 2.5e-7);
      std::filesystem::remove(distributed);
      std::filesystem::remove(single);
    }
  }
}

TEST_CASE("training reduces the loss, and a diverging run stops naming the step and node", "[train]") {
  const Comm world = Comm::world();
  const Problem p;
  Run r;
  r.steps = 60;
  const TrainResult trained = run(world, p, r);
  CHECK(trained.merged_accuracy > 0.6);  // 4 classes: chance is 0.25
  // Least squares with a step far above 2/L grows geometrically until the loss overflows to inf.
  const Dataset regression = teacher_student(8, 300, 0.1, 5);
  const Partition shards = partition_iid(300, p.nodes, 1);
  const Placement placement(p.nodes, world.size());
  const std::vector<std::vector<Eigen::Index>> local(shards.begin() + placement.first(world.rank()),
                                                     shards.begin() + placement.first(world.rank()) +
                                                         placement.count(world.rank()));
  const auto model = make_model("linear", 8, 1, {}, 0.0f);
  ScheduleOptions so;
  so.steps = 200;
  TrainOptions options;
  options.batch = 16;
  options.eval_every = 100;
  CHECK_THROWS_WITH(train(world, placement, options, *model, regression, local, regression,
                          *make_topology("ring", p.nodes), Schedule(so), Sgd(SgdOptions{}),
                          make_lr_schedule("constant", 50.0f, 200), nullptr),
                    Catch::Contains("training diverged") && Catch::Contains("at step"));
}

TEST_CASE("EControl with eta = 0 trains exactly as EF21", "[train][compress]") {
  const Comm world = Comm::world();
  const Problem p;
  Run ef21;
  ef21.algorithm = Algorithm::server;
  ef21.compressor = "topk:0.05";
  ef21.feedback = ErrorFeedback::ef21;
  Run econtrol = ef21;
  econtrol.feedback = ErrorFeedback::econtrol;
  econtrol.econtrol_eta = 0;
  const TrainResult a = run(world, p, ef21), b = run(world, p, econtrol);
  CHECK(a.merged_params == b.merged_params);
  CHECK(a.bytes == b.bytes);
  // eta > 0 changes the run: the equality above is not vacuous.
  econtrol.econtrol_eta = 0.5f;
  CHECK(run(world, p, econtrol).merged_params != a.merged_params);
}

TEST_CASE("CHOCO with the identity compressor and gamma = 1 is D-SGD", "[train][compress]") {
  const Comm world = Comm::world();
  const Problem p;
  for (const char* topology : {"ring", "one-peer-exponential", "random:0.7"}) {
    INFO(topology);
    Run dsgd;
    dsgd.topology = topology;
    dsgd.final_merge = false;
    Run choco = dsgd;
    choco.algorithm = Algorithm::choco;
    choco.choco_gamma = 1;
    const TrainResult a = run(world, p, dsgd), b = run(world, p, choco);
    const double scale = a.merged_params.cwiseAbs().maxCoeff();
    CHECK((a.merged_params - b.merged_params).cwiseAbs().maxCoeff() <= 1e-5 * scale);
    CHECK(b.consensus_distance == Approx(a.consensus_distance).epsilon(1e-3));
    // The same run with top-k and a smaller step is a different run that still learns.
    choco.compressor = "topk:0.2";
    choco.choco_gamma = 0.3f;
    const TrainResult c = run(world, p, choco);
    CHECK((c.merged_params - a.merged_params).cwiseAbs().maxCoeff() > 1e-3 * scale);
    CHECK(c.merged_accuracy > 0.6);
    // On a static graph a message goes to the neighbours only; a time-varying graph's messages go to every
    // node that reads the sender in some round (docs/compression.md), so they may cost more than D-SGD's.
    if (std::string(topology) == "ring") CHECK(c.bytes < a.bytes / 2);
  }
}

TEST_CASE("compressed runs are bitwise identical on 1 rank and on all ranks, and send what was planned",
          "[train][compress]") {
  const Comm world = Comm::world(), self = Comm::self();
  const Problem p;
  Run choco;
  choco.algorithm = Algorithm::choco;
  choco.compressor = "randk:0.2";
  choco.compress_warmup = 5;
  choco.final_merge = false;
  Run server;
  server.algorithm = Algorithm::server;
  server.compressor = "qsgd:4";
  server.feedback = ErrorFeedback::econtrol;
  server.compress_warmup = 5;
  for (const Run& r : {choco, server}) {
    INFO(to_string(r.algorithm));
    const TrainResult all = run(world, p, r), one = run(self, p, r);
    CHECK(world.allreduce(all.merged_params == one.merged_params ? 1 : 0, ReduceOp::min) == 1);
    const auto model = make_model(r.model, 8, 4, std::vector<int>{16}, 0.0f);
    CHECK(all.bytes == planned_bytes(options_of(r), Schedule(schedule_of(r)), *make_topology(r.topology, p.nodes), *model));
  }
}

TEST_CASE("compression options that do not fit the algorithm are refused", "[train][compress]") {
  const Comm world = Comm::world();
  const Problem p;
  Run r;
  r.compressor = "topk:0.1";  // dsgd sends exact parameters
  CHECK_THROWS_WITH(run(world, p, r), Catch::Contains("compressor = topk:0.1 needs algorithm = server"));
  r.algorithm = Algorithm::choco;
  r.feedback = ErrorFeedback::ef21;
  CHECK_THROWS_WITH(run(world, p, r), Catch::Contains("error-feedback = ef21 applies to algorithm = server"));
  r.feedback = ErrorFeedback::none;
  r.choco_gamma = 1.5f;
  CHECK_THROWS_WITH(run(world, p, r), Catch::Contains("choco-gamma"));
  r.choco_gamma = 0.5f;
  r.compressor = "topk:2.0";
  CHECK_THROWS_AS(run(world, p, r), std::invalid_argument);
}

namespace {

/// Every value of an HDF5 dataset as raw bytes (for bitwise comparison), or empty if it does not exist.
std::vector<unsigned char> raw_dataset(const std::string& path, const std::string& name) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  std::vector<unsigned char> bytes;
  if (H5Lexists(file, name.substr(0, name.find('/')).c_str(), H5P_DEFAULT) > 0 &&
      H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0) {
    const hid_t d = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    const hid_t type = H5Dget_type(d);
    const hid_t space = H5Dget_space(d);
    bytes.resize(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)) * H5Tget_size(type));
    if (!bytes.empty()) H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(d);
  }
  H5Fclose(file);
  return bytes;
}

std::int64_t int_attribute(const std::string& path, const char* name) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t a = H5Aopen(file, name, H5P_DEFAULT);
  std::int64_t value = -1;
  H5Aread(a, H5T_NATIVE_INT64, &value);
  H5Aclose(a);
  H5Fclose(file);
  return value;
}

/// The recorded series a resumed run must reproduce bit for bit (wall_s is a clock, not a result).
const char* const recorded_series[] = {
    "train/step",        "train/lr",         "train/loss",        "train/bytes_sent", "eval/step",
    "eval/merged_loss",  "eval/merged_acc",  "eval/local_loss",   "eval/local_acc",   "eval/consensus_distance",
    "eval/distance_to_mean", "eval/mergeability_gap", "landscape/step", "landscape/interp_loss",
    "landscape/plane_loss", "final/merged_params"};

/// Runs `r` uninterrupted, then stopped by a flag that only rank 0 raises after step `stop_at`, then
/// resumed from its checkpoint, all recorded; checks the resumed run equals the uninterrupted one.
void check_resume(const Comm& world, const Run& r, std::int64_t stop_at, std::int64_t landscape_every = -1) {
  const Problem p;
  const Placement placement(p.nodes, world.size());
  const std::string whole = scratch(world, "whole"), parts = scratch(world, "parts"), checkpoint = parts + ".ckpt";
  const auto probes = [&](TrainOptions& o) {
    o.landscape_every = landscape_every;
    o.landscape.probe_nodes = {0, 3};
    o.landscape.grid = 3;
  };
  TrainResult expected;
  {
    Recorder recorder(world, placement, whole, {"", "", 11});
    expected = run(world, p, r, &recorder, probes);
  }
  volatile std::sig_atomic_t flag = 0;
  {
    Recorder recorder(world, placement, parts, {"", "", 11});
    const TrainResult stopped = run(
        world, p, r, &recorder,
        [&](TrainOptions& o) {
          probes(o);
          o.checkpoint_path = checkpoint;
          o.stop_flag = &flag;
          o.progress_every = 1;
        },
        [&](const TrainProgress& progress) {
          if (world.rank() == 0 && progress.step == stop_at) flag = SIGTERM;
        });
    REQUIRE(stopped.stopped);
    // The ranks agree at a multiple of 8 steps, within 16 steps of the request.
    CHECK(stopped.steps_done > stop_at);
    CHECK(stopped.steps_done <= stop_at + 16);
    CHECK(stopped.steps_done % 8 == 0);
  }
  world.barrier();  // rank 0 has closed the file
  if (world.rank() == 0) CHECK(int_attribute(parts, "finished") == 0);
  world.barrier();
  TrainResult resumed;
  {
    const CheckpointReader reader(checkpoint, p.nodes);
    const RecorderPosition at{reader.int_attribute("recorder_steps"), reader.int_attribute("recorder_evals"),
                              reader.int_attribute("recorder_landscapes")};
    CHECK(at.steps == reader.int_attribute("step"));
    Recorder recorder(world, placement, parts, at);
    resumed = run(world, p, r, &recorder, [&](TrainOptions& o) {
      probes(o);
      o.resume = &reader;
    });
  }
  CHECK_FALSE(resumed.stopped);
  CHECK(resumed.steps_done == r.steps);
  CHECK(resumed.bytes == expected.bytes);
  CHECK(resumed.gossip_rounds == expected.gossip_rounds);
  CHECK(resumed.merges == expected.merges);
  CHECK(resumed.merged_accuracy == expected.merged_accuracy);
  CHECK(resumed.merged_params == expected.merged_params);
  world.barrier();
  if (world.rank() == 0) {
    CHECK(int_attribute(parts, "finished") == 1);
    CHECK(int_attribute(parts, "resumes") == 1);
    for (const char* name : recorded_series) {
      INFO(name);
      CHECK(raw_dataset(parts, name) == raw_dataset(whole, name));
    }
    CHECK(!raw_dataset(whole, "train/loss").empty());
    std::filesystem::remove(whole);
    std::filesystem::remove(parts);
    std::filesystem::remove(checkpoint);
  }
  world.barrier();
}

}  // namespace

TEST_CASE("a run stopped by a flag on one rank and resumed from its checkpoint equals the uninterrupted run",
          "[train][checkpoint]") {
  const Comm world = Comm::world();
  SECTION("D-SGD with momentum on a ring, landscape probes") {
    check_resume(world, Run{}, 17, 10);
  }
  SECTION("D-PSGD on the time-varying one-peer exponential graph") {
    Run r;
    r.algorithm = Algorithm::dpsgd;
    r.topology = "one-peer-exponential";
    check_resume(world, r, 23);
  }
  SECTION("local SGD (merges)") {
    Run r;
    r.algorithm = Algorithm::local_sgd;
    check_resume(world, r, 9);
  }
  SECTION("CHOCO with rand-k (public copies and compressor streams)") {
    Run r;
    r.algorithm = Algorithm::choco;
    r.compressor = "randk:0.25";
    r.choco_gamma = 0.3f;
    check_resume(world, r, 12);
  }
  SECTION("server with EF21-SGDM and rand-k (feedback memory and the server's estimate)") {
    Run r;
    r.algorithm = Algorithm::server;
    r.compressor = "randk:0.25";
    r.feedback = ErrorFeedback::ef21_sgdm;
    check_resume(world, r, 5);
  }
  SECTION("server with EF and top-k after an exact warm-up") {
    Run r;
    r.algorithm = Algorithm::server;
    r.compressor = "topk:0.1";
    r.feedback = ErrorFeedback::ef;
    r.compress_warmup = 5;
    check_resume(world, r, 3);
  }
}

TEST_CASE("periodic checkpoints do not change a run, and a bad checkpoint is refused by name", "[train][checkpoint]") {
  const Comm world = Comm::world();
  const Problem p;
  const Run r;
  const std::string path = scratch(world, "periodic") + ".ckpt";
  const TrainResult plain = run(world, p, r);
  const TrainResult with = run(world, p, r, nullptr, [&](TrainOptions& o) {
    o.checkpoint_every = 7;
    o.checkpoint_path = path;
  });
  CHECK(with.merged_params == plain.merged_params);
  {
    const CheckpointReader reader(path, p.nodes);
    CHECK(reader.int_attribute("step") == 35);  // the last multiple of 7 before the last step (40)
    // Resuming from step 35 finishes exactly as the run did.
    const TrainResult resumed = run(world, p, r, nullptr, [&](TrainOptions& o) { o.resume = &reader; });
    CHECK(resumed.merged_params == plain.merged_params);
    // Another algorithm's run, or a run too short for the checkpoint's step, refuses it.
    Run other = r;
    other.algorithm = Algorithm::dpsgd;
    CHECK_THROWS_WITH(run(world, p, other, nullptr, [&](TrainOptions& o) { o.resume = &reader; }),
                      Catch::Contains("written by algorithm dsgd, not dpsgd"));
    Run shorter = r;
    shorter.steps = 30;
    CHECK_THROWS_WITH(run(world, p, shorter, nullptr, [&](TrainOptions& o) { o.resume = &reader; }),
                      Catch::Contains("its step 35 is not inside this run of 30 steps"));
  }
  CHECK_THROWS_AS(CheckpointReader(path + ".missing", p.nodes), checkpoint_error);
  CHECK_THROWS_WITH(CheckpointReader(path + ".missing", p.nodes), Catch::Contains("no such file"));
  world.barrier();
  if (world.rank() == 0) std::filesystem::remove(path);
  world.barrier();
}

TEST_CASE("a NaN in one node's parameters stops the run naming that node", "[train][checkpoint]") {
  const Comm world = Comm::world();
  const Problem p;
  const Run r;
  const std::string path = scratch(world, "nan") + ".ckpt";
  (void)run(world, p, r, nullptr, [&](TrainOptions& o) {
    o.checkpoint_every = 20;
    o.checkpoint_path = path;
  });
  world.barrier();
  if (world.rank() == 0) {  // poison node 4's parameter 3 in the checkpoint
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t d = H5Dopen2(file, "x", H5P_DEFAULT);
    const hid_t space = H5Dget_space(d);
    const hsize_t start[2] = {4, 3}, count[2] = {1, 1};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    const hid_t memory = H5Screate_simple(2, count, nullptr);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    REQUIRE(H5Dwrite(d, H5T_NATIVE_FLOAT, memory, space, H5P_DEFAULT, &nan) >= 0);
    H5Sclose(memory);
    H5Sclose(space);
    H5Dclose(d);
    H5Fclose(file);
  }
  world.barrier();
  {
    const CheckpointReader reader(path, p.nodes);
    CHECK_THROWS_WITH(run(world, p, r, nullptr, [&](TrainOptions& o) { o.resume = &reader; }),
                      Catch::Contains("node 4") && Catch::Contains("at step 20"));
  }
  world.barrier();
  if (world.rank() == 0) std::filesystem::remove(path);
  world.barrier();
}
