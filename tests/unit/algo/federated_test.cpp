// The federated virtual clock: schedules computed by hand, the F-P duration spread, the byte and time budgets,
// and the refusal of unusable options.
#include "decent/algo/federated.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace decent;

namespace {

/// What a hand-computed schedule says about one contribution.
struct Expected {
  int client;
  std::int64_t version, staleness;
  double sent, returned;
};

FederatedOptions three_clients(AggregationRule rule) {
  // Speeds 1, 2 and 3 with a time unit of 1/6: job durations 6, 3 and 2, exact in binary.
  FederatedOptions o;
  o.rule = rule;
  o.durations = {6, 3, 2};
  return o;
}

/// Checks the next `expected.size()` updates of `clock`: times, contributions in summation order, weights.
void check_schedule(FederatedClock& clock, const std::vector<double>& times,
                    const std::vector<std::vector<Expected>>& expected, const std::vector<double>& weight_of_client) {
  REQUIRE(times.size() == expected.size());
  for (std::size_t u = 0; u < expected.size(); ++u) {
    INFO("update " << u);
    const ServerUpdate update = clock.next();
    CHECK(update.index == static_cast<std::int64_t>(u));
    CHECK(update.time == times[u]);
    REQUIRE(update.contributions.size() == expected[u].size());
    for (std::size_t j = 0; j < expected[u].size(); ++j) {
      INFO("contribution " << j);
      const Contribution& c = update.contributions[j];
      const Expected& e = expected[u][j];
      CHECK(c.client == e.client);
      CHECK(c.version == e.version);
      CHECK(c.staleness == e.staleness);
      CHECK(c.staleness == static_cast<std::int64_t>(u) - c.version);
      CHECK(c.sent_time == e.sent);
      CHECK(c.return_time == e.returned);
      CHECK(c.weight == Approx(weight_of_client[static_cast<std::size_t>(c.client)]).epsilon(1e-15));
    }
  }
}

}  // namespace

TEST_CASE("synchronous FedAvg: rounds last as long as the slowest client, no staleness", "[federated]") {
  FederatedClock clock(three_clients(AggregationRule::fedavg));
  const std::vector<Expected> round0 = {{2, 0, 0, 0, 2}, {1, 0, 0, 0, 3}, {0, 0, 0, 0, 6}};
  const std::vector<Expected> round1 = {{2, 1, 0, 6, 8}, {1, 1, 0, 6, 9}, {0, 1, 0, 6, 12}};
  check_schedule(clock, {6, 12}, {round0, round1}, {1.0 / 3, 1.0 / 3, 1.0 / 3});
}

TEST_CASE("async FedAvg: every return is its own update, hand-computed staleness", "[federated]") {
  // Returns: c2 at 2, c1 at 3, c2 at 4, then c0, c1, c2 all at 6 (ties by client id), c2 at 8, c1 at 9,
  // c2 at 10, c0 at 12. d_i = (sum_j 1/tau_j) tau_i / 3 with sum_j 1/tau_j = 1/6 + 1/3 + 1/2 = 1.
  FederatedClock clock(three_clients(AggregationRule::async_fedavg));
  check_schedule(clock, {2, 3, 4, 6, 6, 6, 8, 9, 10, 12},
                 {{{2, 0, 0, 0, 2}},
                  {{1, 0, 1, 0, 3}},
                  {{2, 1, 1, 2, 4}},
                  {{0, 0, 3, 0, 6}},
                  {{1, 2, 2, 3, 6}},
                  {{2, 3, 2, 4, 6}},
                  {{2, 6, 0, 6, 8}},
                  {{1, 5, 2, 6, 9}},
                  {{2, 7, 1, 8, 10}},
                  {{0, 4, 5, 6, 12}}},
                 {2.0, 1.0, 2.0 / 3});
}

