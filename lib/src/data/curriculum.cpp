#include "decent/data/curriculum.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "decent/core/random.hpp"

namespace decent {
namespace {

// Stream tags of the client curriculum (documented in the header).
enum : std::uint64_t { tag_client_order = 0, tag_client_pool = 1 };

// The reference's steepness of exp and log pacing.
constexpr double pacing_c = 10;

void require(bool ok, const char* function, const std::string& problem) {
  if (!ok) throw std::invalid_argument(std::string(function) + ": " + problem);
}

std::string number(double x) {
  std::string s = std::to_string(x);
  // std::to_string prints 6 decimals; the trailing zeros only obscure the value in a message.
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

/// Fisher-Yates with decent's portable Rng (std::shuffle's algorithm is implementation-defined).
template <class T>
void shuffle(std::span<T> v, Rng& rng) {
  for (std::size_t k = v.size(); k > 1; --k) std::swap(v[k - 1], v[rng.below(k)]);
}

}  // namespace

Pacing parse_pacing(std::string_view name) {
  if (name == "linear") return Pacing::linear;
  if (name == "quad") return Pacing::quad;
  if (name == "sqrt") return Pacing::sqrt;
  if (name == "step") return Pacing::step;
  if (name == "exp") return Pacing::exp;
  if (name == "log") return Pacing::log;
  throw std::invalid_argument("unknown pacing '" + std::string(name) + "' (valid: " + join(pacing_names()) + ")");
}

std::string to_string(Pacing pacing) {
  switch (pacing) {
    case Pacing::linear: return "linear";
    case Pacing::quad: return "quad";
    case Pacing::sqrt: return "sqrt";
    case Pacing::step: return "step";
    case Pacing::exp: return "exp";
    case Pacing::log: return "log";
  }
  return "unknown";
}

std::vector<std::string> pacing_names() { return {"linear", "quad", "sqrt", "step", "exp", "log"}; }

Eigen::Index pacing_pool_size(Pacing g, double a, double b, Eigen::Index t, Eigen::Index total_steps,
                              Eigen::Index n) {
  constexpr const char* f = "pacing_pool_size";
  require(a > 0, f, "a = " + number(a) + " must be > 0 (the pool reaches n at step a * total_steps)");
  require(b >= 0 && b <= 1, f, "b = " + number(b) + " must be in [0, 1] (the first pool is b * n)");
  require(n >= 1, f, "n = " + std::to_string(n) + " must be >= 1");
  require(total_steps >= 1, f, "total_steps = " + std::to_string(total_steps) + " must be >= 1");
  require(t >= 0, f, "t = " + std::to_string(t) + " must be >= 0");

  // The operations and their order are the reference's (get_pacing_function.py), so the truncation
  // below sees the same float as int() does there.
  const auto size = static_cast<double>(n);
  const auto step = static_cast<double>(t);
  const double a_t = a * static_cast<double>(total_steps);
  const double start = b * size;
  double value = 0;
  switch (g) {
    case Pacing::linear: {
      const double rate = (size - start) / a_t;
      value = rate * step + start;
      break;
    }
    case Pacing::quad: {
      const double rate = (size - start) / (a_t * a_t);
      value = rate * (step * step) + start;
      break;
    }
    case Pacing::sqrt: {
      const double rate = (size - start) / std::pow(a_t, 0.5);
      value = rate * std::pow(step, 0.5) + start;
      break;
    }
    case Pacing::step:
      // Python's t // aT can differ from floor(t / aT) only where the quotient is >= 1 (t and aT > 0),
      // and there the pool is clipped to n either way.
      value = size * std::floor(step / a_t) + start;
      break;
    case Pacing::exp: {
      const double rate = (size - start) / (std::exp(pacing_c) - 1);
      const double growth = std::exp(step * (pacing_c / a_t));
      if (std::isinf(growth)) return n;
      value = rate * (growth - 1) + start;
      break;
    }
    case Pacing::log:
      value = (size - start) * (1 + (1. / pacing_c) * std::log(step / a_t + std::exp(-pacing_c))) + start;
      break;
  }
  require(!std::isnan(value), f,
          "a * total_steps = " + number(a_t) + " is too small: the pool size is not a number");
  // int() then clip(1, n), done in double first so a huge value cannot overflow the conversion.
  if (value >= size) return n;
  if (value < 1) return 1;
  return static_cast<Eigen::Index>(value);
}

CurriculumOrder parse_curriculum_order(std::string_view name) {
  if (name == "curr") return CurriculumOrder::curr;
  if (name == "anti") return CurriculumOrder::anti;
  if (name == "rand") return CurriculumOrder::rand;
  if (name == "none") return CurriculumOrder::none;
  throw std::invalid_argument("unknown curriculum order '" + std::string(name) +
                              "' (valid: " + join(curriculum_order_names()) + ")");
}

std::string to_string(CurriculumOrder order) {
  switch (order) {
    case CurriculumOrder::curr: return "curr";
    case CurriculumOrder::anti: return "anti";
    case CurriculumOrder::rand: return "rand";
    case CurriculumOrder::none: return "none";
  }
  return "unknown";
}

std::vector<std::string> curriculum_order_names() { return {"curr", "anti", "rand", "none"}; }

std::vector<Eigen::Index> curriculum_order(std::span<const float> scores, CurriculumOrder order,
                                           std::uint64_t seed) {
  for (std::size_t k = 0; k < scores.size(); ++k)
    require(!std::isnan(scores[k]), "curriculum_order", "scores[" + std::to_string(k) + "] is NaN");
  std::vector<Eigen::Index> positions(scores.size());
  std::iota(positions.begin(), positions.end(), Eigen::Index{0});
  const auto score = [&](Eigen::Index k) { return scores[static_cast<std::size_t>(k)]; };
  switch (order) {
    case CurriculumOrder::curr:
      std::stable_sort(positions.begin(), positions.end(),
                       [&](Eigen::Index i, Eigen::Index j) { return score(i) < score(j); });
      break;
    case CurriculumOrder::anti:
      std::stable_sort(positions.begin(), positions.end(),
                       [&](Eigen::Index i, Eigen::Index j) { return score(i) > score(j); });
      break;
    case CurriculumOrder::rand: {
      Rng rng(derive_seed(seed, {}));
      shuffle(std::span<Eigen::Index>(positions), rng);
      break;
    }
    case CurriculumOrder::none: break;
  }
  return positions;
}

PacedSampler::PacedSampler(std::vector<Eigen::Index> order, Eigen::Index batch, Pacing pacing, double a, double b,
                           Eigen::Index total_steps, std::uint64_t seed)
    : order_(std::move(order)), batch_(batch), pacing_(pacing), a_(a), b_(b), total_steps_(total_steps), seed_(seed) {
  const auto size = static_cast<Eigen::Index>(order_.size());
  if (batch_ < 1 || batch_ > size)
    throw std::invalid_argument("PacedSampler: batch = " + std::to_string(batch_) + " must be in [1, " +
                                std::to_string(size) + "], the node's sample count " + std::to_string(size));
  for (std::size_t k = 0; k < order_.size(); ++k)
    if (order_[k] < 0)
      throw std::invalid_argument("PacedSampler: order[" + std::to_string(k) + "] = " + std::to_string(order_[k]) +
                                  " must be >= 0");
  current_.resize(static_cast<std::size_t>(batch_));
  first_pool_ = pool_size(0);  // also checks the pacing arguments
  restart();
}

Eigen::Index PacedSampler::pool_size(Eigen::Index t) const {
  const auto n = static_cast<Eigen::Index>(order_.size());
  return std::max(std::min(curriculum_min_pool, n), pacing_pool_size(pacing_, a_, b_, t, total_steps_, n));
}

void PacedSampler::restart() noexcept { state_ = {0, 0, first_pool_, 0}; }

std::span<const Eigen::Index> PacedSampler::next_indices() {
  for (auto& index : current_) {
    if (state_.position == state_.pool) {
      ++state_.pass;
      state_.pool = pool_size(state_.step);
      state_.position = 0;
    }
    if (!pool_valid_ || pool_pass_ != state_.pass || static_cast<Eigen::Index>(pool_.size()) != state_.pool) {
      // A pass's permutation depends only on (pass, pool size), so restoring a state needs no history.
      pool_.assign(order_.begin(), order_.begin() + state_.pool);
      Rng rng(derive_seed(seed_, {state_.pass}));
      shuffle(std::span<Eigen::Index>(pool_), rng);
      pool_pass_ = state_.pass;
      pool_valid_ = true;
    }
    index = pool_[static_cast<std::size_t>(state_.position++)];
  }
  ++state_.step;
  return current_;
}

void PacedSampler::restore(const PacedSamplerState& state) {
  const auto n = static_cast<Eigen::Index>(order_.size());
  const Eigen::Index smallest = std::min(curriculum_min_pool, n);
  if (state.pool < smallest || state.pool > n || state.position < 0 || state.position > state.pool || state.step < 0)
    throw std::invalid_argument("PacedSampler::restore: state (step " + std::to_string(state.step) + ", pool " +
                                std::to_string(state.pool) + ", position " + std::to_string(state.position) +
                                ") needs step >= 0, pool in [" + std::to_string(smallest) + ", " + std::to_string(n) +
                                "] and position in [0, pool]");
  state_ = state;
  // The pool's permutation is recomputed lazily by next_indices() when (pass, pool) differ.
}

bool needs_client_scores(const ClientCurriculumState& state) noexcept { return state.position >= state.pool.size(); }

std::vector<int> next_client_round(const ClientCurriculum& curriculum, std::span<const float> scores,
                                   ClientCurriculumState& state) {
  constexpr const char* f = "next_client_round";
  const int clients = curriculum.clients;
  require(clients >= 1, f, "clients = " + std::to_string(clients) + " must be >= 1");
  require(curriculum.clients_per_round >= 1, f,
          "clients_per_round = " + std::to_string(curriculum.clients_per_round) + " must be >= 1");
  require(curriculum.budget >= 1, f, "budget = " + std::to_string(curriculum.budget) + " must be >= 1");
  require(state.position <= state.pool.size() && state.updates >= 0, f,
          "the state (position " + std::to_string(state.position) + " in a pool of " +
              std::to_string(state.pool.size()) + ", updates " + std::to_string(state.updates) + ") is inconsistent");
  for (const int client : state.pool)
    require(client >= 0 && client < clients, f,
            "the state's pool holds client " + std::to_string(client) + ", outside [0, clients = " +
                std::to_string(clients) + ")");

  if (needs_client_scores(state)) {
    require(scores.size() == static_cast<std::size_t>(clients), f,
            "a pass begins and needs one score per client: got " + std::to_string(scores.size()) + " scores for " +
                std::to_string(clients) + " clients");
    // Validate everything before the state changes.
    const Eigen::Index pool = pacing_pool_size(curriculum.pacing, curriculum.a, curriculum.b, state.updates,
                                               curriculum.budget, clients);
    const std::vector<Eigen::Index> order =
        curriculum_order(scores, curriculum.order, derive_seed(curriculum.seed, {tag_client_order, state.passes}));
    state.pool.resize(static_cast<std::size_t>(pool));
    std::transform(order.begin(), order.begin() + pool, state.pool.begin(),
                   [](Eigen::Index client) { return static_cast<int>(client); });
    Rng rng(derive_seed(curriculum.seed, {tag_client_pool, state.passes}));
    shuffle(std::span<int>(state.pool), rng);
    state.position = 0;
    ++state.passes;
  }
  const std::size_t count =
      std::min(static_cast<std::size_t>(curriculum.clients_per_round), state.pool.size() - state.position);
  const auto first = state.pool.begin() + static_cast<std::ptrdiff_t>(state.position);
  std::vector<int> round(first, first + static_cast<std::ptrdiff_t>(count));
  state.position += count;
  state.updates += static_cast<Eigen::Index>(count);
  return round;
}

}  // namespace decent
