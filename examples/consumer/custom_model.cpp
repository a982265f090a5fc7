// A user's own model trained by decent: binary logistic regression written outside the library, plugged
// in through decent::Model, trained with D-SGD on an exponential graph over the MPI ranks and recorded to
// HDF5. Run: mpiexec -n 2 ./custom_model [out.h5]
#include <decent/algo/train.hpp>
#include <decent/data/partition.hpp>
#include <decent/data/synthetic.hpp>
#include <decent/io/recorder.hpp>
#include <decent/model/model.hpp>
#include <decent/mpi/environment.hpp>

#include <cmath>
#include <cstdio>
#include <exception>

namespace {

/// p(y = 1 | x) = sigmoid(w^T x + b); loss = mean log(1 + exp(-s z)) with s = +1 for class 1, -1 for class 0.
/// Flat parameters: w (dim entries), then b.
class LogisticRegression final : public decent::Model {
public:
  explicit LogisticRegression(Eigen::Index dim) : Model(dim, 2, /*classification=*/true, dim + 1) {}

protected:
  void initialize_impl(Eigen::Ref<Eigen::VectorXf> params, decent::Rng&) const override { params.setZero(); }

  float loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                               std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>&,
                               Eigen::Ref<Eigen::VectorXf> grad) const override {
    const Eigen::Index dim = input_dim();
    const Eigen::VectorXf z = (x.transpose() * params.head(dim)).array() + params[dim];
    Eigen::VectorXf weight(z.size());  // d loss_k / d z_k
    double loss = 0;
    for (Eigen::Index k = 0; k < z.size(); ++k) {
      const float s = labels[static_cast<std::size_t>(k)] == 1 ? 1.0f : -1.0f;
      const float m = s * z[k];
      loss += m > 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m));  // stable log(1 + e^-m)
      weight[k] = -s / (1.0f + std::exp(m));
    }
    const auto b = static_cast<float>(z.size());
    grad.head(dim) = x * weight / b;
    grad[dim] = weight.sum() / b;
    return static_cast<float>(loss / z.size());
  }

  float loss_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                  std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets) const override {
    Eigen::VectorXf scratch(parameter_count());
    return loss_and_gradient_impl(params, x, labels, targets, scratch);
  }

  void predict_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                    std::span<int> out) const override {
    const Eigen::VectorXf z = (x.transpose() * params.head(input_dim())).array() + params[input_dim()];
    for (Eigen::Index k = 0; k < z.size(); ++k) out[static_cast<std::size_t>(k)] = z[k] > 0 ? 1 : 0;
  }

  std::string describe_impl() const override { return "logistic regression (user model)"; }
};

}  // namespace

int main(int argc, char** argv) {
  decent::Environment environment(argc, argv);
  const decent::Comm world = decent::Comm::world();
  try {
    const std::string out = argc > 1 ? argv[1] : "custom_model.h5";
    const int nodes = 8, steps = 200;
    // One mixture, split: the first 4000 samples train, the last 1000 test.
    const decent::Dataset all = decent::gaussian_mixture(2, 10, 5000, 2.0, 1);
    std::vector<Eigen::Index> first(4000), last(1000);
    for (Eigen::Index i = 0; i < 5000; ++i) (i < 4000 ? first[static_cast<std::size_t>(i)] : last[static_cast<std::size_t>(i - 4000)]) = i;
    const decent::Dataset train = decent::subset(all, first, "train");
    const decent::Dataset test = decent::subset(all, last, "test");
    const decent::Placement placement(nodes, world.size());
    const auto partition = decent::partition_iid(train.size(), nodes, 2);
    const std::vector<std::vector<Eigen::Index>> local(partition.begin() + placement.first(world.rank()),
                                                       partition.begin() + placement.first(world.rank()) +
                                                           placement.count(world.rank()));
    const LogisticRegression model(10);
    const auto topology = decent::make_topology("exponential", nodes);
    decent::ScheduleOptions schedule;
    schedule.steps = steps;
    decent::TrainOptions options;
    options.batch = 32;
    options.eval_every = 50;
    decent::Recorder recorder(world, placement, out, {"model = logistic (example)\n", "custom_model", 1});
    const decent::TrainResult result =
        decent::train(world, placement, options, model, train, local, test, *topology, decent::Schedule(schedule),
                      decent::Sgd({0.9f}), decent::make_lr_schedule("constant", 0.1f, steps), &recorder);
    if (world.rank() == 0)
      std::printf("custom model on %d nodes, %d ranks: merged accuracy %.3f, consensus distance %.3g, wrote %s\n",
                  nodes, world.size(), result.merged_accuracy, result.consensus_distance, out.c_str());
    return result.merged_accuracy > 0.8 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custom_model: error: %s\n", e.what());
    return 2;
  }
}