TEST_CASE("FedBuff-2: the two earliest returns, hand-computed", "[federated]") {
  FederatedOptions o = three_clients(AggregationRule::fedbuff);
  o.buffer_size = 2;
  FederatedClock clock(o);
  check_schedule(clock, {3, 6, 8, 11, 13},
                 {{{2, 0, 0, 0, 2}, {1, 0, 0, 0, 3}},
                  {{2, 1, 0, 3, 5}, {0, 0, 1, 0, 6}},  // c0 and c1 tie at 6: c0 (smaller id) goes first
                  {{1, 1, 1, 3, 6}, {2, 2, 0, 6, 8}},
                  {{2, 3, 0, 8, 10}, {1, 3, 0, 8, 11}},
                  {{0, 2, 2, 6, 12}, {2, 4, 0, 11, 13}}},
                 {0.5, 0.5, 0.5});
}

TEST_CASE("FedFix-2.5: windows, staleness and ceil(tau/dt) weights, hand-computed", "[federated]") {
  // Windows per job: ceil(6/2.5) = 3, ceil(3/2.5) = 2, ceil(2/2.5) = 1; a client sent theta^v at 2.5 v
  // returns in update v + windows - 1, with staleness windows - 1.
  FederatedOptions o = three_clients(AggregationRule::fedfix);
  o.fedfix_dt = 2.5;
  FederatedClock clock(o);
  check_schedule(clock, {2.5, 5, 7.5, 10, 12.5, 15},
                 {{{2, 0, 0, 0, 2}},
                  {{1, 0, 1, 0, 3}, {2, 1, 0, 2.5, 4.5}},
                  {{0, 0, 2, 0, 6}, {2, 2, 0, 5, 7}},
                  {{1, 2, 1, 5, 8}, {2, 3, 0, 7.5, 9.5}},
                  {{2, 4, 0, 10, 12}},
                  {{1, 4, 1, 10, 13}, {0, 3, 2, 7.5, 13.5}, {2, 5, 0, 12.5, 14.5}}},
                 {1.0, 2.0 / 3, 1.0 / 3});
}

TEST_CASE("FedFix: empty windows are updates too, and a job of exactly k windows returns in the k-th", "[federated]") {
  FederatedOptions o = three_clients(AggregationRule::fedfix);
  o.fedfix_dt = 1;  // windows 6, 3, 2
  FederatedClock clock(o);
  check_schedule(clock, {1, 2, 3, 4},
                 {{}, {{2, 0, 1, 0, 2}}, {{1, 0, 2, 0, 3}}, {{2, 2, 1, 2, 4}}},
                 {6.0 / 3, 3.0 / 3, 2.0 / 3});
}

TEST_CASE("with equal durations, FedBuff with c = all has FedAvg's schedule and weights", "[federated]") {
  FederatedOptions avg;
  avg.rule = AggregationRule::fedavg;
  avg.durations = std::vector<double>(5, 0.7);
  FederatedOptions buff = avg;
  buff.rule = AggregationRule::fedbuff;
  buff.buffer_size = 5;
  FederatedClock a(avg), b(buff);
  for (int u = 0; u < 20; ++u) {
    const ServerUpdate x = a.next(), y = b.next();
    INFO("update " << u);
    REQUIRE(x.contributions.size() == y.contributions.size());
    for (std::size_t j = 0; j < x.contributions.size(); ++j) {
      CHECK(x.contributions[j].client == y.contributions[j].client);
      CHECK(x.contributions[j].version == y.contributions[j].version);
      CHECK(x.contributions[j].weight == y.contributions[j].weight);  // bitwise: both 1.0 / 5
      CHECK(y.contributions[j].staleness == 0);
    }
    CHECK(x.time == Approx(y.time).epsilon(1e-12));  // u * tau against a running sum of tau
  }
}

