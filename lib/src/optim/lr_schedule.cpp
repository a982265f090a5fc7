#include "decent/optim/lr_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>
#include <stdexcept>

namespace decent {

namespace {

[[noreturn]] void bad(std::string_view key, const std::string& problem) {
  throw std::invalid_argument("lr schedule: " + std::string(key) + " " + problem);
}

template <class T>
std::string str(T v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string allowed_names() {
  std::string out;
  for (auto n : lr_schedule_names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

}  // namespace

LrSchedule::LrSchedule(Kind kind, float lr, std::int64_t total_steps, LrScheduleOptions options)
    : kind_(kind), lr_(lr), total_steps_(total_steps), options_(std::move(options)) {}

std::string_view LrSchedule::name() const noexcept { return lr_schedule_names[static_cast<std::size_t>(kind_)]; }

float LrSchedule::at(std::int64_t step) const {
  if (step < 0 || step >= total_steps_)
    throw std::out_of_range("lr schedule: step " + std::to_string(step) + " is outside [0, " +
                            std::to_string(total_steps_) + ")");
  const std::int64_t w = options_.warmup_steps;
  if (step < w) {
    const double f = options_.warmup_start_factor;
    return static_cast<float>(lr_ * (f + (1 - f) * static_cast<double>(step) / static_cast<double>(w)));
  }
  switch (kind_) {
    case Kind::constant: return lr_;
    case Kind::step: {
      const auto& m = options_.milestones;
      const auto passed = std::upper_bound(m.begin(), m.end(), step) - m.begin();
      return static_cast<float>(lr_ * std::pow(static_cast<double>(options_.gamma), static_cast<double>(passed)));
    }
    case Kind::cosine: {
      const double progress = static_cast<double>(step - w) / static_cast<double>(total_steps_ - w);
      const double lo = options_.lr_min;
      return static_cast<float>(lo + (lr_ - lo) * 0.5 * (1 + std::cos(std::numbers::pi * progress)));
    }
    case Kind::constant_then_zero: return step < total_steps_ / 2 ? lr_ : 0.0f;
  }
  return lr_;  // unreachable: every Kind is handled above
}

std::string LrSchedule::describe() const {
  std::string out = std::string(name()) + " lr=" + str(lr_);
  switch (kind_) {
    case Kind::constant: break;
    case Kind::step: {
      out += " x lr-gamma=" + str(options_.gamma) + " at steps";
      for (auto m : options_.milestones) out += " " + std::to_string(m);
      if (options_.milestones.empty()) out += " (none)";
      break;
    }
    case Kind::cosine: out += " -> lr-min=" + str(options_.lr_min); break;
    case Kind::constant_then_zero: out += " then 0 from step " + std::to_string(total_steps_ / 2); break;
  }
  out += " over " + std::to_string(total_steps_) + " steps";
  if (options_.warmup_steps > 0) {
    out += ", warm-up " + std::to_string(options_.warmup_steps) + " steps";
    if (options_.warmup_start_factor > 0) out += " from " + str(options_.warmup_start_factor) + " x lr";
  }
  return out;
}

LrSchedule make_lr_schedule(std::string_view name, float lr, std::int64_t total_steps,
                            const LrScheduleOptions& options) {
  const auto it = std::find(lr_schedule_names.begin(), lr_schedule_names.end(), name);
  if (it == lr_schedule_names.end())
    bad("lr-schedule", "= '" + std::string(name) + "' is unknown: allowed " + allowed_names());
  const auto kind = static_cast<LrSchedule::Kind>(it - lr_schedule_names.begin());

  if (!(lr >= 0) || !std::isfinite(lr)) bad("lr", "= " + str(lr) + " must be finite and >= 0");
  if (total_steps < 1) bad("steps", "= " + std::to_string(total_steps) + " must be >= 1");
  const auto w = options.warmup_steps;
  if (w < 0 || w > total_steps)
    bad("lr-warmup-steps", "= " + std::to_string(w) + " must be in [0, steps = " + std::to_string(total_steps) + "]");
  if (!(options.warmup_start_factor >= 0 && options.warmup_start_factor <= 1))
    bad("lr-warmup-start-factor", "= " + str(options.warmup_start_factor) + " must be in [0, 1]");

  if (kind == LrSchedule::Kind::step) {
    if (!(options.gamma > 0) || !std::isfinite(options.gamma))
      bad("lr-gamma", "= " + str(options.gamma) + " must be finite and > 0");
    const auto& m = options.milestones;
    for (std::size_t i = 0; i < m.size(); ++i) {
      if (m[i] < 0 || m[i] >= total_steps)
        bad("lr-milestones", "entry " + std::to_string(m[i]) + " must be a step in [0, steps = " +
                                 std::to_string(total_steps) + ")");
      if (i > 0 && m[i] <= m[i - 1]) bad("lr-milestones", "must be strictly increasing");
    }
  }
  if (kind == LrSchedule::Kind::cosine) {
    if (!(options.lr_min >= 0 && options.lr_min <= lr))
      bad("lr-min", "= " + str(options.lr_min) + " must be in [0, lr = " + str(lr) + "]");
    if (w >= total_steps)
      bad("lr-warmup-steps", "= " + std::to_string(w) + " leaves no step for the cosine: must be < steps = " +
                                 std::to_string(total_steps));
  }
  return LrSchedule(kind, lr, total_steps, options);
}

}  // namespace decent
