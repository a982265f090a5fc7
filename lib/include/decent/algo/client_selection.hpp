#pragma once
/// @file Which clients a synchronous FedAvg round trains (docs/federated.md#client-selection): a uniform sample,
/// Power-of-Choice (Cho, Wang and Joshi, AISTATS 2022), FLSim's high-loss sampler, or the client curriculum of
/// "When Do Curricula Work in Federated Learning?". Selectors see clients' mean training losses under the server
/// model, which the loop measures and passes in; they are pure functions of those losses and their seeds.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decent/data/curriculum.hpp"

namespace decent {

/// A uniform sample of m of the clients 0..clients-1, ascending (all of them unless 1 <= m < clients): the first
/// m of a partial Fisher-Yates shuffle on Rng(seed).
std::vector<int> uniform_clients(int clients, int m, std::uint64_t seed);
/// Round `round`'s uniform sample of a run seeded `seed`: uniform_clients on derive_seed(seed, {"SLCT", round}).
std::vector<int> uniform_round_clients(int clients, int m, std::uint64_t seed, std::int64_t round);

/// The selection rules (`client-selection`).
enum class SelectionRule {
  uniform,          ///< "uniform": a seeded uniform sample of m clients (selected_clients)
  power_of_choice,  ///< "power-of-choice:D": D uniform candidates, the m with the largest loss
  high_loss,        ///< "high-loss:T": m drawn without replacement with probability proportional to exp(T L_i)
  curriculum        ///< "curriculum": the client curriculum (next_client_round), scored by mean loss
};

/// A selection rule with its parameters.
struct ClientSelection {
  SelectionRule rule = SelectionRule::uniform;
  int candidates = 0;       ///< power-of-choice: D, in [m, n]
  double temperature = 1;   ///< high-loss: T >= 0 (0: uniform)
  CurriculumOrder order = CurriculumOrder::curr;  ///< curriculum: how client scores become an order
  Pacing pacing = Pacing::linear;                 ///< curriculum: the pool size over the budget
  double a = 0.8;  ///< curriculum: the pool holds every client after a fraction a of the budget
  double b = 0.2;  ///< curriculum: the first pool is b n clients
};

/// Parses `uniform`, `power-of-choice:D`, `high-loss:T` or `curriculum` (the curriculum's order and pacing stay
/// at their defaults). std::invalid_argument names the value and the valid forms.
ClientSelection parse_client_selection(std::string_view spec);
/// The rule's config form, e.g. "power-of-choice:3".
std::string to_string(const ClientSelection& selection);
/// One phrase for run headers: "uniform sample", "power-of-choice:3 by the clients' losses", or the curriculum's
/// order and pacing.
std::string describe(const ClientSelection& selection);
/// True unless the rule is uniform: then the round's clients depend on the clients' losses.
bool selection_reads_losses(const ClientSelection& selection) noexcept;
/// Throws std::invalid_argument naming the key unless the selection fits m = per_round of n = clients.
void check_client_selection(const ClientSelection& selection, int clients, int per_round);

/// A selector's complete state between rounds, for checkpoints.
struct SelectorState {
  std::int64_t round = 0;
  std::vector<int> pool, last;   ///< the clients offered, the last round's clients
  std::vector<double> loss;      ///< high-loss: the known losses (NaN: unknown; empty before the first round)
  ClientCurriculumState pass;    ///< curriculum: where the pass stands
};

/// The state of a selection over a run: which clients to score before a round, then which to select.
class ClientSelector {
public:
  /// A selector for `rounds` rounds of `per_round` clients out of `clients`; the streams derive from `seed`.
  /// Throws std::invalid_argument (check_client_selection) for unusable parameters.
  ClientSelector(const ClientSelection& selection, int clients, int per_round, std::int64_t rounds,
                 std::uint64_t seed);

  /// Restricts the next rounds to the clients `online` (ascending, distinct, at least one; an availability
  /// trace): uniform and power-of-choice sample among them (at most m, D of them), high-loss draws among them.
  /// std::invalid_argument for an invalid list, or for the curriculum, whose passes cover every client.
  void offer(std::vector<int> online);
  /// The clients (ascending) whose mean loss under the current server model the next round needs before it
  /// selects: power-of-choice its D candidates, high-loss every offered client whose loss it does not know yet
  /// (every client in the first round), the curriculum every client when a pass over its pool begins; empty
  /// otherwise.
  std::vector<int> wanted() const;
  /// The next round's clients (ascending), given the losses of wanted() in that order; advances the round.
  /// Throws std::invalid_argument if losses has the wrong size or holds a NaN.
  std::vector<int> select(std::span<const double> losses);
  /// The clients (ascending) whose losses under the model they just received the selector keeps (high-loss: the
  /// round's selected clients, as FLSim refreshes them); pass them to refresh().
  std::vector<int> refreshed() const;
  /// Stores the losses of refreshed() (in that order).
  void refresh(std::span<const double> losses);

  /// The state after the rounds selected so far (checkpoints).
  SelectorState state() const { return {round_, pool_, last_, loss_, pass_}; }
  /// Continues from `state` (of a selector with the same parameters); std::invalid_argument if it does not fit.
  void restore(const SelectorState& state);
  /// The rounds selected so far.
  std::int64_t round() const noexcept { return round_; }
  /// The rule and its parameters.
  const ClientSelection& selection() const noexcept { return selection_; }

private:
  std::vector<int> from_pool(const std::vector<int>& picks) const;

  ClientSelection selection_;
  int clients_, per_round_;
  std::uint64_t seed_;
  std::int64_t round_ = 0;
  std::vector<int> pool_;           // the clients offered (everyone unless offer() restricted them)
  std::vector<double> loss_;        // high-loss: every client's last known mean loss (NaN: not known yet)
  std::vector<int> last_;           // the last round's clients
  ClientCurriculum curriculum_;     // curriculum: its parameters
  ClientCurriculumState pass_;      // curriculum: where it stands
};

}  // namespace decent
