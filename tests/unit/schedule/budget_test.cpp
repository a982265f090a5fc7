#include "decent/schedule/budget.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include <catch2/catch.hpp>

using namespace decent;
using Catch::Contains;

namespace {

// A transcription of compute_r from the paper's code (core/communication.py), with its own names and its own
// control flow, to compare against bit for bit.
double paper_compute_r(double current_iter, double start_iter, double end_iter, double r_start, double r_end,
                       double point1, double window_size, const std::string& schedule) {
  if (schedule == "fixed") return std::max(r_start, 0.0);
  if (current_iter < start_iter) return std::max(r_start, 0.0);
  if (current_iter >= end_iter) return std::max(r_end, 0.0);
  const double progress = (current_iter - start_iter) / (end_iter - start_iter);
  double r = 0;
  if (schedule == "linear") {
    r = r_start - (r_start - r_end) * progress;
  } else if (schedule == "cosine") {
    r = r_end + 0.5 * (r_start - r_end) * (1 + std::cos(std::numbers::pi * progress));
  } else if (schedule == "slow_decrease") {
    r = r_end + (r_start - r_end) * std::exp(-10 * progress);
  } else if (schedule == "slow_grow") {
    const double adjusted = std::pow(progress, 1);
    r = r_start + (16 - r_start) * std::log10(1 + std::pow(adjusted, 80) * 9);
  } else if (schedule == "truncate") {
    r = progress < point1 ? r_start : r_end;
  } else if (schedule == "truncate_v2") {
    const double point2 = point1 + window_size;
    if (progress < point1)
      r = r_start;
    else if (progress < point2)
      r = r_end;
    else
      r = r_start;
  } else {
    throw std::logic_error("unknown schedule " + schedule);
  }
  return std::max(r, 0.0);
}

struct Pair {
  const char* ours;
  const char* paper;
};
constexpr Pair profiles[] = {{"fixed", "fixed"},
                             {"linear", "linear"},
                             {"cosine", "cosine"},
                             {"slow-decrease", "slow_decrease"},
                             {"slow-grow", "slow_grow"},
                             {"late-switch", "truncate"},
                             {"dense-window", "truncate_v2"}};

}  // namespace

TEST_CASE("budget: each profile at chosen p against its formula", "[schedule][budget]") {
  const double s = 1, e = 3;
  const auto r = [&](const char* name, double p) { return make_budget_profile(name, s, e, 0.4, 0.2).r(p); };
  CHECK(r("fixed", 0) == 1);
  CHECK(r("fixed", 0.7) == 1);
  CHECK(r("fixed", 1) == 1);
  CHECK(r("linear", 0) == 1);
  CHECK(r("linear", 0.25) == Approx(1.5));
  CHECK(r("linear", 1) == Approx(3));
  CHECK(r("cosine", 0) == Approx(1));
  CHECK(r("cosine", 0.5) == Approx(2));
  CHECK(r("cosine", 1.0 / 3) == Approx(3 - 2 * 0.75));  // e + (s - e)(1 + 1/2)/2
  CHECK(r("cosine", 1) == Approx(3));
  CHECK(r("slow-decrease", 0) == Approx(1));
  CHECK(r("slow-decrease", 0.1) == Approx(3 - 2 * std::exp(-1.0)));
  CHECK(r("slow-decrease", 1) == Approx(3 - 2 * std::exp(-10.0)));  // not r_end without the paper quirk
  CHECK(r("slow-grow", 0) == 1);
  CHECK(r("slow-grow", 0.5) == Approx(1 + 15 * std::log10(1 + 9 * std::pow(0.5, 80))));
  CHECK(r("slow-grow", 0.99) == Approx(1 + 15 * std::log10(1 + 9 * std::pow(0.99, 80))));
  CHECK(r("slow-grow", 1) == Approx(slow_grow_target));  // grows to 16 whatever r_end is
  CHECK(r("late-switch", 0.39) == 1);
  CHECK(r("late-switch", 0.4) == 3);
  CHECK(r("late-switch", 1) == 3);
  CHECK(r("dense-window", 0.39) == 1);
  CHECK(r("dense-window", 0.4) == 3);
  CHECK(r("dense-window", 0.59) == 3);
  CHECK(r("dense-window", 0.61) == 1);  // the window [point, point + window) is half-open
  // point + window is a double sum, as in the paper: 0.4 + 0.2 = 0.6000000000000001, so p = 0.6 is still inside.
  CHECK(r("dense-window", 0.6) == 3);
  CHECK(r("dense-window", 1) == 1);
  // Values are clamped at 0 (slow-grow with r_start > 16 decreases towards 16 and stays positive).
  CHECK(make_budget_profile("slow-grow", 20, 0, 0, 1).r(1) == Approx(16));
}