TEST_CASE("the F-P spread: client 0 takes 1, client n-1 takes 1 - P/100, linear in between", "[federated]") {
  const std::vector<double> tau = spread_durations(10, 80);
  REQUIRE(tau.size() == 10);
  CHECK(tau[0] == 1.0);
  CHECK(tau[9] == Approx(0.2).epsilon(1e-12));
  for (std::size_t i = 1; i < tau.size(); ++i) CHECK(tau[i - 1] - tau[i] == Approx(0.8 / 9).epsilon(1e-9));
  CHECK(spread_durations(1, 80) == std::vector<double>{1.0});
  CHECK(spread_durations(4, 0) == std::vector<double>(4, 1.0));
  CHECK_THROWS_WITH(spread_durations(4, 100), Catch::Contains("speed-spread"));
  CHECK_THROWS_WITH(spread_durations(4, -1), Catch::Contains("speed-spread"));
}

TEST_CASE("virtual-time and byte budgets follow the clock", "[federated]") {
  FederatedOptions o = three_clients(AggregationRule::fedavg);
  CHECK(federated_updates_within(o, 12) == 2);
  CHECK(federated_updates_within(o, 11.9) == 1);
  CHECK(federated_updates_within(o, 5) == 0);
  o.rule = AggregationRule::async_fedavg;
  CHECK(federated_updates_within(o, 6) == 6);  // returns at 2, 3, 4, 6, 6, 6
  CHECK_THROWS_WITH(federated_updates_within(o, -1), Catch::Contains("virtual-time"));
  // FedAvg, 2 rounds of 3 clients, 10 floats: theta^0 to 3, 3 uploads, theta^1 to 3, 3 uploads.
  o.rule = AggregationRule::fedavg;
  o.steps = 2;
  CHECK(federated_bytes(o, 10) == 12 * 10 * sizeof(float));
  // FedFix-1: update 0 is empty, update 1 takes c2 back, update 2 is the last (no download after it).
  o.rule = AggregationRule::fedfix;
  o.fedfix_dt = 1;
  o.steps = 3;
  CHECK(federated_bytes(o, 10) == (3 + 0 + 2 + 1) * 10 * sizeof(float));
}

TEST_CASE("unusable federated options are refused, naming the key", "[federated]") {
  FederatedOptions o = three_clients(AggregationRule::fedbuff);
  o.buffer_size = 0;
  CHECK_THROWS_WITH(FederatedClock(o), Catch::Contains("buffer-size"));
  o.buffer_size = 4;
  CHECK_THROWS_WITH(FederatedClock(o), Catch::Contains("buffer-size"));
  o = three_clients(AggregationRule::fedfix);
  o.fedfix_dt = -0.5;
  CHECK_THROWS_WITH(FederatedClock(o), Catch::Contains("fedfix-dt"));
  o.fedfix_dt = 1e-12;
  CHECK_THROWS_WITH(FederatedClock(o), Catch::Contains("fedfix-dt"));
  o = three_clients(AggregationRule::fedavg);
  o.durations = {1, 2};
  CHECK_THROWS_WITH(check_federated_options(o, 3), Catch::Contains("client-times"));
  o.durations = {1, 0, 2};
  CHECK_THROWS_WITH(check_federated_options(o, 3), Catch::Contains("client-times"));
  o.durations = {1, 2, 3};
  o.local_steps = 0;
  CHECK_THROWS_WITH(check_federated_options(o, 3), Catch::Contains("local-steps"));
  o.local_steps = 1;
  o.server_lr = 0;
  CHECK_THROWS_WITH(check_federated_options(o, 3), Catch::Contains("server-lr"));
  CHECK_THROWS_WITH(parse_aggregation_rule("fedsgd"), Catch::Contains("async-fedavg"));
  for (const char* name : {"fedavg", "async-fedavg", "fedbuff", "fedfix"})
    CHECK(to_string(parse_aggregation_rule(name)) == name);
}

