#include "decent/schedule/schedule.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace decent;
using Catch::Contains;

namespace {

ScheduleOptions options(std::int64_t steps, std::int64_t every = 1) {
  ScheduleOptions o;
  o.steps = steps;
  o.gossip_every = every;
  return o;
}

std::vector<std::int64_t> comm_steps(const Schedule& s) {
  std::vector<std::int64_t> out;
  for (std::int64_t t = 0; t < s.options().steps; ++t)
    if (s.at(t).communicates()) out.push_back(t);
  return out;
}

}  // namespace

TEST_CASE("schedule: D-SGD gossips after every step and merges after the last", "[schedule]") {
  const Schedule s(options(5));
  for (std::int64_t t = 0; t < 4; ++t) CHECK(s.at(t) == Action{ActionKind::gossip, 1, 1.0});
  CHECK(s.at(4) == Action{ActionKind::merge, 0, 0.0});
  CHECK(s.after_training() == Action{});
  CHECK_THROWS_AS(s.at(5), std::out_of_range);
  CHECK_THROWS_AS(s.at(-1), std::out_of_range);
}

TEST_CASE("schedule: blocks of H steps, and a shorter last block", "[schedule]") {
  auto o = options(10, 3);
  o.final_merge = false;
  o.rounds = 2;
  o.r_start = 0.5;
  const Schedule s(o);
  CHECK(comm_steps(s) == std::vector<std::int64_t>{2, 5, 8, 9});
  CHECK(s.at(0) == Action{});
  CHECK(s.at(2) == Action{ActionKind::gossip, 2, 0.5});
  CHECK(s.at(9) == Action{ActionKind::gossip, 2, 0.5});
  // H larger than T: a single communication after the last step.
  auto once = options(10, 50);
  once.final_merge = false;
  CHECK(comm_steps(Schedule(once)) == std::vector<std::int64_t>{9});
}

TEST_CASE("schedule: merges replace gossip, periodic merges are independent of H", "[schedule]") {
  auto o = options(12, 2);
  o.merge_every = 5;
  const Schedule s(o);
  CHECK(s.at(4).kind == ActionKind::merge);   // 5 completed steps, not a gossip point
  CHECK(s.at(9).kind == ActionKind::merge);   // 10 completed: both a gossip and a merge point
  CHECK(s.at(11).kind == ActionKind::merge);  // the final merge
  CHECK(s.at(5).kind == ActionKind::gossip);
  CHECK(s.at(6).kind == ActionKind::none);
  const auto plan = s.plan();
  CHECK(plan.merge_steps == std::vector<std::int64_t>{4, 9, 11});
  CHECK(plan.comm_steps == std::vector<std::int64_t>{1, 3, 4, 5, 7, 9, 11});
  CHECK(plan.comm_rounds == std::vector<int>{1, 1, 0, 1, 1, 0, 0});
  // A periodic merge on the last step happens without final-merge too.
  auto periodic = options(10, 1);
  periodic.final_merge = false;
  periodic.merge_every = 5;
  CHECK(Schedule(periodic).at(9).kind == ActionKind::merge);
}

TEST_CASE("schedule: progress is completed steps over T, as in the paper", "[schedule]") {
  auto o = options(100, 10);
  o.final_merge = false;
  o.profile = "linear";
  o.r_start = 0;
  o.r_end = 10;
  const Schedule s(o);
  CHECK(s.progress(9) == 0.1);
  CHECK(s.progress(99) == 1.0);
  CHECK(s.at(9).budget == Approx(1.0));   // after 10 completed steps: p = 0.1
  CHECK(s.at(49).budget == Approx(5.0));
  CHECK(s.at(99).budget == Approx(10.0));
  CHECK(s.at(9).rounds == 1);
}

TEST_CASE("schedule: a profile can drive the number of rounds", "[schedule]") {
  auto o = options(8, 1);
  o.final_merge = false;
  o.profile = "linear";
  o.profile_target = "rounds";
  o.r_start = 0;
  o.r_end = 4;
  o.rounds = 7;  // ignored when the profile gives the rounds
  const Schedule s(o);
  // p = (t + 1) / 8, r = 4 p = 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4; lround rounds halves away from zero.
  const std::vector<int> expected{1, 1, 2, 2, 3, 3, 4, 4};
  for (std::int64_t t = 0; t < 8; ++t) {
    CHECK(s.at(t).rounds == expected[static_cast<std::size_t>(t)]);
    CHECK(s.at(t).budget == 0);  // r (r_start) stays the random-graph budget
  }
  o.r_start = 0.4;  // rounds 0 at the start: those steps do not communicate
  o.r_end = 0.4;
  CHECK(Schedule(o).at(0) == Action{});
  CHECK(Schedule(o).plan().communication_steps == 0);
}

TEST_CASE("schedule: budget-profile none is no profile", "[schedule]") {
  auto o = options(10, 2);
  o.profile = "none";
  o.r_start = 0.3;
  const Schedule s(o);
  CHECK_FALSE(s.profile().has_value());
  CHECK(s.at(1) == Action{ActionKind::gossip, 1, 0.3});
  o.profile = "cosine";
  CHECK(Schedule(o).profile()->name() == "cosine");
}

