#pragma once
/// @file What happens after the local step at step t of a run: nothing, k gossip rounds, or a merge
/// (exact global average), and what the whole run spends.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "decent/schedule/budget.hpp"

namespace decent {

/// The kind of communication after a local step.
enum class ActionKind { none, gossip, merge };

/// What the nodes do after one local step.
struct Action {
  ActionKind kind = ActionKind::none;
  /// Gossip rounds to run (> 0 for gossip, 0 otherwise).
  int rounds = 0;
  /// Per-round budget r (extra neighbours per node) for a random topology; other topologies ignore it and
  /// vary `rounds` instead. 0 for none and merge.
  double budget = 0;

  bool communicates() const noexcept { return kind != ActionKind::none; }
  bool operator==(const Action&) const = default;
};

/// Plain schedule parameters; the comments give the config key of each.
struct ScheduleOptions {
  /// `steps`: T, the number of local steps t = 0 .. T-1; >= 1.
  std::int64_t steps = 0;
  /// `gossip-every`: H >= 1. Communicate after every block of H local steps, i.e. after steps t with
  /// (t + 1) % H == 0, and after the last step t = T-1 (which closes a shorter final block when H does not divide
  /// T, as in the paper's loop). H = 1 is D-SGD.
  std::int64_t gossip_every = 1;
  /// `rounds`: gossip rounds per communication step when no profile drives them; >= 0 (0 = never gossip).
  int rounds = 1;
  /// `budget-profile`: "" or "none" (no profile), or one of budget_profile_names.
  std::string profile = "";
  /// `budget-target`: "budget" (the profile gives r for a random topology, `rounds` rounds each time) or
  /// "rounds" (rounds = max(0, lround(r(p))), half away from zero; r stays `r`). "rounds" needs a profile.
  std::string profile_target = "budget";
  /// `r`: r_start of the profile; without a profile (or with target "rounds") the constant budget r. >= 0.
  double r_start = 1;
  /// `r-end`: the profile's end value, and the budget of the post-merge rounds. >= 0.
  double r_end = 1;
  /// `budget-point`: late-switch / dense-window start, in progress units; in [0, 1].
  double point = 0.5;
  /// `budget-window`: dense-window length, in progress units; in (0, 1].
  double window = 0.1;
  /// `budget-paper-last-round`: the paper's quirk, every non-fixed profile gives r-end at p >= 1 (see
  /// BudgetProfile::r). Off by default.
  bool paper_last_round = false;
  /// `final-merge`: merge after the last step (replaces that step's gossip).
  bool final_merge = true;
  /// `merge-every`: M >= 0; merge after steps t with (t + 1) % M == 0 (0 = off). A merge replaces the gossip
  /// of that step; one falling on the last step happens even with final-merge = false.
  std::int64_t merge_every = 0;
  /// `post-merge-rounds`: gossip rounds after training, run after the action of the last step (the paper's
  /// gossip-only rounds that approximate a merge), with budget r-end, usually on another topology (the
  /// paper's end_topology). >= 0. Must be 0 if the last step is a merge: after an exact merge all nodes are
  /// equal and gossip cannot change them.
  int post_merge_rounds = 0;
};

/// What a whole run spends, computed in advance.
struct SchedulePlan {
  /// Steps whose action communicates (gossip or merge), excluding the post-merge rounds.
  std::int64_t communication_steps = 0;
  /// Steps whose action is gossip, and the rounds they run in total.
  std::int64_t gossip_steps = 0;
  std::int64_t gossip_rounds = 0;
  /// Merges, periodic and final.
  std::int64_t merges = 0;
  /// Gossip rounds after training (ScheduleOptions::post_merge_rounds).
  std::int64_t post_merge_rounds = 0;
  /// Step t of every communication step (gossip or merge), increasing; with the rounds of each (0 for a merge).
  std::vector<std::int64_t> comm_steps;
  std::vector<int> comm_rounds;
  /// Step t of every merge, increasing.
  std::vector<std::int64_t> merge_steps;
  /// Budget r of every gossip round in the order they run, the post-merge rounds last:
  /// size gossip_rounds + post_merge_rounds.
  std::vector<double> round_budgets;
  /// Sum of round_budgets.
  double budget_sum = 0;

  /// All gossip rounds, during and after training.
  std::int64_t total_gossip_rounds() const noexcept { return gossip_rounds + post_merge_rounds; }
};

/// The communication schedule of a run. Progress for the profile is measured as in the paper: after local step t
/// the nodes have completed t + 1 steps, and p = (t + 1) / T (a double division), so the first block's
/// communication sees p = H / T and the last step's p = 1.
class Schedule {
public:
  /// Validates (std::invalid_argument naming the config key and the allowed values).
  explicit Schedule(ScheduleOptions options);

  /// The action after local step `step` in [0, T) (std::out_of_range otherwise). Precedence: merge (final or
  /// periodic), then gossip at a block end, else none; gossip with 0 rounds is none.
  Action at(std::int64_t step) const;
  /// The post-merge rounds after training: gossip with post_merge_rounds rounds and budget r-end, or none.
  Action after_training() const;
  /// The progress p the profile sees at the communication point after step `step`: (step + 1) / T.
  double progress(std::int64_t step) const;

  /// Everything the run will spend (O(T / H + T / M), without calling at() per step).
  SchedulePlan plan() const;
  /// One line for the driver, e.g. "T=30000, every 100 steps: 1 round, r 0.2 -> 31 at p = 0.997; ...".
  std::string describe() const;

  const ScheduleOptions& options() const noexcept { return options_; }
  /// The budget profile, if one is configured.
  const std::optional<BudgetProfile>& profile() const noexcept { return profile_; }

private:
  bool is_merge(std::int64_t completed) const noexcept;
  Action gossip_action(std::int64_t completed) const;

  ScheduleOptions options_;
  std::optional<BudgetProfile> profile_;
  bool target_rounds_ = false;
};

}  // namespace decent
