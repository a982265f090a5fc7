// The training loop on real ranks: algorithms that must agree do, and the recorded numbers do not depend
// on the rank count.
#include "decent/algo/train.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "decent/data/partition.hpp"
#include "decent/data/synthetic.hpp"
#include "decent/data/dataset.hpp"
#include "decent/io/recorder.hpp"
#include "decent/model/factory.hpp"

using namespace decent;

namespace {

std::vector<Eigen::Index> range(Eigen::Index first, Eigen::Index count) {
  std::vector<Eigen::Index> r(static_cast<std::size_t>(count));
  for (Eigen::Index i = 0; i < count; ++i) r[static_cast<std::size_t>(i)] = first + i;
  return r;
}

/// One Gaussian mixture split into train and test (the same class means on both sides).
struct Problem {
  Dataset all = gaussian_mixture(4, 8, 800, 2.5, 3);
  Dataset train = subset(all, range(0, 600), "train");
  Dataset test = subset(all, range(600, 200), "test");
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

TrainResult run(const Comm& comm, const Problem& p, const Run& r, Recorder* recorder = nullptr) {
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
  const TrainOptions options = options_of(r);
  return train(comm, placement, options, *model, p.train, local, p.test, *topology, schedule, Sgd(sgd_options),
               make_lr_schedule("constant", 0.1f, r.steps), recorder);
}

std::string scratch(const Comm& comm, const std::string& name) {
  std::int64_t pid = ::getpid();
  comm.broadcast(std::span<std::int64_t>(&pid, 1), 0);
  return (std::filesystem::temp_directory_path() / ("decent_train_" + std::to_string(pid) + "_" + name + ".h5")).string();
}

std::vector<double> read_doubles(const std::string& path, const char* name) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  const hid_t space = H5Dget_space(d);
  std::vector<double> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(file);
  return out;
}

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1.0, std::abs(b[i])));
  return worst;
}

}  // namespace

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
