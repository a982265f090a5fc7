#include "decent/algo/client_selection.hpp"
#include "core/number_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "decent/core/random.hpp"

namespace decent {

using detail::number_text;

namespace {

constexpr std::uint64_t select_stream = 0x534C4354;     // "SLCT": a uniform round's clients
constexpr std::uint64_t candidate_stream = 0x504F4343;  // "POCC": a power-of-choice round's candidates
constexpr std::uint64_t high_loss_stream = 0x484C4F53;  // "HLOS": a high-loss round's draws

const char* const valid_forms = "valid: uniform, power-of-choice:D, high-loss:T, curriculum";

/// Every client, ascending.
std::vector<int> everyone(int clients) {
  std::vector<int> all(static_cast<std::size_t>(clients));
  std::iota(all.begin(), all.end(), 0);
  return all;
}

void require_finite(std::span<const double> losses) {
  for (std::size_t j = 0; j < losses.size(); ++j)
    if (std::isnan(losses[j]))
      throw std::invalid_argument("client selection: loss " + std::to_string(j) + " of the round is NaN");
}

}  // namespace

std::vector<int> uniform_clients(int clients, int m, std::uint64_t seed) {
  std::vector<int> all = everyone(clients);
  if (m <= 0 || m >= clients) return all;
  // The first m of a partial Fisher-Yates shuffle.
  Rng rng(seed);
  for (int i = 0; i < m; ++i) {
    const auto j = i + static_cast<int>(rng.below(static_cast<std::uint64_t>(clients - i)));
    std::swap(all[static_cast<std::size_t>(i)], all[static_cast<std::size_t>(j)]);
  }
  all.resize(static_cast<std::size_t>(m));
  std::sort(all.begin(), all.end());
  return all;
}

std::vector<int> uniform_round_clients(int clients, int m, std::uint64_t seed, std::int64_t round) {
  return uniform_clients(clients, m, derive_seed(seed, {select_stream, static_cast<std::uint64_t>(round)}));
}

ClientSelection parse_client_selection(std::string_view spec) {
  ClientSelection s;
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const std::string_view argument = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument("'" + std::string(spec) + "' " + why + " (" + valid_forms + ")");
  };
  if (name == "uniform" || name == "curriculum") {
    if (colon != std::string_view::npos) throw bad("takes no argument");
    s.rule = name == "uniform" ? SelectionRule::uniform : SelectionRule::curriculum;
    return s;
  }
  if (name == "power-of-choice") {
    s.rule = SelectionRule::power_of_choice;
    const auto [end, error] = std::from_chars(argument.data(), argument.data() + argument.size(), s.candidates);
    if (argument.empty() || error != std::errc{} || end != argument.data() + argument.size() || s.candidates < 1)
      throw bad("needs a number of candidates D >= 1, e.g. power-of-choice:20");
    return s;
  }
  if (name == "high-loss") {
    s.rule = SelectionRule::high_loss;
    const std::string text(argument);
    std::size_t used = 0;
    try {
      s.temperature = text.empty() ? -1 : std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (text.empty() || used != text.size() || !(s.temperature >= 0) || !std::isfinite(s.temperature))
      throw bad("needs a temperature T >= 0, e.g. high-loss:1");
    return s;
  }
  throw bad("is not a selection rule");
}

std::string to_string(const ClientSelection& s) {
  switch (s.rule) {
    case SelectionRule::uniform: return "uniform";
    case SelectionRule::power_of_choice: return "power-of-choice:" + std::to_string(s.candidates);
    case SelectionRule::high_loss: return "high-loss:" + number_text(s.temperature);
    case SelectionRule::curriculum: return "curriculum";
  }
  return "?";
}

std::string describe(const ClientSelection& s) {
  if (s.rule == SelectionRule::uniform) return "uniform sample";
  if (s.rule != SelectionRule::curriculum) return to_string(s) + " by the clients' losses";
  return "client curriculum " + to_string(s.order) + ", " + to_string(s.pacing) + " pacing from " +
         number_text(s.b) + " of the clients to all after " + number_text(s.a) + " of the budget";
}

bool selection_reads_losses(const ClientSelection& s) noexcept { return s.rule != SelectionRule::uniform; }

void check_client_selection(const ClientSelection& s, int clients, int per_round) {
  if (!selection_reads_losses(s)) return;
  if (per_round < 1 || per_round > clients)
    throw std::invalid_argument("client-selection: " + to_string(s) + " needs clients-per-round in [1, " +
                                std::to_string(clients) + "], got " + std::to_string(per_round));
  if (s.rule == SelectionRule::power_of_choice && (s.candidates < per_round || s.candidates > clients))
    throw std::invalid_argument("client-selection: power-of-choice:" + std::to_string(s.candidates) +
                                " needs D in [clients-per-round, clients] = [" + std::to_string(per_round) + ", " +
                                std::to_string(clients) + "]");
  if (s.rule == SelectionRule::high_loss && !(s.temperature >= 0 && std::isfinite(s.temperature)))
    throw std::invalid_argument("client-selection: high-loss needs a temperature T >= 0, got " +
                                number_text(s.temperature));
  if (s.rule == SelectionRule::curriculum) {
    if (!(s.a > 0) || std::isnan(s.a))
      throw std::invalid_argument("client-pacing-a: must be > 0, got " + number_text(s.a));
    if (!(s.b >= 0 && s.b <= 1))
      throw std::invalid_argument("client-pacing-b: must be in [0, 1], got " + number_text(s.b));
  }
}

ClientSelector::ClientSelector(const ClientSelection& selection, int clients, int per_round, std::int64_t rounds,
                               std::uint64_t seed)
    : selection_(selection), clients_(clients), per_round_(per_round), seed_(seed) {
  if (clients < 1) throw std::invalid_argument("client selection: needs at least one client");
  if (rounds < 1) throw std::invalid_argument("client selection: needs at least one round");
  check_client_selection(selection, clients, per_round < 1 ? clients : per_round);
  if (per_round_ < 1) per_round_ = clients;
  pool_ = everyone(clients);
  if (selection.rule == SelectionRule::curriculum) {
    curriculum_.clients = clients;
    curriculum_.clients_per_round = per_round_;
    curriculum_.order = selection.order;
    curriculum_.pacing = selection.pacing;
    curriculum_.a = selection.a;
    curriculum_.b = selection.b;
    curriculum_.budget = rounds * per_round_;
    curriculum_.seed = seed;
  }
}

void ClientSelector::offer(std::vector<int> online) {
  if (selection_.rule == SelectionRule::curriculum)
    throw std::invalid_argument("client selection: the client curriculum cannot be restricted to online clients");
  if (online.empty()) throw std::invalid_argument("client selection: no client offered");
  for (std::size_t j = 0; j < online.size(); ++j)
    if (online[j] < 0 || online[j] >= clients_ || (j > 0 && online[j] <= online[j - 1]))
      throw std::invalid_argument("client selection: offered client " + std::to_string(online[j]) + " at position " +
                                  std::to_string(j) + " is not in [0, " + std::to_string(clients_) +
                                  ") or not ascending");
  pool_ = std::move(online);
}

std::vector<int> ClientSelector::from_pool(const std::vector<int>& picks) const {
  std::vector<int> clients;
  for (const int p : picks) clients.push_back(pool_[static_cast<std::size_t>(p)]);
  return clients;
}

std::vector<int> ClientSelector::wanted() const {
  const int offered = static_cast<int>(pool_.size());
  switch (selection_.rule) {
    case SelectionRule::uniform: return {};
    case SelectionRule::power_of_choice:
      return from_pool(uniform_clients(offered, std::min(selection_.candidates, offered),
                                       derive_seed(seed_, {candidate_stream, static_cast<std::uint64_t>(round_)})));
    case SelectionRule::high_loss: {
      if (loss_.empty()) return pool_;
      std::vector<int> unknown;
      for (const int i : pool_)
        if (std::isnan(loss_[static_cast<std::size_t>(i)])) unknown.push_back(i);
      return unknown;
    }
    case SelectionRule::curriculum:
      // rand orders without scores; curr and anti read every client's score when a pass begins.
      return needs_client_scores(pass_) && selection_.order != CurriculumOrder::rand ? everyone(clients_)
                                                                                      : std::vector<int>{};
  }
  return {};
}

std::vector<int> ClientSelector::select(std::span<const double> losses) {
  const std::vector<int> asked = wanted();
  if (losses.size() != asked.size())
    throw std::invalid_argument("client selection: " + std::to_string(losses.size()) + " losses for " +
                                std::to_string(asked.size()) + " clients");
  require_finite(losses);
  std::vector<int> chosen;
  switch (selection_.rule) {
    case SelectionRule::uniform:
      chosen = from_pool(uniform_round_clients(static_cast<int>(pool_.size()), per_round_, seed_, round_));
      break;
    case SelectionRule::power_of_choice: {
      // The m candidates with the largest loss (all of them if fewer are online); equal losses go to the
      // smaller client id.
      std::vector<std::size_t> order(asked.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return losses[x] > losses[y]; });
      const std::size_t take = std::min(static_cast<std::size_t>(per_round_), order.size());
      for (std::size_t k = 0; k < take; ++k) chosen.push_back(asked[order[k]]);
      break;
    }
    case SelectionRule::high_loss: {
      if (loss_.empty()) loss_.assign(static_cast<std::size_t>(clients_), std::numeric_limits<double>::quiet_NaN());
      for (std::size_t j = 0; j < asked.size(); ++j) loss_[static_cast<std::size_t>(asked[j])] = losses[j];
      // Draws without replacement among the offered clients, each with probability proportional to exp(T L_i)
      // among those left; exp(T (L_i - max L)) is the same distribution without overflow.
      std::vector<bool> offered(loss_.size(), false);
      for (const int i : pool_) offered[static_cast<std::size_t>(i)] = true;
      double top = -std::numeric_limits<double>::infinity();
      for (const int i : pool_) top = std::max(top, loss_[static_cast<std::size_t>(i)]);
      std::vector<double> weight(loss_.size(), 0.0);
      std::vector<bool> picked(loss_.size(), false);
      for (std::size_t i = 0; i < loss_.size(); ++i)
        if (offered[i]) weight[i] = std::exp(selection_.temperature * (loss_[i] - top));
      Rng rng(derive_seed(seed_, {high_loss_stream, static_cast<std::uint64_t>(round_)}));
      const int draws = std::min(per_round_, static_cast<int>(pool_.size()));
      for (int k = 0; k < draws; ++k) {
        double total = 0;
        for (double w : weight) total += w;
        std::size_t pick = weight.size();
        if (total > 0) {
          // The first client whose cumulative weight passes the target (the last one left if rounding did not).
          const double target = rng.uniform() * total;
          double running = 0;
          for (std::size_t i = 0; i < weight.size(); ++i) {
            if (weight[i] <= 0) continue;
            pick = i;
            running += weight[i];
            if (target < running) break;
          }
        } else {
          // Every weight left underflowed (a large T): the limit T -> inf, the largest loss left.
          for (std::size_t i = 0; i < weight.size(); ++i)
            if (offered[i] && !picked[i] && (pick == weight.size() || loss_[i] > loss_[pick])) pick = i;
        }
        chosen.push_back(static_cast<int>(pick));
        picked[pick] = true;
        weight[pick] = 0;
      }
      break;
    }
    case SelectionRule::curriculum: {
      // rand asked for no losses (wanted() is empty): its order ignores the scores, so zeros stand in.
      std::vector<float> scores(losses.begin(), losses.end());
      if (selection_.order == CurriculumOrder::rand && needs_client_scores(pass_))
        scores.assign(static_cast<std::size_t>(clients_), 0.0f);
      chosen = next_client_round(curriculum_, scores, pass_);
      break;
    }
  }
  std::sort(chosen.begin(), chosen.end());
  last_ = chosen;
  ++round_;
  return chosen;
}