TEST_CASE("participation: a seeded uniform sample of m clients per round, sorted, the same on every call",
          "[federated]") {
  FederatedOptions o;
  o.durations.assign(10, 1.0);
  o.clients_per_round = 4;
  o.seed = 5;
  std::vector<int> times_selected(10, 0);
  bool rounds_differ = false;
  for (std::int64_t round = 0; round < 500; ++round) {
    const std::vector<int> s = selected_clients(o, 10, round);
    REQUIRE(s.size() == 4);
    CHECK(std::is_sorted(s.begin(), s.end()));
    CHECK(std::adjacent_find(s.begin(), s.end()) == s.end());
    CHECK(s == selected_clients(o, 10, round));
    if (round > 0 && s != selected_clients(o, 10, round - 1)) rounds_differ = true;
    for (int c : s) ++times_selected[static_cast<std::size_t>(c)];
  }
  CHECK(rounds_differ);
  // Uniform: each client is selected with probability 0.4, 200 of 500 rounds; 4.5 sigma is about 50.
  for (int count : times_selected) CHECK(std::abs(count - 200) < 50);
  o.clients_per_round = 0;
  CHECK(selected_clients(o, 10, 3).size() == 10);
}

TEST_CASE("participation: the deadline drops slow clients and ends the round, weights are 1/returned",
          "[federated]") {
  FederatedOptions o;
  o.durations = {1.0, 3.0, 2.0};
  o.deadline = 2.5;
  FederatedClock clock(o);
  for (int u = 0; u < 3; ++u) {
    const ServerUpdate update = clock.next();
    CHECK(update.time == 2.5 * (u + 1));  // the server waits until the deadline for client 1
    CHECK(update.selected == std::vector<int>{0, 1, 2});
    CHECK(update.dropped == std::vector<int>{1});
    REQUIRE(update.contributions.size() == 2);
    CHECK(update.contributions[0].client == 0);  // by return time
    CHECK(update.contributions[1].client == 2);
    for (const Contribution& c : update.contributions) {
      CHECK(c.weight == 0.5);
      CHECK(c.sent_time == 2.5 * u);
      CHECK(c.staleness == 0);
    }
  }
}

TEST_CASE("participation: dropout P drops about P of the selected clients, bytes count downloads and returns",
          "[federated]") {
  FederatedOptions o;
  o.durations.assign(8, 1.0);
  o.clients_per_round = 5;
  o.dropout = 0.25;
  o.steps = 400;
  FederatedClock clock(o);
  std::uint64_t selected = 0, returned = 0;
  for (std::int64_t u = 0; u < o.steps; ++u) {
    const ServerUpdate update = clock.next();
    CHECK(update.time == static_cast<double>(u + 1));
    CHECK(update.selected.size() == 5);
    CHECK(update.contributions.size() + update.dropped.size() == 5);
    for (const Contribution& c : update.contributions)
      CHECK(c.weight == 1.0 / static_cast<double>(update.contributions.size()));
    selected += update.selected.size();
    returned += update.contributions.size();
  }
  // 2000 selections, 1500 expected returns, sigma about 19.
  CHECK(std::abs(static_cast<double>(returned) - 1500.0) < 100.0);
  CHECK(federated_bytes(o, 10) == (selected + returned) * 10 * sizeof(float));
}

TEST_CASE("participation options are refused outside fedavg and outside their ranges", "[federated]") {
  FederatedOptions o;
  o.durations.assign(4, 1.0);
  o.clients_per_round = 5;
  CHECK_THROWS_WITH(check_federated_options(o, 4), Catch::Contains("clients-per-round: 5 is outside [1, 4]"));
  o.clients_per_round = 2;
  o.rule = AggregationRule::fedbuff;
  CHECK_THROWS_WITH(check_federated_options(o, 4), Catch::Contains("apply to algorithm = fedavg"));
  o.rule = AggregationRule::fedavg;
  o.dropout = 1;
  CHECK_THROWS_WITH(check_federated_options(o, 4), Catch::Contains("dropout: 1 is outside [0, 1)"));
  o.dropout = 0;
  o.deadline = -1;
  CHECK_THROWS_WITH(check_federated_options(o, 4), Catch::Contains("deadline: must be a finite number >= 0"));
}
