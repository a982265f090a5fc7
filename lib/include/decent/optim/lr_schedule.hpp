#pragma once
/// @file Learning-rate schedules over the local steps t = 0 .. T-1 of a run.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace decent {

/// Names accepted by make_lr_schedule.
inline constexpr std::array<std::string_view, 4> lr_schedule_names{"constant", "step", "cosine",
                                                                   "constant-then-zero"};

/// Optional parameters of a learning-rate schedule; each is validated only by the schedules that use it.
struct LrScheduleOptions {
  /// Linear warm-up over the first W steps (all schedules): lr(t) = lr * (f + (1 - f) * t / W) for t < W,
  /// so step 0 uses lr * f and step W is the first at full lr. 0 <= W <= T.
  std::int64_t warmup_steps = 0;
  /// f above, in [0, 1]: 0 starts the warm-up from 0 (as PyTorch's LinearLR with start_factor 0).
  float warmup_start_factor = 0;
  /// "step": absolute step indices (counting the warm-up), strictly increasing, each in [0, T).
  std::vector<std::int64_t> milestones{};
  /// "step": factor applied at each milestone, > 0.
  float gamma = 0.1f;
  /// "cosine": final learning rate, in [0, lr].
  float lr_min = 0;
};

/// A learning-rate schedule: a small value type, cheap to copy and to query at every step.
class LrSchedule {
public:
  enum class Kind { constant, step, cosine, constant_then_zero };

  /// Use make_lr_schedule, which validates; this constructor trusts its arguments.
  LrSchedule(Kind kind, float lr, std::int64_t total_steps, LrScheduleOptions options);

  /// The learning rate of local step `step` in [0, T) (std::out_of_range otherwise):
  /// - constant:            lr
  /// - step:                lr * gamma^(number of milestones m <= step)
  /// - cosine:              lr_min + (lr - lr_min) * (1 + cos(pi * (step - W) / (T - W))) / 2, as PyTorch's
  ///                        CosineAnnealingLR with T_max = T - W (it reaches lr_min only at step T)
  /// - constant-then-zero:  lr if step < floor(T / 2), else 0 (the paper's constant_then_zero)
  /// each replaced by the linear warm-up for step < W.
  float at(std::int64_t step) const;

  Kind kind() const noexcept { return kind_; }
  /// The schedule's name as accepted by make_lr_schedule.
  std::string_view name() const noexcept;
  /// The peak (base) learning rate.
  float lr() const noexcept { return lr_; }
  /// T, the number of steps the schedule is defined on.
  std::int64_t total_steps() const noexcept { return total_steps_; }
  const LrScheduleOptions& options() const noexcept { return options_; }
  /// One line for logs, e.g. "cosine lr=0.1 -> lr-min=0 over 1000 steps, warm-up 50 steps".
  std::string describe() const;

private:
  Kind kind_;
  float lr_;
  std::int64_t total_steps_;
  LrScheduleOptions options_;
};

/// Builds the schedule called `name` (one of lr_schedule_names) for a peak learning rate `lr` >= 0 over
/// `total_steps` >= 1 steps. Throws std::invalid_argument naming the config key (lr-schedule, lr, steps,
/// lr-warmup-steps, lr-warmup-start-factor, lr-milestones, lr-gamma, lr-min) and the allowed values.
LrSchedule make_lr_schedule(std::string_view name, float lr, std::int64_t total_steps,
                            const LrScheduleOptions& options = {});

}  // namespace decent
