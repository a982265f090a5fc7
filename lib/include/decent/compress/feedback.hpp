#pragma once
/// @file Error feedback for compressed server-based training: one node's side of plain compressed SGD, EF,
/// EF21, EF21-SGDM and EControl (equations in docs/compression.md).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "decent/compress/compressor.hpp"

namespace decent {

/// The error-feedback rules, by their config names.
enum class ErrorFeedback {
  none,       ///< "none": send C(g_i); the server steps along mean_i C(g_i)
  ef,         ///< "ef": p_i = g_i + e_i, send Delta_i = C(p_i), e_i = p_i - Delta_i; step along mean_i Delta_i
  ef21,       ///< "ef21": send Delta_i = C(g_i - h_i), h_i += Delta_i; step along mean_i h_i
  ef21_sgdm,  ///< "ef21-sgdm": v_i = (1 - eta) v_i + eta g_i, then EF21 on v_i
  econtrol    ///< "econtrol": Delta_i = C(eta e_i + g_i - h_i), e_i += g_i - h_i - Delta_i, h_i += Delta_i
};
/// Parses a name; std::invalid_argument lists the allowed names.
ErrorFeedback parse_error_feedback(std::string_view name);
std::string to_string(ErrorFeedback feedback);
/// The names parse_error_feedback accepts, for help texts.
std::vector<std::string> error_feedback_names();

/// Parameters of the rules.
struct FeedbackOptions {
  ErrorFeedback rule = ErrorFeedback::none;
  /// EControl's feedback strength eta >= 0 (0 with h_i^0 = C(g_i^0) is exactly EF21).
  float econtrol_eta = 0.01f;
  /// EF21-SGDM's momentum weight eta in (0, 1] (1: plain EF21).
  float sgdm_eta = 0.1f;
};

/// One node's feedback memory. Vectors are empty until the first step (sized then); all start at zero,
/// so the first compressed step sends C(g_i^0) and sets h_i^0 = C(g_i^0) (EF21's usual start).
struct FeedbackState {
  Eigen::VectorXf error;      ///< e_i (ef, econtrol)
  Eigen::VectorXf estimate;   ///< h_i (ef21, ef21-sgdm, econtrol)
  Eigen::VectorXf momentum;   ///< v_i (ef21-sgdm), set to g_i at the node's first step
  std::int64_t steps = 0;     ///< steps taken with this state (compressed or exact)
};

/// The node side of one step: computes this node's message from its gradient and memory, updates the
/// memory with the decoded message (as every receiver decodes it), and returns what the aggregate adds.
/// Not thread-safe (scratch buffers); one object per rank serves all its nodes.
class FeedbackNode {
public:
  /// Throws std::invalid_argument if the rule's own eta is out of range (the other rule's is ignored).
  FeedbackNode(FeedbackOptions options, Compressor& compressor);

  /// Encodes this node's message for gradient g into `out` (drawing from rng if the compressor is
  /// stochastic) and updates `state`. Afterwards `decoded` holds C(.) of the message: the server's
  /// aggregate moves by mean_i decoded_i (as the direction itself for none/ef, as the change of mean_i h_i
  /// for the EF21 family).
  void compressed_step(Eigen::Ref<const Eigen::VectorXf> g, FeedbackState& state, Rng& rng, Message& out,
                       Eigen::Ref<Eigen::VectorXf> decoded);
  /// An uncompressed (warm-up) step: the exact g_i reaches the server, so h_i = v_i = g_i and e_i = 0.
  void exact_step(Eigen::Ref<const Eigen::VectorXf> g, FeedbackState& state) const;

  /// True if the server's direction is the running mean of h_i (EF21 family), false if it is this
  /// step's mean of decoded messages (none, ef).
  bool keeps_estimate() const noexcept;
  const FeedbackOptions& options() const noexcept { return options_; }
  Compressor& compressor() const noexcept { return compressor_; }

private:
  void size_state(FeedbackState& state, Eigen::Index d) const;

  FeedbackOptions options_;
  Compressor& compressor_;
  Eigen::VectorXf input_;       // the vector being compressed
  Eigen::VectorXf difference_;  // g - h (econtrol)
};

}  // namespace decent
