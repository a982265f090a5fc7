#pragma once
/// @file Curriculum learning as in "When Do Curricula Work in Federated Learning?" (Vahidian et al.,
/// ICCV 2023; code github.com/sreevatsank1999/Curriculum-FL): pacing functions, score orderings, a
/// paced mini-batch sampler for a node's samples and the client curriculum of a federated server.
/// Everything is a pure function of its arguments and seeds (through derive_seed).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

namespace decent {

/// The pacing families g(t) of the reference (src/pacing_fn/get_pacing_function.py).
enum class Pacing {
  linear,  ///< "linear": g(t) = bN + (N - bN) t / (aT)
  quad,    ///< "quad": g(t) = bN + (N - bN) (t / (aT))^2
  sqrt,    ///< "sqrt": g(t) = bN + (N - bN) (t / (aT))^(1/2)
  step,    ///< "step": g(t) = bN + N floor(t / (aT)): bN before step aT, N from it on
  exp,     ///< "exp": g(t) = bN + (N - bN) (e^(c t / (aT)) - 1) / (e^c - 1), c = 10
  log      ///< "log": g(t) = bN + (N - bN) (1 + ln(t / (aT) + e^(-c)) / c), c = 10
};
/// Parses a pacing name; std::invalid_argument names the value and lists the valid names.
Pacing parse_pacing(std::string_view name);
/// The pacing's config name.
std::string to_string(Pacing pacing);
/// The names parse_pacing accepts, for help texts.
std::vector<std::string> pacing_names();

/// The pool size g(t) of pacing `g` over n items at step t of total_steps = T: it starts at bN and
/// reaches N at t = aT. Evaluated in the reference's operation order, truncated toward zero (Python's
/// int() of the float), then clipped to [1, n]. a = +inf keeps it at bN (the reference ClientScheduler's
/// default). Throws std::invalid_argument unless a > 0, 0 <= b <= 1, n >= 1, total_steps >= 1, t >= 0
/// (or if a * total_steps is so tiny that g(t) is NaN).
Eigen::Index pacing_pool_size(Pacing g, double a, double b, Eigen::Index t, Eigen::Index total_steps,
                              Eigen::Index n);

/// How scores become an order (the easiest item first for a curriculum).
enum class CurriculumOrder {
  curr,  ///< "curr": ascending score (the lowest loss first)
  anti,  ///< "anti": descending score (the highest loss first)
  rand,  ///< "rand": a seeded uniform permutation, scores ignored
  none   ///< "none": the given order 0, 1, ..., n-1
};
/// Parses an ordering name; std::invalid_argument names the value and lists the valid names.
CurriculumOrder parse_curriculum_order(std::string_view name);
/// The ordering's config name.
std::string to_string(CurriculumOrder order);
/// The names parse_curriculum_order accepts, for help texts.
std::vector<std::string> curriculum_order_names();

/// The positions 0..scores.size()-1 in the order `order` asks for; equal scores keep ascending
/// position (for anti too, where the reference's reversal of the ascending order would reverse them).
/// rand draws from derive_seed(seed, {}) (seed is unused otherwise). Throws std::invalid_argument
/// naming the position of the first NaN score (for every order). ±inf scores are ordered as usual.
std::vector<Eigen::Index> curriculum_order(std::span<const float> scores, CurriculumOrder order,
                                           std::uint64_t seed);

/// The reference's floor on a sample pool: a PacedSampler never trains on fewer than
/// min(curriculum_min_pool, n) samples.
inline constexpr Eigen::Index curriculum_min_pool = 32;

/// Everything that changes while a PacedSampler runs. With the constructor arguments it determines
/// every future batch, so it is all a checkpoint has to store.
struct PacedSamplerState {
  Eigen::Index step = 0;      ///< batches drawn since the (re)start: the pacing's t
  std::uint64_t pass = 0;     ///< the current pass over a pool, 0 for the first
  Eigen::Index pool = 0;      ///< the current pass's pool size
  Eigen::Index position = 0;  ///< samples of the current pass drawn so far, in [0, pool]
  friend bool operator==(const PacedSamplerState&, const PacedSamplerState&) = default;
};

/// A node's curriculum sampler: batches from the first `pool` indices of an easiest-first order.
/// Pass p visits its pool (order[0, pool_p)) once in a permutation drawn from derive_seed(seed, {p}).
/// A pass's pool is max(min(32, n), g(t)), with t the index of the batch that takes the pass's first
/// sample: the pool is rebuilt only after each full pass, as in the reference. Batches have a fixed
/// size, so a batch that does not fit in the rest of a pass is completed from the next pass (the
/// reference's last batch of a pass is short instead; like decent::Sampler, nothing is skipped).
class PacedSampler {
public:
  /// `order` holds the node's sample indices, the easiest first (for example part[curriculum_order(...)[k]]).
  /// The reference paces over T = (n / batch + 1) * local_epochs steps. Throws std::invalid_argument if an
  /// index is negative, unless 1 <= batch <= order.size(), or if the pacing arguments are invalid.
  PacedSampler(std::vector<Eigen::Index> order, Eigen::Index batch, Pacing pacing, double a, double b,
               Eigen::Index total_steps, std::uint64_t seed);

