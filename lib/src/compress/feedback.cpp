#include "decent/compress/feedback.hpp"

#include <cmath>
#include <stdexcept>

namespace decent {

ErrorFeedback parse_error_feedback(std::string_view name) {
  if (name == "none") return ErrorFeedback::none;
  if (name == "ef") return ErrorFeedback::ef;
  if (name == "ef21") return ErrorFeedback::ef21;
  if (name == "ef21-sgdm") return ErrorFeedback::ef21_sgdm;
  if (name == "econtrol") return ErrorFeedback::econtrol;
  throw std::invalid_argument("unknown error-feedback '" + std::string(name) +
                              "' (allowed: none, ef, ef21, ef21-sgdm, econtrol)");
}

std::string to_string(ErrorFeedback feedback) {
  switch (feedback) {
    case ErrorFeedback::none: return "none";
    case ErrorFeedback::ef: return "ef";
    case ErrorFeedback::ef21: return "ef21";
    case ErrorFeedback::ef21_sgdm: return "ef21-sgdm";
    case ErrorFeedback::econtrol: return "econtrol";
  }
  return "?";
}

std::vector<std::string> error_feedback_names() { return {"none", "ef", "ef21", "ef21-sgdm", "econtrol"}; }

FeedbackNode::FeedbackNode(FeedbackOptions options, Compressor& compressor)
    : options_(options), compressor_(compressor) {
  if (options_.rule == ErrorFeedback::econtrol && (!(options_.econtrol_eta >= 0) || !std::isfinite(options_.econtrol_eta)))
    throw std::invalid_argument("econtrol-eta must be a finite number >= 0, got " +
                                std::to_string(options_.econtrol_eta));
  if (options_.rule == ErrorFeedback::ef21_sgdm && !(options_.sgdm_eta > 0 && options_.sgdm_eta <= 1))
    throw std::invalid_argument("ef21-sgdm-eta must be in (0, 1], got " + std::to_string(options_.sgdm_eta));
}

bool FeedbackNode::keeps_estimate() const noexcept {
  return options_.rule == ErrorFeedback::ef21 || options_.rule == ErrorFeedback::ef21_sgdm ||
         options_.rule == ErrorFeedback::econtrol;
}

void FeedbackNode::size_state(FeedbackState& state, Eigen::Index d) const {
  const auto fit = [d](Eigen::VectorXf& v) {
    if (v.size() == 0) v = Eigen::VectorXf::Zero(d);
    if (v.size() != d)
      throw std::invalid_argument("error feedback: state has dimension " + std::to_string(v.size()) +
                                  ", the gradient " + std::to_string(d));
  };
  switch (options_.rule) {
    case ErrorFeedback::none: break;
    case ErrorFeedback::ef: fit(state.error); break;
    case ErrorFeedback::ef21: fit(state.estimate); break;
    case ErrorFeedback::ef21_sgdm:
      fit(state.estimate);
      fit(state.momentum);
      break;
    case ErrorFeedback::econtrol:
      fit(state.error);
      fit(state.estimate);
      break;
  }
}

void FeedbackNode::compressed_step(Eigen::Ref<const Eigen::VectorXf> g, FeedbackState& state, Rng& rng,
                                   Message& out, Eigen::Ref<Eigen::VectorXf> decoded) {
  const Eigen::Index d = g.size();
  if (decoded.size() != d)
    throw std::invalid_argument("error feedback: output has size " + std::to_string(decoded.size()) +
                                ", the gradient " + std::to_string(d));
  size_state(state, d);
  const float eta = options_.rule == ErrorFeedback::econtrol ? options_.econtrol_eta : options_.sgdm_eta;
  switch (options_.rule) {
    case ErrorFeedback::none:
      compressor_.encode(g, rng, out);
      compressor_.decode(out, decoded);
      break;
    case ErrorFeedback::ef:
      state.error += g;  // p = g + e
      compressor_.encode(state.error, rng, out);
      compressor_.decode(out, decoded);
      state.error -= decoded;  // e = p - Delta
      break;
    case ErrorFeedback::ef21:
      input_ = g - state.estimate;
      compressor_.encode(input_, rng, out);
      compressor_.decode(out, decoded);
      state.estimate += decoded;
      break;
    case ErrorFeedback::ef21_sgdm:
      if (state.steps == 0)
        state.momentum = g;
      else
        state.momentum = (1 - eta) * state.momentum + eta * g;
      input_ = state.momentum - state.estimate;
      compressor_.encode(input_, rng, out);
      compressor_.decode(out, decoded);
      state.estimate += decoded;
      break;
    case ErrorFeedback::econtrol:
      difference_ = g - state.estimate;  // g - h
      if (eta != 0) {
        input_ = difference_ + eta * state.error;
        compressor_.encode(input_, rng, out);
      } else {
        compressor_.encode(difference_, rng, out);  // exactly EF21's message
      }
      compressor_.decode(out, decoded);
      state.error += difference_ - decoded;  // e += g - h - Delta
      state.estimate += decoded;
      break;
  }
  ++state.steps;
}

void FeedbackNode::exact_step(Eigen::Ref<const Eigen::VectorXf> g, FeedbackState& state) const {
  size_state(state, g.size());
  if (state.error.size()) state.error.setZero();
  if (state.estimate.size()) state.estimate = g;
  if (state.momentum.size()) state.momentum = g;
  ++state.steps;
}

}  // namespace decent