TEST_CASE("budget: the paper's last-round quirk is opt-in", "[schedule][budget]") {
  for (const auto& [ours, paper] : profiles) {
    INFO(ours);
    const auto quirk = make_budget_profile(ours, 0.2, 31, 0.1, 0.05, true);
    CHECK(quirk.paper_last_round());
    CHECK(quirk.r(1.0) == (std::string(ours) == "fixed" ? 0.2 : 31.0));
    CHECK(quirk.r(0.5) == make_budget_profile(ours, 0.2, 31, 0.1, 0.05).r(0.5));
  }
  CHECK_FALSE(make_budget_profile("dense-window", 0.2, 31, 0.1, 0.05).paper_last_round());
  CHECK(make_budget_profile("dense-window", 0.2, 31, 0.1, 0.05).r(1.0) == 0.2);
  CHECK(make_budget_profile("slow-grow", 0.2, 31, 0.1, 0.05).r(1.0) == Approx(16));
}

TEST_CASE("budget: with the quirk, every profile reproduces compute_r exactly", "[schedule][budget]") {
  struct Params {
    double s, e, point, window;
  };
  for (const Params& q : {Params{0.2, 31, 0.997, 0.05}, Params{0.2, 31, 0.5, 0.05}, Params{3, 1, 0.1, 0.3},
                          Params{1, 3, 0, 0.1}, Params{0, 7, 0.9, 1}, Params{20, 0.5, 0.25, 0.25}})
    for (const auto& [ours, paper] : profiles) {
      INFO(ours << " r " << q.s << " -> " << q.e << " point " << q.point << " window " << q.window);
      const auto profile = make_budget_profile(ours, q.s, q.e, q.point, q.window, true);
      for (std::int64_t T : {1, 7, 1000, 30000})
        for (std::int64_t step = 0; step <= T; step += std::max<std::int64_t>(1, T / 997)) {
          const double p = static_cast<double>(step) / static_cast<double>(T);
          REQUIRE(profile.r(p) ==
                  paper_compute_r(static_cast<double>(step), 0, static_cast<double>(T), q.s, q.e, q.point, q.window, paper));
        }
    }
}

TEST_CASE("budget: names, accessors and describe", "[schedule][budget]") {
  for (auto name : budget_profile_names) {
    const auto p = make_budget_profile(name, 0.5, 2, 0.3, 0.1);
    CHECK(p.name() == name);
    CHECK(p.r_start() == 0.5);
    CHECK(p.r_end() == 2);
    CHECK(p.point() == 0.3);
    CHECK(p.window() == 0.1);
    CHECK(p.describe().find(std::string(name)) == 0);
  }
}

TEST_CASE("budget: bad values throw naming the key", "[schedule][budget]") {
  CHECK_THROWS_AS(make_budget_profile("steep", 1, 1, 0.5, 0.1), std::invalid_argument);
  CHECK_THROWS_WITH(make_budget_profile("steep", 1, 1, 0.5, 0.1),
                    Contains("budget-profile") && Contains("fixed, linear, cosine, slow-decrease, slow-grow, "
                                                           "late-switch, dense-window"));
  CHECK_THROWS_WITH(make_budget_profile("truncate", 1, 1, 0.5, 0.1), Contains("late-switch"));
  CHECK_THROWS_WITH(make_budget_profile("truncate_v2", 1, 1, 0.5, 0.1), Contains("dense-window"));
  CHECK_THROWS_WITH(make_budget_profile("linear", -1, 1, 0.5, 0.1), Contains("r ") && !Contains("r-end"));
  CHECK_THROWS_WITH(make_budget_profile("linear", 1, -1, 0.5, 0.1), Contains("r-end"));
  CHECK_THROWS_WITH(make_budget_profile("linear", 1, NAN, 0.5, 0.1), Contains("r-end"));
  CHECK_THROWS_WITH(make_budget_profile("linear", INFINITY, 1, 0.5, 0.1), Contains("r "));
  CHECK_THROWS_WITH(make_budget_profile("linear", 1, 1, 1.5, 0.1), Contains("budget-point") && Contains("[0, 1]"));
  CHECK_THROWS_WITH(make_budget_profile("linear", 1, 1, -0.1, 0.1), Contains("budget-point"));
  CHECK_THROWS_WITH(make_budget_profile("linear", 1, 1, 0.5, 0), Contains("budget-window") && Contains("(0, 1]"));
  CHECK_THROWS_WITH(make_budget_profile("linear", 1, 1, 0.5, 1.01), Contains("budget-window"));
}
