#include "decent/data/curriculum.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <vector>

namespace {

using Catch::Matchers::Contains;
using decent::CurriculumOrder;
using decent::Pacing;
using decent::PacedSampler;
using decent::pacing_pool_size;

/// The pool sizes g(t) for the listed steps.
std::vector<Eigen::Index> pool_sizes(Pacing g, double a, double b, Eigen::Index total_steps, Eigen::Index n,
                                     const std::vector<Eigen::Index>& steps) {
  std::vector<Eigen::Index> sizes;
  for (const Eigen::Index t : steps) sizes.push_back(pacing_pool_size(g, a, b, t, total_steps, n));
  return sizes;
}

/// An easiest-first order of n sample indices that is neither ascending nor 0..n-1: 3(n-1-k) + 1.
std::vector<Eigen::Index> reversed_spaced(Eigen::Index n) {
  std::vector<Eigen::Index> v(static_cast<std::size_t>(n));
  for (Eigen::Index k = 0; k < n; ++k) v[static_cast<std::size_t>(k)] = 3 * (n - 1 - k) + 1;
  return v;
}

/// The next `count` batches, concatenated.
std::vector<Eigen::Index> draw(PacedSampler& s, int count) {
  std::vector<Eigen::Index> out;
  for (int k = 0; k < count; ++k) {
    const auto batch = s.next_indices();
    out.insert(out.end(), batch.begin(), batch.end());
  }
  return out;
}

std::vector<Eigen::Index> sorted(std::vector<Eigen::Index> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

// N = 100, T = 50, a = 0.8, b = 0.2: the pool starts at bN = 20 and reaches N at aT = 40.
TEST_CASE("pacing functions match the reference formulas at hand-computed steps", "[data][curriculum]") {
  const std::vector<Eigen::Index> steps = {0, 1, 4, 10, 20, 30, 36, 39, 40, 41, 60};
  // 20 + 80 t / 40 = 20 + 2t
  CHECK(pool_sizes(Pacing::linear, 0.8, 0.2, 50, 100, steps) ==
        std::vector<Eigen::Index>{20, 22, 28, 40, 60, 80, 92, 98, 100, 100, 100});
  // 20 + 80 (t / 40)^2: t = 10 gives 25, t = 30 gives 65, t = 4 gives 20.8 -> 20
  CHECK(pool_sizes(Pacing::quad, 0.8, 0.2, 50, 100, steps) ==
        std::vector<Eigen::Index>{20, 20, 20, 25, 40, 65, 84, 96, 100, 100, 100});
  // 20 + 80 sqrt(t / 40): t = 10 gives 60, t = 1 gives 32.65 -> 32
  CHECK(pool_sizes(Pacing::sqrt, 0.8, 0.2, 50, 100, steps) ==
        std::vector<Eigen::Index>{20, 32, 45, 60, 76, 89, 95, 98, 100, 100, 100});
  // 20 + 100 floor(t / 40): 20 until step 39, then clipped to 100
  CHECK(pool_sizes(Pacing::step, 0.8, 0.2, 50, 100, steps) ==
        std::vector<Eigen::Index>{20, 20, 20, 20, 20, 20, 20, 20, 100, 100, 100});
  // 20 + 80 (e^(t/4) - 1) / (e^10 - 1): t = 30 gives 26.56 -> 26, t = 36 gives 49.43 -> 49
  CHECK(pool_sizes(Pacing::exp, 0.8, 0.2, 50, 100, steps) ==
        std::vector<Eigen::Index>{20, 20, 20, 20, 20, 26, 49, 82, 100, 100, 100});
  // 20 + 80 (1 + ln(t / 40 + e^-10) / 10): t = 0 gives exactly 20, t = 1 gives 70.5 -> 70, t = 4 gives 81.58
  CHECK(pool_sizes(Pacing::log, 0.8, 0.2, 50, 100, steps) ==
        std::vector<Eigen::Index>{20, 70, 81, 88, 94, 97, 99, 99, 100, 100, 100});
}

TEST_CASE("pacing truncates like Python int() and clips to 1 and n", "[data][curriculum]") {
  // N = 10, aT = 10, bN = 2.5: g = 2.5 + 0.75 t; t = 3 gives 4.75 -> 4 (truncated, not rounded).
  CHECK(pool_sizes(Pacing::linear, 1.0, 0.25, 10, 10, {0, 1, 2, 3, 7, 10, 11, 1000}) ==
        std::vector<Eigen::Index>{2, 3, 4, 4, 7, 10, 10, 10});
  // b = 0: g = 7t / 5 over n = 7 is 0 at t = 0, clipped up to 1; t = 4 gives 5.6 -> 5.
  CHECK(pool_sizes(Pacing::linear, 0.5, 0.0, 10, 7, {0, 1, 2, 3, 4, 5}) == std::vector<Eigen::Index>{1, 1, 2, 4, 5, 7});
  // b = 1: the whole set from the start, for every family.
  for (const Pacing g : {Pacing::linear, Pacing::quad, Pacing::sqrt, Pacing::step, Pacing::exp, Pacing::log})
    CHECK(pool_sizes(g, 0.5, 1.0, 20, 13, {0, 3, 10, 500}) == std::vector<Eigen::Index>{13, 13, 13, 13});
  // Far beyond aT: exp overflows to inf (the reference returns n), the others clip.
  CHECK(pacing_pool_size(Pacing::exp, 0.8, 0.2, 1'000'000, 50, 100) == 100);
  CHECK(pacing_pool_size(Pacing::linear, 0.8, 0.2, std::numeric_limits<Eigen::Index>::max() / 2, 50, 100) == 100);
  CHECK(pacing_pool_size(Pacing::quad, 0.8, 0.2, 1'000'000'000'000, 50, 100) == 100);
  // a = +inf: the pool stays at bN (the reference ClientScheduler's default a).
  for (const Pacing g : {Pacing::linear, Pacing::quad, Pacing::sqrt, Pacing::step, Pacing::exp, Pacing::log})
    CHECK(pool_sizes(g, std::numeric_limits<double>::infinity(), 0.3, 20, 10, {0, 5, 100}) ==
          std::vector<Eigen::Index>{3, 3, 3});
}

TEST_CASE("step pacing jumps from bN to N exactly at step aT", "[data][curriculum]") {
  // aT = 0.5 * 9 = 4.5: steps 0..4 use bN = 12.5 -> 12, step 5 on uses N.
  CHECK(pool_sizes(Pacing::step, 0.5, 0.25, 9, 50, {0, 4, 5, 6, 9, 20}) ==
        std::vector<Eigen::Index>{12, 12, 50, 50, 50, 50});
  // aT = 3 * 10 = 30 (a > 1: the jump comes after total_steps).
  CHECK(pool_sizes(Pacing::step, 3.0, 0.1, 10, 40, {0, 10, 29, 30}) == std::vector<Eigen::Index>{4, 4, 4, 40});
}

TEST_CASE("pacing arguments are validated with the bad value in the message", "[data][curriculum]") {
  CHECK_THROWS_WITH(pacing_pool_size(Pacing::linear, 0.0, 0.2, 0, 10, 10), Contains("a = 0"));
  CHECK_THROWS_WITH(pacing_pool_size(Pacing::linear, -0.5, 0.2, 0, 10, 10), Contains("a = -0.5"));
  CHECK_THROWS_WITH(pacing_pool_size(Pacing::linear, std::nan(""), 0.2, 0, 10, 10), Contains("a = "));
  CHECK_THROWS_WITH(pacing_pool_size(Pacing::linear, 0.8, 1.5, 0, 10, 10), Contains("b = 1.5"));
  CHECK_THROWS_WITH(pacing_pool_size(Pacing::linear, 0.8, -0.1, 0, 10, 10), Contains("b = -0.1"));
  CHECK_THROWS_WITH(pacing_pool_size(Pacing::linear, 0.8, 0.2, 0, 10, 0), Contains("n = 0"));
  CHECK_THROWS_WITH(pacing_pool_size(Pacing::linear, 0.8, 0.2, 0, 0, 10), Contains("total_steps = 0"));
  CHECK_THROWS_WITH(pacing_pool_size(Pacing::linear, 0.8, 0.2, -1, 10, 10), Contains("t = -1"));
  CHECK_THROWS_AS(pacing_pool_size(Pacing::log, 0.8, 0.2, -1, 10, 10), std::invalid_argument);
}

TEST_CASE("pacing and ordering names parse and print", "[data][curriculum]") {
  for (const auto& name : decent::pacing_names()) CHECK(decent::to_string(decent::parse_pacing(name)) == name);
  for (const auto& name : decent::curriculum_order_names())
    CHECK(decent::to_string(decent::parse_curriculum_order(name)) == name);
  CHECK(decent::parse_pacing("sqrt") == Pacing::sqrt);
  CHECK(decent::parse_curriculum_order("anti") == CurriculumOrder::anti);
  CHECK_THROWS_WITH(decent::parse_pacing("cubic"),
                    Contains("'cubic'") && Contains("linear, quad, sqrt, step, exp, log"));
  CHECK_THROWS_WITH(decent::parse_pacing("Linear"), Contains("'Linear'"));
  CHECK_THROWS_WITH(decent::parse_curriculum_order("reverse"),
                    Contains("'reverse'") && Contains("curr, anti, rand, none"));
  CHECK_THROWS_AS(decent::parse_curriculum_order(""), std::invalid_argument);
}

TEST_CASE("curriculum_order sorts by score and breaks ties by position", "[data][curriculum]") {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> scores = {0.5f, 0.1f, 0.5f, inf, 0.1f, -1.0f, 0.5f};
  using V = std::vector<Eigen::Index>;
  CHECK(decent::curriculum_order(scores, CurriculumOrder::curr, 0) == V{5, 1, 4, 0, 2, 6, 3});
  CHECK(decent::curriculum_order(scores, CurriculumOrder::anti, 0) == V{3, 0, 2, 6, 1, 4, 5});
  CHECK(decent::curriculum_order(scores, CurriculumOrder::none, 0) == V{0, 1, 2, 3, 4, 5, 6});
  // All equal: every ordering but rand is the identity.
  const std::vector<float> flat(5, 2.0f);
  CHECK(decent::curriculum_order(flat, CurriculumOrder::curr, 0) == V{0, 1, 2, 3, 4});
  CHECK(decent::curriculum_order(flat, CurriculumOrder::anti, 0) == V{0, 1, 2, 3, 4});
  CHECK(decent::curriculum_order({}, CurriculumOrder::curr, 0).empty());
}

TEST_CASE("curriculum_order rand is a seeded permutation", "[data][curriculum]") {
  std::vector<float> scores(50);
  for (std::size_t k = 0; k < scores.size(); ++k) scores[k] = static_cast<float>(k);
  const auto a = decent::curriculum_order(scores, CurriculumOrder::rand, 7);
  CHECK(a == decent::curriculum_order(scores, CurriculumOrder::rand, 7));
  CHECK(a != decent::curriculum_order(scores, CurriculumOrder::rand, 8));
  CHECK(a != decent::curriculum_order(scores, CurriculumOrder::curr, 7));
  CHECK(sorted(a) == decent::curriculum_order(scores, CurriculumOrder::none, 0));
}

TEST_CASE("curriculum_order rejects NaN scores naming the position", "[data][curriculum]") {
  const std::vector<float> scores = {0.1f, 0.2f, std::numeric_limits<float>::quiet_NaN(), 0.3f};
  for (const CurriculumOrder order : {CurriculumOrder::curr, CurriculumOrder::anti, CurriculumOrder::rand,
                                      CurriculumOrder::none})
    CHECK_THROWS_WITH(decent::curriculum_order(scores, order, 1), Contains("scores[2] is NaN"));
  CHECK_THROWS_AS(decent::curriculum_order(scores, CurriculumOrder::curr, 1), std::invalid_argument);
}

TEST_CASE("PacedSampler passes visit their paced pool prefix exactly once", "[data][curriculum]") {
  // n = 200, batch 7, T = 60, linear a = 0.5, b = 0.2: pools grow from 40 to 200 by step 30.
  const Eigen::Index n = 200, batch = 7, total_steps = 60;
  const std::vector<Eigen::Index> order = reversed_spaced(n);
  PacedSampler s(order, batch, Pacing::linear, 0.5, 0.2, total_steps, 11);
  CHECK(s.state() == decent::PacedSamplerState{0, 0, 40, 0});
  const int batches = 150;
  const std::vector<Eigen::Index> seq = draw(s, batches);

  // The expected passes: a pass that begins with sample `first` begins in batch first / batch, which
  // sets its pool; the pool sizes must grow as paced.
  Eigen::Index first = 0;
  std::vector<Eigen::Index> pools;
  while (first < static_cast<Eigen::Index>(seq.size())) {
    const Eigen::Index pool =
        std::max<Eigen::Index>(32, pacing_pool_size(Pacing::linear, 0.5, 0.2, first / batch, total_steps, n));
    CHECK(pool == s.pool_size(first / batch));
    const Eigen::Index last = std::min<Eigen::Index>(first + pool, static_cast<Eigen::Index>(seq.size()));
    const std::vector<Eigen::Index> pass(seq.begin() + first, seq.begin() + last);
    if (last - first == pool) {
      // A complete pass: each index of the prefix order[0, pool) exactly once.
      CHECK(sorted(pass) == sorted(std::vector<Eigen::Index>(order.begin(), order.begin() + pool)));
      CHECK(pass != std::vector<Eigen::Index>(order.begin(), order.begin() + pool));  // shuffled
    } else {
      // The unfinished last pass: distinct indices of the prefix.
      const std::set<Eigen::Index> prefix(order.begin(), order.begin() + pool);
      CHECK(std::set<Eigen::Index>(pass.begin(), pass.end()).size() == pass.size());
      for (const Eigen::Index index : pass) CHECK(prefix.count(index) == 1);
    }
    pools.push_back(pool);
    first += pool;
  }
  REQUIRE(pools.size() >= 4);
  CHECK(pools[0] == 40);
  CHECK(std::is_sorted(pools.begin(), pools.end()));
  CHECK(pools.back() == n);
  // 150 batches = 1050 samples: the passes begun so far, and where the last one stands.
  CHECK(s.state().pass == pools.size() - 1);
  CHECK(s.state().pool == pools.back());
  CHECK(s.state().step == batches);
  CHECK(s.state().position == 1050 - (first - pools.back()));
}

TEST_CASE("PacedSampler keeps a pool of at least 32 samples", "[data][curriculum]") {
  // b = 0.01 of 500 is 5 samples: the pool is 32 until g(t) exceeds 32.
  const std::vector<Eigen::Index> order = reversed_spaced(500);
  PacedSampler s(order, 8, Pacing::step, 1.0, 0.01, 100, 3);
  CHECK(s.pool_size(0) == 32);
  CHECK(s.pool_size(99) == 32);
  CHECK(s.pool_size(100) == 500);
  const std::vector<Eigen::Index> seq = draw(s, 40);  // 320 samples: 10 passes over the 32 easiest
  const std::set<Eigen::Index> prefix(order.begin(), order.begin() + 32);
  for (const Eigen::Index index : seq) CHECK(prefix.count(index) == 1);
  CHECK(s.state().pass == 9);
  // Fewer than 32 samples: the pool is all of them.
  PacedSampler small(reversed_spaced(20), 3, Pacing::linear, 0.8, 0.1, 10, 3);
  CHECK(small.pool_size(0) == 20);
  std::vector<Eigen::Index> thrice;
  for (int pass = 0; pass < 3; ++pass) thrice.insert(thrice.end(), small.order().begin(), small.order().end());
  CHECK(sorted(draw(small, 20)) == sorted(thrice));  // 60 samples: three passes over all 20
}

TEST_CASE("PacedSampler completes a straddling batch from the next pass", "[data][curriculum]") {
  // Pool 32 for the first pass (b N = 3.2 < 32), batch 5: batch 6 holds samples 30..34, two of pass 0 and
  // three of pass 1, whose pool g(6) = max(32, 3.2 + 96.8 * 6 / 10) = 61.
  const std::vector<Eigen::Index> order = reversed_spaced(100);
  PacedSampler s(order, 5, Pacing::linear, 1.0, 0.032, 10, 5);
  const std::vector<Eigen::Index> seq = draw(s, 6);
  CHECK(s.state() == decent::PacedSamplerState{6, 0, 32, 30});
  const auto straddle = s.next_indices();
  CHECK(s.state() == decent::PacedSamplerState{7, 1, 61, 3});
  std::vector<Eigen::Index> pass0(seq.begin(), seq.end());
  pass0.push_back(straddle[0]);
  pass0.push_back(straddle[1]);
  CHECK(sorted(pass0) == sorted(std::vector<Eigen::Index>(order.begin(), order.begin() + 32)));
  for (int k = 2; k < 5; ++k) {
    const auto at = std::find(order.begin(), order.end(), straddle[static_cast<std::size_t>(k)]);
    CHECK(at - order.begin() < 61);
  }
}

TEST_CASE("PacedSampler restart replays and restore continues bitwise", "[data][curriculum]") {
  const std::vector<Eigen::Index> order = reversed_spaced(120);
  PacedSampler s(order, 9, Pacing::sqrt, 0.6, 0.1, 40, 21);
  const std::vector<Eigen::Index> seq = draw(s, 70);
  s.restart();
  CHECK(s.state() == decent::PacedSamplerState{0, 0, s.pool_size(0), 0});
  CHECK(draw(s, 70) == seq);

  // Deterministic by seed.
  PacedSampler twin(order, 9, Pacing::sqrt, 0.6, 0.1, 40, 21);
  PacedSampler other(order, 9, Pacing::sqrt, 0.6, 0.1, 40, 22);
  CHECK(draw(twin, 70) == seq);
  CHECK(draw(other, 70) != seq);

  // Save after 23 batches, continue, and replay the continuation in samplers that stood elsewhere.
  PacedSampler d(order, 9, Pacing::sqrt, 0.6, 0.1, 40, 21);
  draw(d, 23);
  const decent::PacedSamplerState saved = d.state();
  const std::vector<Eigen::Index> rest = draw(d, 47);
  CHECK(rest == std::vector<Eigen::Index>(seq.begin() + 23 * 9, seq.end()));
  PacedSampler e(order, 9, Pacing::sqrt, 0.6, 0.1, 40, 21);
  draw(e, 61);  // restoring also works backwards
  e.restore(saved);
  CHECK(draw(e, 47) == rest);
  CHECK(e.state() == d.state());
  PacedSampler fresh(order, 9, Pacing::sqrt, 0.6, 0.1, 40, 21);
  fresh.restore(saved);
  CHECK(draw(fresh, 47) == rest);
}

TEST_CASE("PacedSampler validates its arguments and restored states", "[data][curriculum]") {
  const std::vector<Eigen::Index> order = reversed_spaced(50);
  CHECK_THROWS_WITH(PacedSampler(order, 0, Pacing::linear, 0.8, 0.2, 10, 0), Contains("batch = 0"));
  CHECK_THROWS_WITH(PacedSampler(order, 51, Pacing::linear, 0.8, 0.2, 10, 0), Contains("batch = 51") && Contains("50"));
  CHECK_THROWS_WITH(PacedSampler({}, 1, Pacing::linear, 0.8, 0.2, 10, 0), Contains("batch = 1"));
  CHECK_THROWS_WITH(PacedSampler({3, -2, 5}, 1, Pacing::linear, 0.8, 0.2, 10, 0), Contains("order[1] = -2"));
  CHECK_THROWS_WITH(PacedSampler(order, 5, Pacing::linear, 0.0, 0.2, 10, 0), Contains("a = 0"));
  CHECK_THROWS_WITH(PacedSampler(order, 5, Pacing::linear, 0.8, 2.0, 10, 0), Contains("b = 2"));
  CHECK_THROWS_WITH(PacedSampler(order, 5, Pacing::linear, 0.8, 0.2, 0, 0), Contains("total_steps = 0"));

  PacedSampler s(order, 5, Pacing::linear, 0.8, 0.2, 10, 0);
  const decent::PacedSamplerState before = s.state();
  CHECK_THROWS_WITH(s.restore({0, 0, 51, 0}), Contains("pool 51"));
  CHECK_THROWS_WITH(s.restore({0, 0, 31, 0}), Contains("pool 31") && Contains("[32, 50]"));
  CHECK_THROWS_WITH(s.restore({0, 0, 40, 41}), Contains("position 41"));
  CHECK_THROWS_WITH(s.restore({-1, 0, 40, 0}), Contains("step -1"));
  CHECK(s.state() == before);
  s.restore({3, 2, 40, 40});  // a finished pass: the next batch begins pass 3
  s.next_indices();
  CHECK(s.state().pass == 3);
  CHECK(s.state().pool == s.pool_size(3));
}

namespace {

/// Client k's score is k / 10 (client 0 the easiest), except that client 3 is the hardest.
std::vector<float> client_scores(int clients) {
  std::vector<float> scores(static_cast<std::size_t>(clients));
  for (int k = 0; k < clients; ++k) scores[static_cast<std::size_t>(k)] = static_cast<float>(k) / 10;
  scores[3] = 100;
  return scores;
}

}  // namespace

TEST_CASE("the client curriculum hands out the g easiest clients per pass", "[data][curriculum]") {
  // K = 20 clients, 4 per round, budget 40 updates, linear a = 1, b = 0.25: pools 5 + 15 t / 40.
  decent::ClientCurriculum c;
  c.clients = 20;
  c.clients_per_round = 4;
  c.budget = 40;
  c.a = 1;
  c.b = 0.25;
  c.seed = 9;
  const std::vector<float> scores = client_scores(20);
  const std::vector<Eigen::Index> order = decent::curriculum_order(scores, CurriculumOrder::curr, 0);
  decent::ClientCurriculumState state;
  std::vector<std::vector<int>> rounds;
  std::vector<std::size_t> pools;
  Eigen::Index updates = 0;
  // Whole passes until 60 updates are spent (past the budget, as the reference's last pass may go).
  while (updates < 60 || !decent::needs_client_scores(state)) {
    const bool begins = decent::needs_client_scores(state);
    if (begins) pools.push_back(static_cast<std::size_t>(pacing_pool_size(Pacing::linear, 1, 0.25, updates, 40, 20)));
    const std::span<const float> given = begins ? std::span<const float>(scores) : std::span<const float>();
    rounds.push_back(decent::next_client_round(c, given, state));
    updates += static_cast<Eigen::Index>(rounds.back().size());
    CHECK(state.updates == updates);
  }
  // Pool 5 at t = 0 (rounds of 4 and 1), 6.875 -> 6 at t = 5 (4, 2), 9.125 -> 9 at t = 11 (4, 4, 1),
  // 12.5 -> 12 at t = 20, 17 at t = 32, then all 20 at t = 49.
  CHECK(pools == std::vector<std::size_t>{5, 6, 9, 12, 17, 20});
  std::vector<std::size_t> sizes;
  for (const auto& r : rounds) sizes.push_back(r.size());
  CHECK(sizes == std::vector<std::size_t>{4, 1, 4, 2, 4, 4, 1, 4, 4, 4, 4, 4, 4, 4, 1, 4, 4, 4, 4, 4});
  CHECK(updates == 69);
  // Each pass covers its pool prefix of the score order exactly once; client 3 (the hardest) only in the last.
  std::size_t r = 0;
  for (const std::size_t pool : pools) {
    std::vector<Eigen::Index> pass;
    for (std::size_t taken = 0; taken < pool; ++r) {
      for (const int client : rounds[r]) pass.push_back(client);
      taken += rounds[r].size();
    }
    const std::vector<Eigen::Index> easiest(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(pool));
    CHECK(sorted(pass) == sorted(easiest));
    if (pool < 20) CHECK(std::find(pass.begin(), pass.end(), 3) == pass.end());
  }
  CHECK(state.passes == pools.size());
}

TEST_CASE("the client curriculum with step pacing a = b = 1 is random selection", "[data][curriculum]") {
  decent::ClientCurriculum c;
  c.clients = 10;
  c.clients_per_round = 5;
  c.pacing = Pacing::step;
  c.a = 1;
  c.b = 1;
  c.budget = 100;
  const std::vector<float> scores = client_scores(10);
  decent::ClientCurriculumState state;
  std::vector<int> first_pass;
  for (int round = 0; round < 2; ++round) {
    const auto clients = decent::next_client_round(c, scores, state);
    CHECK(clients.size() == 5);
    first_pass.insert(first_pass.end(), clients.begin(), clients.end());
  }
  std::vector<int> all(10);
  for (int k = 0; k < 10; ++k) all[static_cast<std::size_t>(k)] = k;
  std::vector<int> seen = first_pass;
  std::sort(seen.begin(), seen.end());
  CHECK(seen == all);
  CHECK(first_pass != all);  // shuffled
  // The next pass is shuffled afresh.
  std::vector<int> second_pass = decent::next_client_round(c, scores, state);
  const auto more = decent::next_client_round(c, scores, state);
  second_pass.insert(second_pass.end(), more.begin(), more.end());
  CHECK(second_pass != first_pass);
}

TEST_CASE("the client curriculum orders anti and rand, and its state is a checkpoint", "[data][curriculum]") {
  decent::ClientCurriculum c;
  c.clients = 12;
  c.clients_per_round = 3;
  c.pacing = Pacing::step;
  c.a = 1;
  c.b = 0.25;  // pool 3 until the budget is spent
  c.budget = 30;
  c.order = CurriculumOrder::anti;
  const std::vector<float> scores = client_scores(12);
  decent::ClientCurriculumState state;
  std::vector<int> round = decent::next_client_round(c, scores, state);
  std::sort(round.begin(), round.end());
  CHECK(round == std::vector<int>{3, 10, 11});  // the three hardest

  c.order = CurriculumOrder::rand;
  c.seed = 4;
  decent::ClientCurriculumState a, b;
  std::vector<int> seq_a, seq_b;
  for (int k = 0; k < 8; ++k) {
    const auto r = decent::next_client_round(c, scores, a);
    seq_a.insert(seq_a.end(), r.begin(), r.end());
  }
  // A copy of the state continues identically.
  decent::ClientCurriculumState saved = a;
  const auto next = decent::next_client_round(c, scores, a);
  CHECK(decent::next_client_round(c, scores, saved) == next);
  CHECK(saved == a);
  for (int k = 0; k < 8; ++k) {
    const auto r = decent::next_client_round(c, scores, b);
    seq_b.insert(seq_b.end(), r.begin(), r.end());
  }
  CHECK(seq_a == seq_b);
  // rand ignores the scores: not always the three easiest.
  CHECK(std::any_of(seq_a.begin(), seq_a.end(), [](int client) { return client > 3; }));
}

TEST_CASE("the client curriculum validates its parameters, scores and state", "[data][curriculum]") {
  decent::ClientCurriculum c;
  c.clients = 6;
  c.clients_per_round = 2;
  c.budget = 10;
  const std::vector<float> scores = client_scores(6);
  decent::ClientCurriculumState state;
  CHECK(decent::needs_client_scores(state));
  CHECK_THROWS_WITH(decent::next_client_round(c, {}, state), Contains("got 0 scores for 6 clients"));
  CHECK(state == decent::ClientCurriculumState{});
  decent::ClientCurriculum bad = c;
  bad.clients = 0;
  CHECK_THROWS_WITH(decent::next_client_round(bad, scores, state), Contains("clients = 0"));
  bad = c;
  bad.clients_per_round = 0;
  CHECK_THROWS_WITH(decent::next_client_round(bad, scores, state), Contains("clients_per_round = 0"));
  bad = c;
  bad.budget = 0;
  CHECK_THROWS_WITH(decent::next_client_round(bad, scores, state), Contains("budget = 0"));
  bad = c;
  bad.b = 3;
  CHECK_THROWS_WITH(decent::next_client_round(bad, scores, state), Contains("b = 3"));
  std::vector<float> nan_scores = scores;
  nan_scores[4] = std::nanf("");
  CHECK_THROWS_WITH(decent::next_client_round(c, nan_scores, state), Contains("scores[4] is NaN"));
  CHECK(state == decent::ClientCurriculumState{});

  // Mid-pass the scores are not read.
  c.b = 1;
  decent::next_client_round(c, scores, state);
  CHECK_FALSE(decent::needs_client_scores(state));
  CHECK(decent::next_client_round(c, {}, state).size() == 2);
  decent::ClientCurriculumState broken = state;
  broken.pool[0] = 6;
  CHECK_THROWS_WITH(decent::next_client_round(c, {}, broken), Contains("client 6"));
  broken = state;
  broken.position = 7;
  CHECK_THROWS_WITH(decent::next_client_round(c, {}, broken), Contains("position 7"));
}
