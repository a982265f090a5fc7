// Shared-seed zeroth order on real ranks: bitwise the same model on any number of ranks, the drift guard
// stays quiet in a correct run and names the step of a corrupted one, and training reduces the loss.
#include "support/index_range.hpp"
#include "support/mpi_files.hpp"
#include "decent/algo/zo.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <string>

#include "decent/data/dataset.hpp"
#include "decent/data/partition.hpp"
#include "decent/data/synthetic.hpp"
#include "decent/io/recorder.hpp"
#include "decent/model/factory.hpp"

using namespace decent;

namespace {

struct Problem {
  Dataset all = gaussian_mixture(4, 8, 1000, 2.5, 3);
  Dataset train = subset(all, test::index_range(0, 800), "train");
  Dataset test = subset(all, test::index_range(800, 200), "test");
  int nodes = 6;
  Partition shards = partition_iid(800, 6, 7);
};

ZoOptions options_of(ZoScalar scalar, std::int64_t steps) {
  ZoOptions o;
  o.steps = steps;
  o.batch = 4;
  o.eps = 1e-3f;
  o.scalar = scalar;
  o.verify_every = 1;  // the guard after every step: a correct run must never trip it
  o.eval_every = 10;
  o.seed = 21;
  return o;
}

ZoResult run(const Comm& comm, const Problem& p, const ZoOptions& o, float lr = 0.05f, Recorder* recorder = nullptr) {
  const Placement placement(p.nodes, comm.size());
  const std::vector<std::vector<Eigen::Index>> local(p.shards.begin() + placement.first(comm.rank()),
                                                     p.shards.begin() + placement.first(comm.rank()) +
                                                         placement.count(comm.rank()));
  const auto model = make_model("softmax", 8, 4, {}, 0.0f);
  return train_zo(comm, placement, o, *model, p.train, local, p.test, make_lr_schedule("constant", lr, o.steps),
                  recorder);
}

std::string scratch(const Comm& comm, const std::string& name) { return test::scratch_h5(comm, "zo", name); }

using test::read_doubles;

/// what() of the E that f throws, or "" if it returns.
template <class E, class F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("zo: the same model, bit for bit, on any number of ranks", "[zo]") {
  const Comm world = Comm::world();
  const Problem p;
  for (const ZoScalar scalar : {ZoScalar::float32, ZoScalar::byte}) {
    INFO("zo-scalar " << to_string(scalar));
    const ZoOptions o = options_of(scalar, 25);
    const std::string distributed = scratch(world, "all_" + to_string(scalar));
    const std::string single = scratch(world, "one_" + to_string(scalar));
    ZoResult all;
    {
      Recorder recorder(world, Placement(p.nodes, world.size()), distributed, {"", "", 21});
      all = run(world, p, o, 0.05f, &recorder);  // the guard compares the ranks after every step
    }
    // Every rank holds the same parameters as rank 0 (the guard checked hashes; this checks the bits).
    Eigen::VectorXf root = all.merged_params;
    world.broadcast(std::span<float>(root.data(), static_cast<std::size_t>(root.size())), 0);
    CHECK(all.merged_params == root);
    CHECK(all.bytes == 25 * zo_step_bytes(p.nodes, o.batch, scalar));
    CHECK(all.scalars == static_cast<std::uint64_t>(25 * p.nodes * o.batch));
    if (world.rank() == 0) {
      const Comm self = Comm::self();
      ZoResult one;
      {
        Recorder recorder(self, Placement(p.nodes, 1), single, {"", "", 21});
        one = run(self, p, o, 0.05f, &recorder);
      }
      CHECK(one.merged_params == all.merged_params);  // bitwise: the replayed walks round alike
      CHECK(one.saturated == all.saturated);
      CHECK(one.flushed == all.flushed);
      for (const char* name : {"/train/loss", "/train/bytes_sent", "/final/merged_params"}) {
        INFO(name);
        CHECK(read_doubles(distributed, name) == read_doubles(single, name));
      }
      // The evals split the test set over the ranks: float sums in another order (the model is the same).
      const auto a = read_doubles(distributed, "/eval/merged_loss"), b = read_doubles(single, "/eval/merged_loss");
      REQUIRE(a.size() == b.size());
      for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-6));
      std::filesystem::remove(distributed);
      std::filesystem::remove(single);
    }
    world.barrier();
  }
}