void ClientSelector::restore(const SelectorState& state) {
  const auto bad = [&](const std::string& what) {
    return std::invalid_argument("client selection: a saved state " + what + " (" + std::to_string(clients_) +
                                 " clients)");
  };
  if (state.round < 0) throw bad("has a negative round");
  if (!state.loss.empty() && state.loss.size() != static_cast<std::size_t>(clients_)) throw bad("has other losses");
  for (const std::vector<int>* list : {&state.pool, &state.last, &state.pass.pool})
    for (const int c : *list)
      if (c < 0 || c >= clients_) throw bad("names client " + std::to_string(c));
  if (state.pool.empty()) throw bad("offers no client");
  round_ = state.round;
  pool_ = state.pool;
  last_ = state.last;
  loss_ = state.loss;
  pass_ = state.pass;
}

std::vector<int> ClientSelector::refreshed() const {
  return selection_.rule == SelectionRule::high_loss ? last_ : std::vector<int>{};
}

void ClientSelector::refresh(std::span<const double> losses) {
  const std::vector<int> clients = refreshed();
  if (losses.size() != clients.size())
    throw std::invalid_argument("client selection: " + std::to_string(losses.size()) + " refreshed losses for " +
                                std::to_string(clients.size()) + " clients");
  require_finite(losses);
  for (std::size_t j = 0; j < clients.size(); ++j) loss_[static_cast<std::size_t>(clients[j])] = losses[j];
}

}  // namespace decent