TEST_CASE("schedule: rounds = 0 never gossips", "[schedule]") {
  auto o = options(20, 2);
  o.rounds = 0;
  const Schedule s(o);
  CHECK(comm_steps(s) == std::vector<std::int64_t>{19});  // only the final merge
  CHECK(s.plan().gossip_rounds == 0);
}

TEST_CASE("schedule: post-merge rounds follow the last step when it is not a merge", "[schedule]") {
  auto o = options(100, 10);
  o.final_merge = false;
  o.post_merge_rounds = 16;
  o.r_start = 0.2;
  o.r_end = 3;
  const Schedule s(o);
  CHECK(s.at(99) == Action{ActionKind::gossip, 1, 0.2});
  CHECK(s.after_training() == Action{ActionKind::gossip, 16, 3.0});
  const auto plan = s.plan();
  CHECK(plan.post_merge_rounds == 16);
  CHECK(plan.gossip_rounds == 10);
  CHECK(plan.total_gossip_rounds() == 26);
  CHECK(plan.round_budgets.size() == 26);
  CHECK(plan.round_budgets.back() == 3.0);
  CHECK(plan.budget_sum == Approx(10 * 0.2 + 16 * 3.0));
}

TEST_CASE("schedule: the paper's Figure-1 preset is 300 rounds, only the last dense", "[schedule]") {
  for (bool quirk : {false, true}) {
    INFO("paper_last_round " << quirk);
    ScheduleOptions o;
    o.steps = 30000;
    o.gossip_every = 100;
    o.profile = "late-switch";
    o.r_start = 0.2;
    o.r_end = 31;
    o.point = 0.997;
    o.paper_last_round = quirk;
    o.final_merge = false;  // the dense random round (r = n - 1 = 31) is the merge
    const Schedule s(o);
    const auto plan = s.plan();
    CHECK(plan.communication_steps == 300);
    CHECK(plan.gossip_steps == 300);
    CHECK(plan.merges == 0);
    REQUIRE(plan.round_budgets.size() == 300);
    for (std::size_t i = 0; i + 1 < 300; ++i) REQUIRE(plan.round_budgets[i] == 0.2);
    CHECK(plan.round_budgets.back() == 31);
    CHECK(plan.comm_steps.front() == 99);
    CHECK(plan.comm_steps.back() == 29999);
    CHECK(s.at(29899).budget == 0.2);  // p = 0.99666... < 0.997
    CHECK(s.at(29999).budget == 31);

    // The same run with the library's exact merge in place of the dense round.
    o.final_merge = true;
    const auto merged = Schedule(o).plan();
    CHECK(merged.communication_steps == 300);
    CHECK(merged.gossip_steps == 299);
    CHECK(merged.merge_steps == std::vector<std::int64_t>{29999});
    CHECK(merged.budget_sum == Approx(299 * 0.2));
  }
}

TEST_CASE("schedule: at() reproduces compute_r with the paper's quirk", "[schedule]") {
  // Paper: gossip at step = every multiple of k_steps with r = compute_r(step, 0, max_steps, ...).
  for (auto name : budget_profile_names) {
    ScheduleOptions o;
    o.steps = 1000;
    o.gossip_every = 10;
    o.profile = std::string(name);
    o.r_start = 0.2;
    o.r_end = 15;
    o.point = 0.3;
    o.window = 0.05;
    o.paper_last_round = true;
    o.final_merge = false;
    const Schedule s(o);
    const auto profile = make_budget_profile(name, 0.2, 15, 0.3, 0.05, true);
    for (std::int64_t step = 10; step <= 1000; step += 10) {
      INFO(name << " at step " << step);
      REQUIRE(s.at(step - 1).budget == profile.r(static_cast<double>(step) / 1000.0));
    }
    CHECK(s.at(999).budget == (name == "fixed" ? 0.2 : 15.0));
  }
}

