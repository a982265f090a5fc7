#include "decent/optim/lr_schedule.hpp"

#include <cmath>
#include <numbers>

#include <catch2/catch.hpp>

using namespace decent;
using Catch::Contains;

TEST_CASE("lr: constant", "[optim][lr]") {
  const auto s = make_lr_schedule("constant", 0.1f, 50);
  for (std::int64_t t : {0, 1, 25, 49}) CHECK(s.at(t) == 0.1f);
  CHECK(s.name() == "constant");
  CHECK(s.total_steps() == 50);
}

TEST_CASE("lr: step multiplies by gamma at each milestone", "[optim][lr]") {
  const auto s = make_lr_schedule("step", 1.0f, 100, {.milestones = {30, 60}, .gamma = 0.1f});
  CHECK(s.at(0) == 1.0f);
  CHECK(s.at(29) == 1.0f);
  CHECK(s.at(30) == Approx(0.1f));
  CHECK(s.at(59) == Approx(0.1f));
  CHECK(s.at(60) == Approx(0.01f));
  CHECK(s.at(99) == Approx(0.01f));
  const auto none = make_lr_schedule("step", 0.5f, 10, {});
  CHECK(none.at(9) == 0.5f);
}

TEST_CASE("lr: cosine from lr to lr_min (CosineAnnealingLR)", "[optim][lr]") {
  const float lr = 0.2f, lo = 0.002f;
  const std::int64_t T = 1000;
  const auto s = make_lr_schedule("cosine", lr, T, {.lr_min = lo});
  for (std::int64_t t : {0, 1, 250, 500, 777, 999}) {
    const double expected = lo + (lr - lo) * 0.5 * (1 + std::cos(std::numbers::pi * static_cast<double>(t) / T));
    CHECK(s.at(t) == Approx(expected).epsilon(1e-6));
  }
  CHECK(s.at(0) == Approx(lr));
  CHECK(s.at(500) == Approx((lr + lo) / 2));
}

TEST_CASE("lr: linear warm-up, then the schedule on the remaining steps", "[optim][lr]") {
  SECTION("from 0") {
    const auto s = make_lr_schedule("cosine", 0.1f, 110, {.warmup_steps = 10});
    CHECK(s.at(0) == 0.0f);
    CHECK(s.at(5) == Approx(0.05f));
    CHECK(s.at(9) == Approx(0.09f));
    CHECK(s.at(10) == Approx(0.1f));              // cosine progress 0
    CHECK(s.at(60) == Approx(0.05f));             // progress 50 / 100
    CHECK(s.at(109) == Approx(0.1 * 0.5 * (1 + std::cos(std::numbers::pi * 0.99))));
  }
  SECTION("from a start factor") {
    const auto s = make_lr_schedule("constant", 0.1f, 20, {.warmup_steps = 4, .warmup_start_factor = 0.2f});
    CHECK(s.at(0) == Approx(0.02f));
    CHECK(s.at(2) == Approx(0.1f * (0.2f + 0.8f * 0.5f)));
    CHECK(s.at(4) == 0.1f);
  }
  SECTION("step milestones count absolute steps") {
    const auto s = make_lr_schedule("step", 1.0f, 20, {.warmup_steps = 5, .milestones = {10}, .gamma = 0.5f});
    CHECK(s.at(4) == Approx(0.8f));
    CHECK(s.at(5) == 1.0f);
    CHECK(s.at(10) == 0.5f);
  }
}

TEST_CASE("lr: constant-then-zero switches at floor(T / 2)", "[optim][lr]") {
  const auto even = make_lr_schedule("constant-then-zero", 0.01f, 10);
  CHECK(even.at(4) == 0.01f);
  CHECK(even.at(5) == 0.0f);
  CHECK(even.at(9) == 0.0f);
  const auto odd = make_lr_schedule("constant-then-zero", 0.01f, 11);  // int(11 * 0.5) = 5
  CHECK(odd.at(4) == 0.01f);
  CHECK(odd.at(5) == 0.0f);
}

TEST_CASE("lr: describe is one line", "[optim][lr]") {
  const auto s = make_lr_schedule("cosine", 0.1f, 100, {.warmup_steps = 5, .lr_min = 0.001f});
  const std::string d = s.describe();
  CHECK(d.find('\n') == std::string::npos);
  CHECK_THAT(d, Contains("cosine") && Contains("warm-up 5"));
}

TEST_CASE("lr: errors name the key and the allowed values", "[optim][lr]") {
  CHECK_THROWS_WITH(make_lr_schedule("linear", 0.1f, 10),
                    Contains("lr-schedule") && Contains("constant, step, cosine, constant-then-zero"));
  CHECK_THROWS_AS(make_lr_schedule("linear", 0.1f, 10), std::invalid_argument);
  CHECK_THROWS_WITH(make_lr_schedule("constant", -0.1f, 10), Contains("lr"));
  CHECK_THROWS_WITH(make_lr_schedule("constant", NAN, 10), Contains("lr"));
  CHECK_THROWS_WITH(make_lr_schedule("constant", 0.1f, 0), Contains("steps"));
  CHECK_THROWS_WITH(make_lr_schedule("constant", 0.1f, 10, {.warmup_steps = 11}), Contains("lr-warmup-steps"));
  CHECK_THROWS_WITH(make_lr_schedule("constant", 0.1f, 10, {.warmup_steps = -1}), Contains("lr-warmup-steps"));
  CHECK_THROWS_WITH(make_lr_schedule("cosine", 0.1f, 10, {.warmup_steps = 10}), Contains("lr-warmup-steps"));
  CHECK_THROWS_WITH(make_lr_schedule("constant", 0.1f, 10, {.warmup_steps = 2, .warmup_start_factor = 1.5f}),
                    Contains("lr-warmup-start-factor"));
  CHECK_THROWS_WITH(make_lr_schedule("step", 0.1f, 10, {.gamma = 0}), Contains("lr-gamma"));
  CHECK_THROWS_WITH(make_lr_schedule("step", 0.1f, 10, {.milestones = {5, 3}}), Contains("lr-milestones"));
  CHECK_THROWS_WITH(make_lr_schedule("step", 0.1f, 10, {.milestones = {10}}), Contains("lr-milestones"));
  CHECK_THROWS_WITH(make_lr_schedule("cosine", 0.1f, 10, {.lr_min = 0.2f}), Contains("lr-min"));
  const auto s = make_lr_schedule("constant", 0.1f, 10);
  CHECK_THROWS_AS(s.at(-1), std::out_of_range);
  CHECK_THROWS_AS(s.at(10), std::out_of_range);
}
