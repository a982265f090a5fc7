#include "decent/schedule/budget.hpp"
#include "core/number_text.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>
#include <stdexcept>

namespace decent {

using detail::number_text;

namespace {


[[noreturn]] void bad(std::string_view key, const std::string& problem) {
  throw std::invalid_argument("budget profile: " + std::string(key) + " " + problem);
}

std::string allowed_names() {
  std::string out;
  for (auto n : budget_profile_names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// The paper's spelling of the same profiles, so that a user copying a paper config gets pointed to ours.
std::string_view paper_alias(std::string_view name) {
  if (name == "truncate") return "late-switch";
  if (name == "truncate_v2") return "dense-window";
  if (name == "slow_decrease") return "slow-decrease";
  if (name == "slow_grow") return "slow-grow";
  return {};
}

}  // namespace

BudgetProfile::BudgetProfile(Kind kind, double r_start, double r_end, double point, double window,
                             bool paper_last_round)
    : kind_(kind), r_start_(r_start), r_end_(r_end), point_(point), window_(window),
      paper_last_round_(paper_last_round) {}

double BudgetProfile::r(double p) const {
  const double s = r_start_;
  const double e = r_end_;
  if (kind_ == Kind::fixed) return std::max(s, 0.0);
  if (paper_last_round_ && p >= 1) return std::max(e, 0.0);
  double r = s;
  switch (kind_) {
    case Kind::fixed: break;
    // The paper writes r_start - (r_start - r_end) p; same value up to rounding, kept in its form for bitwise
    // agreement with compute_r.
    case Kind::linear: r = s - (s - e) * p; break;
    case Kind::cosine: r = e + 0.5 * (s - e) * (1 + std::cos(std::numbers::pi * p)); break;
    case Kind::slow_decrease: r = e + (s - e) * std::exp(-10 * p); break;
    case Kind::slow_grow: r = s + (slow_grow_target - s) * std::log10(1 + std::pow(p, 80) * 9); break;
    case Kind::late_switch: r = p < point_ ? s : e; break;
    case Kind::dense_window: r = (p >= point_ && p < point_ + window_) ? e : s; break;
  }
  return std::max(r, 0.0);
}

std::string BudgetProfile::describe() const {
  std::string out = std::string(name()) + " r " + number_text(r_start_);
  switch (kind_) {
    case Kind::fixed: return out;
    case Kind::linear:
    case Kind::cosine:
    case Kind::slow_decrease: out += " -> " + number_text(r_end_); break;
    case Kind::slow_grow: out += " -> " + number_text(slow_grow_target) + " (fixed target)"; break;
    case Kind::late_switch: out += " -> " + number_text(r_end_) + " at p = " + number_text(point_); break;
    case Kind::dense_window:
      out += ", " + number_text(r_end_) + " for p in [" + number_text(point_) + ", " + number_text(point_ + window_) +
             ")";
      break;
  }
  if (paper_last_round_) out += ", r-end at p >= 1 (paper)";
  return out;
}

BudgetProfile make_budget_profile(std::string_view name, double r_start, double r_end, double point, double window,
                                  bool paper_last_round) {
  const auto it = std::find(budget_profile_names.begin(), budget_profile_names.end(), name);
  if (it == budget_profile_names.end()) {
    std::string problem = "= '" + std::string(name) + "' is unknown: allowed " + allowed_names();
    if (auto ours = paper_alias(name); !ours.empty())
      problem += " ('" + std::string(name) + "' in the paper's code is '" + std::string(ours) + "' here)";
    bad("budget-profile", problem);
  }
  if (!(r_start >= 0) || !std::isfinite(r_start)) bad("r", "= " + number_text(r_start) + " must be finite and >= 0");
  if (!(r_end >= 0) || !std::isfinite(r_end)) bad("r-end", "= " + number_text(r_end) + " must be finite and >= 0");
  if (!(point >= 0 && point <= 1)) bad("budget-point", "= " + number_text(point) + " must be in [0, 1]");
  if (!(window > 0 && window <= 1)) bad("budget-window", "= " + number_text(window) + " must be in (0, 1]");
  return BudgetProfile(static_cast<BudgetProfile::Kind>(it - budget_profile_names.begin()), r_start, r_end, point,
                       window, paper_last_round);
}

}  // namespace decent
