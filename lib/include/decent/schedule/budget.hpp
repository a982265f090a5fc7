#pragma once
/// @file Communication budget profiles r(p): the per-round neighbour count of a random topology as a
/// function of training progress p, as compute_r in the single-merge paper's code (core/communication.py).
#include <array>
#include <string>
#include <string_view>

namespace decent {

/// Names accepted by make_budget_profile, in the order of BudgetProfile::Kind.
inline constexpr std::array<std::string_view, 7> budget_profile_names{
    "fixed", "linear", "cosine", "slow-decrease", "slow-grow", "late-switch", "dense-window"};

/// The constant that slow-grow grows towards: the paper hard-codes 16 (presumably n / 2 for its 32 nodes),
/// independently of r_end. Kept as is so that runs reproduce the paper.
inline constexpr double slow_grow_target = 16.0;

/// A budget profile r(p) from r_start towards r_end over progress p in [0, 1]. Every value is clamped to
/// >= 0 (as compute_r's max(r, 0)). A small value type.
class BudgetProfile {
public:
  enum class Kind { fixed, linear, cosine, slow_decrease, slow_grow, late_switch, dense_window };

  /// Use make_budget_profile, which validates; this constructor trusts its arguments.
  BudgetProfile(Kind kind, double r_start, double r_end, double point, double window, bool paper_last_round);

  /// r at progress p (see Schedule for how p is measured), with s = r_start, e = r_end:
  /// - fixed:          s
  /// - linear:         s + (e - s) p
  /// - cosine:         e + (s - e)(1 + cos(pi p)) / 2
  /// - slow-decrease:  e + (s - e) exp(-10 p)
  /// - slow-grow:      s + (16 - s) log10(1 + 9 p^80)      (the paper's constant 16, see slow_grow_target)
  /// - late-switch:    s if p < point, else e               (the paper's "truncate")
  /// - dense-window:   e if point <= p < point + window, else s   (the paper's "truncate_v2")
  /// With paper_last_round, every profile but fixed returns e for p >= 1, whatever its formula says (the
  /// paper's compute_r does so for step >= max_steps); this only changes slow-decrease, slow-grow and
  /// dense-window, whose formulas do not give e at p = 1.
  double r(double progress) const;

  Kind kind() const noexcept { return kind_; }
  /// The profile's name as accepted by make_budget_profile.
  std::string_view name() const noexcept { return budget_profile_names[static_cast<std::size_t>(kind_)]; }
  double r_start() const noexcept { return r_start_; }
  double r_end() const noexcept { return r_end_; }
  double point() const noexcept { return point_; }
  double window() const noexcept { return window_; }
  bool paper_last_round() const noexcept { return paper_last_round_; }
  /// One line, e.g. "late-switch r 0.2 -> 31 at p = 0.997".
  std::string describe() const;

private:
  Kind kind_;
  double r_start_;
  double r_end_;
  double point_;
  double window_;
  bool paper_last_round_;
};

/// Builds the profile `name` (one of budget_profile_names). Throws std::invalid_argument naming the config key
/// and the allowed values: budget-profile (unknown name; the paper's own names truncate, truncate_v2,
/// slow_decrease, slow_grow are pointed to ours), r and r-end (finite, >= 0), budget-point (in [0, 1]) and
/// budget-window (in (0, 1]). All values are checked whether or not the profile uses them.
/// `paper_last_round` turns on the paper's quirk described at BudgetProfile::r; it is off by default.
BudgetProfile make_budget_profile(std::string_view name, double r_start, double r_end, double point, double window,
                                  bool paper_last_round = false);

}  // namespace decent