  /// The indices of the next batch (valid until the next call), and advances the state.
  std::span<const Eigen::Index> next_indices();
  /// Starts the curriculum over at step 0 (the reference does at every local update): the batches
  /// repeat those after construction. For fresh shuffles or a re-scored order, construct a new sampler.
  void restart() noexcept;

  /// The state to save in a checkpoint.
  PacedSamplerState state() const noexcept { return state_; }
  /// Continues from a saved state: the following batches are those the sampler that gave it drew next.
  /// Throws std::invalid_argument (state unchanged) unless min(32, n) <= pool <= n, 0 <= position <= pool
  /// and step >= 0.
  void restore(const PacedSamplerState& state);

  /// The pool a pass beginning in batch t uses: max(min(32, n), pacing_pool_size(..., t, total_steps, n)).
  Eigen::Index pool_size(Eigen::Index t) const;
  /// Samples per batch.
  Eigen::Index batch() const noexcept { return batch_; }
  /// The seed given to the constructor.
  std::uint64_t seed() const noexcept { return seed_; }
  /// The node's indices, easiest first, as given to the constructor.
  std::span<const Eigen::Index> order() const noexcept { return order_; }

private:
  std::vector<Eigen::Index> order_;
  Eigen::Index batch_;
  Pacing pacing_;
  double a_;
  double b_;
  Eigen::Index total_steps_;
  std::uint64_t seed_;
  Eigen::Index first_pool_ = 0;  // pool_size(0), kept so restart() cannot throw
  PacedSamplerState state_;
  std::vector<Eigen::Index> pool_;  // the permutation of pass pool_pass_ (size pool_.size())
  std::uint64_t pool_pass_ = 0;
  bool pool_valid_ = false;
  std::vector<Eigen::Index> current_;  // the last batch's indices
};

/// The client curriculum of the reference (src/utils/client_scheduler.py): its fixed parameters.
struct ClientCurriculum {
  int clients = 0;                                ///< K, the number of clients
  int clients_per_round = 8;                      ///< client_bs: clients per round
  CurriculumOrder order = CurriculumOrder::curr;  ///< how client scores become an order
  Pacing pacing = Pacing::linear;                 ///< the pool size over the budget
  double a = 0.8;                                 ///< the pool reaches K after a * budget client updates
  double b = 0.2;                                 ///< the first pool is b K
  Eigen::Index budget = 1;                        ///< B = rounds x clients per round: the pacing's T
  std::uint64_t seed = 0;                         ///< the run's seed for the shuffles
};

/// Where a client curriculum stands; a plain value, so copying it is the checkpoint.
struct ClientCurriculumState {
  std::uint64_t passes = 0;  ///< passes over a client pool begun so far
  Eigen::Index updates = 0;  ///< client updates handed out so far (the reference's nbupdate): the pacing's t
  std::vector<int> pool;     ///< the current pass's clients in their shuffled order; empty before the first round
  std::size_t position = 0;  ///< clients of `pool` already handed out
  friend bool operator==(const ClientCurriculumState&, const ClientCurriculumState&) = default;
};

/// True if the next round begins a pass, so next_client_round reads the client scores.
bool needs_client_scores(const ClientCurriculumState& state) noexcept;

/// The clients of the next round, and advances `state`. A pass begins when the pool is used up: the
/// clients are ordered by `scores` (their mean sample score under the current global model, K values;
/// read only then, may be empty otherwise), the g(updates) first of them (pacing over the budget, no
/// minimum) are shuffled with derive_seed(seed, {1, pass}) (rand orders with {0, pass}) and handed out
/// clients_per_round at a time. The last round of a pass gets the rest (possibly fewer), so a round's
/// clients are distinct. Throws std::invalid_argument for invalid parameters, scores of the wrong size at
/// the start of a pass, or a state that does not fit `curriculum`.
std::vector<int> next_client_round(const ClientCurriculum& curriculum, std::span<const float> scores,
                                   ClientCurriculumState& state);

}  // namespace decent
