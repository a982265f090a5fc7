// Client selection rules: parsing, Power-of-Choice's top-m of its candidates, the high-loss sampler's
// probabilities against exp(T L) by frequency, the client curriculum's first pool, and refused input.
#include "decent/algo/client_selection.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <vector>

using namespace decent;
using Catch::Matchers::Contains;

TEST_CASE("selection rules parse with their parameters and refuse malformed ones", "[selection]") {
  CHECK(parse_client_selection("uniform").rule == SelectionRule::uniform);
  const ClientSelection poc = parse_client_selection("power-of-choice:7");
  CHECK(poc.rule == SelectionRule::power_of_choice);
  CHECK(poc.candidates == 7);
  const ClientSelection hl = parse_client_selection("high-loss:2.5");
  CHECK(hl.rule == SelectionRule::high_loss);
  CHECK(hl.temperature == 2.5);
  CHECK(parse_client_selection("curriculum").rule == SelectionRule::curriculum);
  CHECK(to_string(poc) == "power-of-choice:7");
  CHECK(to_string(hl) == "high-loss:2.5");
  CHECK(!selection_reads_losses(parse_client_selection("uniform")));
  CHECK(selection_reads_losses(hl));
  for (const char* bad : {"power-of-choice", "power-of-choice:0", "power-of-choice:3x", "high-loss", "high-loss:-1",
                          "high-loss:nan", "uniform:2", "oort"})
    CHECK_THROWS_WITH(parse_client_selection(bad), Contains("valid: uniform, power-of-choice:D"));
  CHECK_THROWS_WITH(check_client_selection(poc, 10, 8), Contains("power-of-choice:7 needs D in"));
  CHECK_THROWS_WITH(check_client_selection(poc, 5, 2), Contains("[2, 5]"));
  CHECK_THROWS_WITH(check_client_selection(hl, 10, 0), Contains("needs clients-per-round"));
  CHECK_NOTHROW(check_client_selection(parse_client_selection("uniform"), 10, 0));
}