TEST_CASE("schedule: plan() announces exactly what at() spends", "[schedule]") {
  std::vector<std::string> profile_names{""};
  for (auto n : budget_profile_names) profile_names.emplace_back(n);
  int checked = 0;
  for (std::int64_t T : {1, 7, 100, 1000})
    for (std::int64_t H : {1, 3, 10, 100, 2000})
      for (int rounds : {0, 1, 3})
        for (const auto& profile : profile_names)
          for (const char* target : {"budget", "rounds"})
            for (std::int64_t M : {0, 4, 50})
              for (bool final_merge : {true, false})
                for (int post : {0, 5})
                  for (bool quirk : {false, true}) {
                    if (profile.empty() && std::string(target) == "rounds") continue;
                    const bool last_is_merge = final_merge || (M > 0 && T % M == 0);
                    if (post > 0 && last_is_merge) continue;
                    ScheduleOptions o;
                    o.steps = T;
                    o.gossip_every = H;
                    o.rounds = rounds;
                    o.profile = profile;
                    o.profile_target = target;
                    o.r_start = 0.4;
                    o.r_end = 3.6;
                    o.point = 0.3;
                    o.window = 0.2;
                    o.paper_last_round = quirk;
                    o.merge_every = M;
                    o.final_merge = final_merge;
                    o.post_merge_rounds = post;
                    const Schedule s(o);
                    SchedulePlan seen;
                    for (std::int64_t t = 0; t < T; ++t) {
                      const Action a = s.at(t);
                      if (a.kind == ActionKind::none) {
                        REQUIRE(a == Action{});
                        continue;
                      }
                      ++seen.communication_steps;
                      seen.comm_steps.push_back(t);
                      seen.comm_rounds.push_back(a.rounds);
                      if (a.kind == ActionKind::merge) {
                        REQUIRE(a.rounds == 0);
                        ++seen.merges;
                        seen.merge_steps.push_back(t);
                      } else {
                        REQUIRE(a.rounds > 0);
                        ++seen.gossip_steps;
                        seen.gossip_rounds += a.rounds;
                        for (int k = 0; k < a.rounds; ++k) seen.round_budgets.push_back(a.budget);
                      }
                    }
                    const Action after = s.after_training();
                    seen.post_merge_rounds = after.rounds;
                    for (int k = 0; k < after.rounds; ++k) seen.round_budgets.push_back(after.budget);
                    for (double b : seen.round_budgets) seen.budget_sum += b;

                    const SchedulePlan plan = s.plan();
                    INFO("T " << T << " H " << H << " rounds " << rounds << " profile '" << profile << "' target "
                              << target << " M " << M << " final " << final_merge << " post " << post);
                    REQUIRE(plan.communication_steps == seen.communication_steps);
                    REQUIRE(plan.gossip_steps == seen.gossip_steps);
                    REQUIRE(plan.gossip_rounds == seen.gossip_rounds);
                    REQUIRE(plan.merges == seen.merges);
                    REQUIRE(plan.post_merge_rounds == post);
                    REQUIRE(plan.comm_steps == seen.comm_steps);
                    REQUIRE(plan.comm_rounds == seen.comm_rounds);
                    REQUIRE(plan.merge_steps == seen.merge_steps);
                    REQUIRE(plan.round_budgets == seen.round_budgets);
                    REQUIRE(plan.budget_sum == seen.budget_sum);
                    REQUIRE(plan.communication_steps == plan.gossip_steps + plan.merges);
                    REQUIRE(static_cast<std::int64_t>(plan.round_budgets.size()) == plan.total_gossip_rounds());
                    ++checked;
                  }
  CHECK(checked > 5000);
}

TEST_CASE("schedule: describe is one line with the totals", "[schedule]") {
  ScheduleOptions o;
  o.steps = 30000;
  o.gossip_every = 100;
  o.profile = "late-switch";
  o.r_start = 0.2;
  o.r_end = 31;
  o.point = 0.997;
  const std::string d = Schedule(o).describe();
  CHECK(d.find('\n') == std::string::npos);
  CHECK_THAT(d, Contains("30000 steps") && Contains("late-switch") && Contains("300 communication steps") &&
                    Contains("1 merge"));
}

TEST_CASE("schedule: bad options throw naming the key", "[schedule]") {
  const auto throws_with = [](ScheduleOptions o, const std::string& key) {
    INFO(key);
    CHECK_THROWS_AS(Schedule(o), std::invalid_argument);
    CHECK_THROWS_WITH(Schedule(o), Contains(key));
  };
  const ScheduleOptions good = options(100, 10);
  CHECK_NOTHROW(Schedule(good));
  auto o = good;
  o.steps = 0;
  throws_with(o, "steps");
  o = good;
  o.gossip_every = 0;
  throws_with(o, "gossip-every");
  o = good;
  o.rounds = -1;
  throws_with(o, "rounds");
  o = good;
  o.profile = "truncate";
  throws_with(o, "budget-profile");
  throws_with(o, "late-switch");
  o = good;
  o.r_start = -0.5;
  throws_with(o, "r =");
  o = good;
  o.r_end = -0.5;
  throws_with(o, "r-end");
  o = good;
  o.point = 2;
  throws_with(o, "budget-point");
  o = good;
  o.window = 0;
  throws_with(o, "budget-window");
  o = good;
  o.profile_target = "neighbours";
  throws_with(o, "budget-target");
  throws_with(o, "budget, rounds");
  o = good;
  o.profile_target = "rounds";  // without a profile
  throws_with(o, "budget-target");
  o = good;
  o.profile = "linear";
  o.profile_target = "rounds";
  o.r_end = 1e7;
  throws_with(o, "r-end");
  o = good;
  o.merge_every = -1;
  throws_with(o, "merge-every");
  o = good;
  o.post_merge_rounds = -1;
  throws_with(o, "post-merge-rounds");
  o = good;
  o.post_merge_rounds = 4;  // final_merge is on by default
  throws_with(o, "post-merge-rounds");
  throws_with(o, "final-merge");
  o.final_merge = false;
  o.merge_every = 50;  // divides steps: the last step is a merge anyway
  throws_with(o, "merge-every");
  o.merge_every = 30;
  CHECK_NOTHROW(Schedule(o));
}
