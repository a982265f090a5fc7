// Models from layers, outside decent's tree: a preset from the spec language, a network assembled in C++ with a
// layer of the user's own (leaky ReLU) beside decent's, its named blocks and roles, and head-only averaging of
// the nodes' models. Trains with D-SGD over the MPI ranks on a synthetic image task.
// Run: mpiexec -n 2 ./layers
#include <decent/algo/train.hpp>
#include <decent/data/partition.hpp>
#include <decent/data/synthetic.hpp>
#include <decent/gossip/gossip.hpp>
#include <decent/model/activation.hpp>
#include <decent/model/conv2d.hpp>
#include <decent/model/dense.hpp>
#include <decent/model/factory.hpp>
#include <decent/model/flatten.hpp>
#include <decent/model/layer_model.hpp>
#include <decent/model/pooling.hpp>
#include <decent/mpi/environment.hpp>

#include <cstdio>
#include <exception>

namespace {

/// y = x for x > 0, else slope * x: a user's layer, through the same interface as decent's own.
template <class T>
class LeakyRelu final : public decent::BasicLayer<T> {
public:
  using typename decent::BasicLayer<T>::ConstMap;
  using typename decent::BasicLayer<T>::MutableMap;
  explicit LeakyRelu(T slope) : slope_(slope) {}

protected:
  decent::TensorShape bind_impl(const decent::TensorShape& input, decent::Gain) override { return input; }
  std::string kind_impl() const override { return "leaky"; }
  std::string describe_impl() const override { return "leaky_relu(" + std::to_string(slope_) + ")"; }
  decent::GainRole gain_role_impl() const override { return decent::GainRole::relu_activation; }
  void forward_impl(const T*, ConstMap in, MutableMap out, const decent::LayerPass&) const override {
    out = in.unaryExpr([this](T v) { return v > 0 ? v : slope_ * v; });
  }
  void backward_impl(const T*, ConstMap in, ConstMap, ConstMap d_out, MutableMap* d_in, T*,
                     const decent::LayerPass&) const override {
    if (d_in) *d_in = d_out.binaryExpr(in, [this](T g, T v) { return v > 0 ? g : slope_ * g; });
  }
  std::unique_ptr<decent::BasicLayer<T>> clone_impl() const override { return std::make_unique<LeakyRelu>(*this); }

private:
  T slope_;
};

}  // namespace

int main(int argc, char** argv) {
  decent::Environment environment(argc, argv);
  const decent::Comm world = decent::Comm::world();
  try {
    // 8 x 8 one-channel "images": a Gaussian mixture of 4 classes.
    decent::Dataset all = decent::gaussian_mixture(4, 64, 2400, 4.0, 2);
    all.sample_shape = {1, 8, 8};
    std::vector<Eigen::Index> first(2000), last(400);
    for (Eigen::Index i = 0; i < 2400; ++i) (i < 2000 ? first[static_cast<std::size_t>(i)] : last[static_cast<std::size_t>(i - 2000)]) = i;
    const decent::Dataset train = decent::subset(all, first, "train"), test = decent::subset(all, last, "test");

    // A preset of the spec language, and the same kind of network assembled by hand with the user's layer.
    decent::ModelOptions preset;
    preset.name = "layers";
    preset.layers = "conv(8,3,pad=1) relu maxpool(2) flatten dense(32) relu dense(4)";
    preset.input = train.shape();
    preset.classes = 4;
    const auto from_spec = decent::make_model(preset);
    decent::Sequence<float> layers;
    layers.add(std::make_unique<decent::Conv2d<float>>(decent::Conv2dOptions{8, 3, 1, 1, true}));
    layers.add(std::make_unique<LeakyRelu<float>>(0.1f));
    layers.add(std::make_unique<decent::Pool2d<float>>(decent::PoolKind::max, 2, 2));
    layers.add(std::make_unique<decent::Flatten<float>>());
    layers.add(std::make_unique<decent::Dense<float>>(32));
    layers.add(std::make_unique<LeakyRelu<float>>(0.1f));
    layers.add(std::make_unique<decent::Dense<float>>(4));
    const decent::LayerModel model(decent::Network<float>(std::move(layers), train.shape(), 4), "cnn with leaky ReLU");
    if (world.rank() == 0) {
      std::printf("%s: %lld parameters; %s: %lld\n", from_spec->describe().c_str(),
                  static_cast<long long>(from_spec->parameter_count()), model.describe().c_str(),
                  static_cast<long long>(model.parameter_count()));
      for (const decent::ParameterBlock& b : model.blocks())
        std::printf("  %-14s offset %6lld  length %5lld  %s\n", b.name.c_str(), static_cast<long long>(b.offset),
                    static_cast<long long>(b.length), decent::to_string(b.role).c_str());
    }

    // D-SGD on a ring, no final merge: the nodes end apart.
    const int nodes = 4, steps = 300;
    const decent::Placement placement(nodes, world.size());
    const auto partition = decent::partition_iid(train.size(), nodes, 3);
    const std::vector<std::vector<Eigen::Index>> local(partition.begin() + placement.first(world.rank()),
                                                       partition.begin() + placement.first(world.rank()) +
                                                           placement.count(world.rank()));
    decent::ScheduleOptions schedule;
    schedule.steps = steps;
    schedule.final_merge = false;
    decent::TrainOptions options;
    options.batch = 32;
    options.eval_every = 100;
    const auto topology = decent::make_topology("ring", nodes);
    const decent::TrainResult result =
        decent::train(world, placement, options, model, train, local, test, *topology, decent::Schedule(schedule),
                      decent::Sgd({0.9f}), decent::make_lr_schedule("constant", 0.05f, steps), nullptr);

    // Head-only averaging: the nodes keep their own base and share the classifier (as LG-FedAvg does).
    Eigen::MatrixXf x(model.parameter_count(), placement.count(world.rank()));
    x.colwise() = result.merged_params;  // stand-in node models: the mean, perturbed per node
    for (Eigen::Index k = 0; k < x.cols(); ++k) x.col(k).array() += 0.01f * static_cast<float>(placement.first(world.rank()) + k);
    decent::Gossip gossip(world, placement, static_cast<std::size_t>(model.parameter_count()));
    const auto head = decent::block_ranges(decent::select_blocks(model.blocks(), "head"));
    const Eigen::MatrixXf before = x;
    gossip.merge(x, head);
    const bool base_kept = x.topRows(head.front().offset) == before.topRows(head.front().offset);
    if (world.rank() == 0)
      std::printf("D-SGD on %d nodes, %d ranks: merged accuracy %.3f; head-only merge kept every base: %s\n", nodes,
                  world.size(), result.merged_accuracy, base_kept ? "yes" : "no");
    return result.merged_accuracy > 0.8 && base_kept ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "layers: error: %s\n", e.what());
    return 2;
  }
}