TEST_CASE("uniform samples are m distinct clients, ascending, the same for the same round", "[selection]") {
  std::vector<int> count(20, 0);
  for (std::int64_t round = 0; round < 2000; ++round) {
    const std::vector<int> s = uniform_round_clients(20, 5, 11, round);
    REQUIRE(s.size() == 5);
    CHECK(std::is_sorted(s.begin(), s.end()));
    CHECK(std::set<int>(s.begin(), s.end()).size() == 5);
    for (int i : s) ++count[static_cast<std::size_t>(i)];
  }
  // Every client is picked with probability 1/4: 500 of 2000 rounds, give or take 5 standard deviations (97).
  for (int c : count) CHECK(std::abs(c - 500) < 97);
  CHECK(uniform_round_clients(20, 5, 11, 3) == uniform_round_clients(20, 5, 11, 3));
  CHECK(uniform_round_clients(20, 5, 11, 3) != uniform_round_clients(20, 5, 11, 4));
  CHECK(uniform_round_clients(6, 0, 1, 0) == std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("power-of-choice selects the m candidates with the largest losses", "[selection]") {
  ClientSelector selector(parse_client_selection("power-of-choice:6"), 30, 3, 50, 4);
  std::set<int> seen;
  for (int round = 0; round < 50; ++round) {
    const std::vector<int> candidates = selector.wanted();
    REQUIRE(candidates.size() == 6);
    CHECK(std::is_sorted(candidates.begin(), candidates.end()));
    CHECK(std::set<int>(candidates.begin(), candidates.end()).size() == 6);
    seen.insert(candidates.begin(), candidates.end());
    // Losses that make the candidates at positions 0, 4 and 5 the largest (0 and 4 tie, both are in).
    const std::vector<double> losses = {2, 0.2, 0.1, 0.3, 2, 9};
    const std::vector<int> expected = {candidates[0], candidates[4], candidates[5]};
    const std::vector<int> chosen = selector.select(losses);
    CHECK(chosen == expected);
    CHECK(selector.refreshed().empty());
  }
  CHECK(seen.size() > 25);  // the candidates vary over the rounds
  CHECK(selector.round() == 50);
  // A tie at the boundary goes to the smaller client id.
  ClientSelector tie(parse_client_selection("power-of-choice:4"), 4, 1, 1, 1);
  CHECK(tie.wanted() == std::vector<int>{0, 1, 2, 3});
  CHECK(tie.select(std::vector<double>{1, 3, 3, 2}) == std::vector<int>{1});
  ClientSelector sizes(parse_client_selection("power-of-choice:4"), 4, 1, 1, 1);
  CHECK_THROWS_WITH(sizes.select(std::vector<double>{1, 2}), Contains("2 losses for 4 clients"));
  CHECK_THROWS_WITH(sizes.select(std::vector<double>{1, 2, NAN, 3}), Contains("NaN"));
}

TEST_CASE("high-loss draws clients with probability proportional to exp(T L)", "[selection]") {
  // Three clients with losses 0, ln 2 and ln 4 and T = 1: probabilities 1/7, 2/7, 4/7 for one client per round.
  const std::vector<double> losses = {0, std::log(2.0), std::log(4.0)};
  ClientSelector selector(parse_client_selection("high-loss:1"), 3, 1, 7000, 9);
  CHECK(selector.wanted() == std::vector<int>{0, 1, 2});  // the first round scores everyone
  std::vector<int> count(3, 0);
  for (int round = 0; round < 7000; ++round) {
    const std::vector<int> chosen = selector.select(round == 0 ? losses : std::vector<double>{});
    REQUIRE(chosen.size() == 1);
    ++count[static_cast<std::size_t>(chosen[0])];
    // FLSim refreshes the selected client's loss under the model it received: here it stays the same.
    CHECK(selector.refreshed() == chosen);
    selector.refresh(std::vector<double>{losses[static_cast<std::size_t>(chosen[0])]});
    if (round + 1 < 7000) CHECK(selector.wanted().empty());
  }
  // Expected 1000, 2000, 4000; five standard deviations are 150, 189 and 207.
  CHECK(std::abs(count[0] - 1000) < 150);
  CHECK(std::abs(count[1] - 2000) < 189);
  CHECK(std::abs(count[2] - 4000) < 207);

  // A refreshed loss changes the next draws: client 0's loss rises far above the others' and T is large.
  ClientSelector greedy(parse_client_selection("high-loss:1000"), 4, 2, 3, 2);
  CHECK(greedy.select(std::vector<double>{1, 2, 3, 4}) == std::vector<int>{2, 3});
  greedy.refresh(std::vector<double>{3, 0});  // clients 2 and 3 under the new model
  CHECK(greedy.select(std::vector<double>{}) == std::vector<int>{1, 2});
  // T = 0 is the uniform draw: every pair turns up.
  ClientSelector flat(parse_client_selection("high-loss:0"), 4, 2, 400, 3);
  std::set<std::vector<int>> pairs;
  std::vector<double> first = {5, 1, 0, 9};
  for (int round = 0; round < 400; ++round) {
    const std::vector<int> chosen = flat.select(round == 0 ? first : std::vector<double>{});
    pairs.insert(chosen);
    flat.refresh(std::vector<double>{first[static_cast<std::size_t>(chosen[0])],
                                     first[static_cast<std::size_t>(chosen[1])]});
  }
  CHECK(pairs.size() == 6);
}

TEST_CASE("the client curriculum's first rounds take the clients with the lowest mean loss", "[selection]") {
  ClientSelection s = parse_client_selection("curriculum");
  s.order = CurriculumOrder::curr;
  s.pacing = Pacing::step;
  s.a = 0.5;  // the pool is every client from half the budget on
  s.b = 0.4;  // the first pool: 4 of 10 clients
  ClientSelector selector(s, 10, 2, 10, 5);
  const std::vector<double> losses = {5, 0.1, 7, 0.3, 9, 8, 0.2, 6, 0.4, 4};  // the easiest: 1, 6, 3, 8
  REQUIRE(selector.wanted().size() == 10);
  std::set<int> first_pass;
  for (int round = 0; round < 2; ++round) {
    const std::vector<int> chosen = selector.select(round == 0 ? losses : std::vector<double>{});
    CHECK(chosen.size() == 2);
    first_pass.insert(chosen.begin(), chosen.end());
    if (round == 0) CHECK(selector.wanted().empty());  // a pass is scored once
  }
  CHECK(first_pass == std::set<int>{1, 3, 6, 8});
  CHECK(selector.wanted().size() == 10);  // the next pass re-scores
  s.order = CurriculumOrder::anti;
  ClientSelector hardest(s, 10, 4, 10, 5);
  const std::vector<int> h = hardest.select(losses);
  CHECK(h == std::vector<int>{2, 4, 5, 7});  // the four largest losses, 7, 9, 8 and 6
}

TEST_CASE("the random client curriculum asks for no losses and still paces its pool", "[selection]") {
  ClientSelection s = parse_client_selection("curriculum");
  s.order = CurriculumOrder::rand;
  s.pacing = Pacing::step;
  s.a = 0.5;
  s.b = 0.4;  // the first pool: 4 of 10 clients, drawn at random
  ClientSelector selector(s, 10, 2, 10, 5);
  ClientSelector again(s, 10, 2, 10, 5);
  std::set<int> first_pass;
  for (int round = 0; round < 2; ++round) {
    CHECK(selector.wanted().empty());
    const std::vector<int> chosen = selector.select({});
    CHECK(chosen == again.select({}));  // seeded: the same rounds again
    CHECK(chosen.size() == 2);
    first_pass.insert(chosen.begin(), chosen.end());
  }
  CHECK(first_pass.size() == 4);  // the two rounds share no client: one pass through a pool of four
}
