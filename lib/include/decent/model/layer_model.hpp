#pragma once
/// @file A Model made of layers: the Model interface over a Network<float> (docs/models.md).
#include <string>

#include "decent/model/model.hpp"
#include "decent/model/network.hpp"

namespace decent {

/// A classifier built from layers (decent/model/network.hpp), trained and evaluated through the Model interface:
/// named blocks with roles, features, logits, per-sample losses and the full Objective. input_dim() is the input
/// shape's size. Samples may come as any column block; non-contiguous ones are copied first.
class LayerModel : public Model {
public:
  /// `description` is what describe() says (e.g. "cnn-small 1x28x28 -> 10"); empty: the layers in spec syntax.
  explicit LayerModel(Network<float> network, std::string description = {});

  /// The network (its layers, feature layer and shapes).
  const Network<float>& network() const noexcept { return network_; }

protected:
  void initialize_impl(Eigen::Ref<Eigen::VectorXf> params, Rng& rng) const override;
  float loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                               const Eigen::Ref<const Eigen::MatrixXf>& x, std::span<const int> labels,
                               const Eigen::Ref<const Eigen::VectorXf>& targets,
                               Eigen::Ref<Eigen::VectorXf> grad) const override;
  float loss_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                  std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets) const override;
  void predict_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                    std::span<int> out) const override;
  Evaluation evaluate_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                           std::span<const int> labels, const Eigen::Ref<const Eigen::VectorXf>& targets) const override;
  std::string describe_impl() const override;
  std::vector<MatrixBlock> matrix_blocks_impl() const override { return network_.matrix_blocks(); }
  std::vector<ParameterBlock> blocks_impl() const override { return network_.blocks(); }
  Eigen::Index feature_dim_impl() const override { return network_.feature_dim(); }
  bool stochastic_impl() const override { return network_.stochastic(); }
  void logits_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                   Eigen::Ref<Eigen::MatrixXf> out) const override;
  void features_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                     Eigen::Ref<Eigen::MatrixXf> out) const override;
  void per_sample_loss_impl(const Eigen::Ref<const Eigen::VectorXf>& params, const Eigen::Ref<const Eigen::MatrixXf>& x,
                            std::span<const int> labels, Eigen::Ref<Eigen::VectorXf> loss,
                            std::span<std::uint8_t> correct) const override;
  float objective_loss_and_gradient_impl(const Eigen::Ref<const Eigen::VectorXf>& params,
                                         const Eigen::Ref<const Eigen::MatrixXf>& x, const Objective& objective,
                                         Eigen::Ref<Eigen::VectorXf> grad) const override;

private:
  using ConstMap = Network<float>::ConstMap;
  // x as a contiguous map (a copy into scratch if its columns are strided).
  ConstMap samples(const Eigen::Ref<const Eigen::MatrixXf>& x) const;
  Network<float> network_;
  std::string description_;
  mutable Eigen::MatrixXf x_copy_;
};

}  // namespace decent