TEST_CASE("zo: training a softmax model reduces the loss, with float and with one-byte scalars", "[zo]") {
  const Comm world = Comm::world();
  const Problem p;
  for (const ZoScalar scalar : {ZoScalar::float32, ZoScalar::byte}) {
    INFO("zo-scalar " << to_string(scalar));
    ZoOptions o = options_of(scalar, 1);
    o.verify_every = 0;
    const ZoResult start = run(world, p, o);  // after one step: the loss is about the initial one
    o.steps = 200;
    o.verify_every = 50;
    const ZoResult trained = run(world, p, o);
    INFO("test loss " << start.merged_loss << " -> " << trained.merged_loss << ", accuracy "
                      << start.merged_accuracy << " -> " << trained.merged_accuracy);
    CHECK(trained.merged_loss < 0.6 * start.merged_loss);
    CHECK(trained.merged_accuracy > 0.75);  // 4 classes: chance is 0.25
    CHECK(trained.merged_accuracy > start.merged_accuracy + 0.1);
    if (scalar == ZoScalar::float32) CHECK(trained.saturated + trained.flushed == 0);
  }
}

TEST_CASE("zo drift guard: a parameter corrupted on one rank is an error naming the step", "[zo]") {
  const Comm world = Comm::world();
  const Problem p;
  ZoOptions o = options_of(ZoScalar::byte, 12);
  o.verify_every = 4;
  const int victim = world.size() - 1;
  o.after_update = [&](std::int64_t step, Eigen::Ref<Eigen::VectorXf> theta) {
    if (step != 5 || world.rank() != victim) return;
    // One ulp of the largest parameter (a zero one would be absorbed by the next walk: not drift at all).
    Eigen::Index i = 0;
    theta.cwiseAbs().maxCoeff(&i);
    theta[i] = std::nextafter(theta[i], 2 * theta[i]);
  };
  if (world.size() == 1) {
    // One rank has nobody to compare with: the guard cannot see the corruption, and the run completes.
    const ZoResult r = run(world, p, o);
    CHECK(r.bytes == 12 * zo_step_bytes(p.nodes, o.batch, o.scalar));
    return;
  }
  // The guard runs after steps 3, 7, 11: the first check after the corruption is after step 7.
  const std::string message = thrown_message<zo_drift_error>([&] { run(world, p, o); });
  CHECK_THAT(message, Catch::Matchers::Contains("rank " + std::to_string(victim) + " differ from rank 0's after step 7"));
  // The same run without the corruption passes every check.
  o.after_update = {};
  CHECK_NOTHROW(run(world, p, o));
}

TEST_CASE("zo: a diverging run stops at the step whose projected gradient is not finite", "[zo]") {
  const Comm world = Comm::world();
  const Dataset data = teacher_student(8, 400, 0.1, 5);
  const Partition shards = partition_iid(400, 4, 1);
  const Placement placement(4, world.size());
  const std::vector<std::vector<Eigen::Index>> local(shards.begin() + placement.first(world.rank()),
                                                     shards.begin() + placement.first(world.rank()) +
                                                         placement.count(world.rank()));
  const auto model = make_model("linear", 8, 1, {}, 0.0f);
  // A merely large lr does not reach inf: once eps z is below theta's rounding, L+ = L- and g = 0 (the run
  // stalls). This one jumps to |theta| ~ 1e30 in one step, where the squared residual overflows.
  for (const ZoScalar scalar : {ZoScalar::float32, ZoScalar::byte}) {
    INFO("zo-scalar " << to_string(scalar));
    ZoOptions o;
    o.steps = 20;
    o.batch = 4;
    o.seed = 3;
    o.scalar = scalar;
    const auto lr = make_lr_schedule("constant", 1e30f, o.steps);
    const std::string message =
        thrown_message<divergence_error>([&] { train_zo(world, placement, o, *model, data, local, data, lr, nullptr); });
    CHECK_THAT(message, Catch::Matchers::Matches(".*projected gradient of node [0-3] \\(sample [0-3]\\) became "
                                                 "non-finite at step 1 .*"));
  }
}
