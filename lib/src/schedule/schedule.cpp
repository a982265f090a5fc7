#include "decent/schedule/schedule.hpp"
#include "core/number_text.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace decent {

using detail::number_text;

namespace {

// Rounds per communication step above this are a configuration error (and would overflow int).
constexpr double max_rounds = 1e6;

[[noreturn]] void bad(std::string_view key, const std::string& problem) {
  throw std::invalid_argument("schedule: " + std::string(key) + " " + problem);
}


// The smallest multiple of k that is > c, or `cap` if that exceeds cap (k >= 1, 0 <= c <= cap).
std::int64_t next_multiple(std::int64_t c, std::int64_t k, std::int64_t cap) {
  if (k > cap - c) return cap;
  return std::min(cap, (c / k + 1) * k);
}

}  // namespace

Schedule::Schedule(ScheduleOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  if (o.steps < 1) bad("steps", "= " + std::to_string(o.steps) + " must be >= 1");
  if (o.gossip_every < 1) bad("gossip-every", "= " + std::to_string(o.gossip_every) + " must be >= 1");
  if (o.rounds < 0) bad("rounds", "= " + std::to_string(o.rounds) + " must be >= 0");
  // Checks r, r-end, budget-point, budget-window and the profile name, with or without a profile.
  const bool no_profile = o.profile.empty() || o.profile == "none";
  const auto profile =
      make_budget_profile(no_profile ? "fixed" : o.profile, o.r_start, o.r_end, o.point, o.window, o.paper_last_round);
  if (!no_profile) profile_ = profile;
  if (o.profile_target == "rounds") {
    if (!profile_) bad("budget-target", "= rounds needs a budget-profile: the profile's r(p) gives the rounds");
    target_rounds_ = true;
    if (o.r_start > max_rounds)
      bad("r", "= " + number_text(o.r_start) + " is a round count here (budget-target = rounds): must be <= 1e6");
    if (o.r_end > max_rounds)
      bad("r-end", "= " + number_text(o.r_end) + " is a round count here (budget-target = rounds): must be <= 1e6");
  } else if (o.profile_target != "budget") {
    bad("budget-target", "= '" + o.profile_target + "' is unknown: allowed budget, rounds");
  }
  if (o.merge_every < 0) bad("merge-every", "= " + std::to_string(o.merge_every) + " must be >= 0 (0 = off)");
  if (o.post_merge_rounds < 0)
    bad("post-merge-rounds", "= " + std::to_string(o.post_merge_rounds) + " must be >= 0");
  if (o.post_merge_rounds > 0 && is_merge(o.steps))
    bad("post-merge-rounds",
        "= " + std::to_string(o.post_merge_rounds) + " needs a last step that is not a merge (set final-merge = false" +
            (o.merge_every > 0 && o.steps % o.merge_every == 0 ? " and a merge-every that does not divide steps" : "") +
            "): after an exact merge all nodes are equal and gossip cannot change them");
}

bool Schedule::is_merge(std::int64_t completed) const noexcept {
  return (options_.final_merge && completed == options_.steps) ||
         (options_.merge_every > 0 && completed % options_.merge_every == 0);
}

double Schedule::progress(std::int64_t step) const {
  return static_cast<double>(step + 1) / static_cast<double>(options_.steps);
}

Action Schedule::gossip_action(std::int64_t completed) const {
  const auto& o = options_;
  int rounds = o.rounds;
  double budget = o.r_start;
  if (profile_) {
    const double r = profile_->r(static_cast<double>(completed) / static_cast<double>(o.steps));
    if (target_rounds_)
      rounds = static_cast<int>(std::max(0L, std::lround(r)));
    else
      budget = r;
  }
  if (rounds == 0) return {};
  return {ActionKind::gossip, rounds, budget};
}

Action Schedule::at(std::int64_t step) const {
  const auto& o = options_;
  if (step < 0 || step >= o.steps)
    throw std::out_of_range("schedule: step " + std::to_string(step) + " is outside [0, steps = " +
                            std::to_string(o.steps) + ")");
  const std::int64_t completed = step + 1;
  if (is_merge(completed)) return {ActionKind::merge, 0, 0.0};
  if (completed % o.gossip_every == 0 || completed == o.steps) return gossip_action(completed);
  return {};
}

Action Schedule::after_training() const {
  if (options_.post_merge_rounds == 0) return {};
  return {ActionKind::gossip, options_.post_merge_rounds, options_.r_end};
}

SchedulePlan Schedule::plan() const {
  const auto& o = options_;
  const std::int64_t t_max = o.steps;
  const std::int64_t m = o.merge_every > 0 ? o.merge_every : std::numeric_limits<std::int64_t>::max();
  SchedulePlan plan;
  // Visit only the candidate points: multiples of H, multiples of M, and T.
  for (std::int64_t c = std::min({o.gossip_every, m, t_max}); c <= t_max;) {
    const std::int64_t step = c - 1;
    const Action a = is_merge(c) ? Action{ActionKind::merge, 0, 0.0} : gossip_action(c);
    if (a.kind == ActionKind::merge) {
      ++plan.merges;
      plan.merge_steps.push_back(step);
    } else if (a.kind == ActionKind::gossip) {
      ++plan.gossip_steps;
      plan.gossip_rounds += a.rounds;
      plan.round_budgets.insert(plan.round_budgets.end(), static_cast<std::size_t>(a.rounds), a.budget);
    }
    if (a.communicates()) {
      ++plan.communication_steps;
      plan.comm_steps.push_back(step);
      plan.comm_rounds.push_back(a.rounds);
    }
    if (c == t_max) break;
    c = std::min(next_multiple(c, o.gossip_every, t_max), next_multiple(c, m, t_max));
  }
  const Action post = after_training();
  plan.post_merge_rounds = post.rounds;
  plan.round_budgets.insert(plan.round_budgets.end(), static_cast<std::size_t>(post.rounds), post.budget);
  for (double b : plan.round_budgets) plan.budget_sum += b;
  return plan;
}

std::string Schedule::describe() const {
  const auto& o = options_;
  std::string out = "schedule: " + std::to_string(o.steps) + " steps, after every " + std::to_string(o.gossip_every) +
                    (o.gossip_every == 1 ? " step: " : " steps: ");
  if (!profile_)
    out += std::to_string(o.rounds) + (o.rounds == 1 ? " gossip round" : " gossip rounds") + " (r " +
           number_text(o.r_start) + ")";
  else if (target_rounds_)
    out += "gossip rounds = lround(" + profile_->describe() + ")";
  else
    out += std::to_string(o.rounds) + (o.rounds == 1 ? " gossip round" : " gossip rounds") + ", budget " +
           profile_->describe();
  if (o.merge_every > 0) out += "; merge every " + std::to_string(o.merge_every) + " steps";
  out += o.final_merge ? "; final merge" : "; no final merge";
  if (o.post_merge_rounds > 0)
    out += "; then " + std::to_string(o.post_merge_rounds) + " post-merge rounds (r " + number_text(o.r_end) + ")";
  const SchedulePlan p = plan();
  out += " => " + std::to_string(p.communication_steps) + " communication steps, " +
         std::to_string(p.total_gossip_rounds()) + " gossip rounds (budget sum " + number_text(p.budget_sum) + "), " +
         std::to_string(p.merges) + (p.merges == 1 ? " merge" : " merges");
  return out;
}

}  // namespace decent
