// Availability traces: the file format and its bad inputs, the on/off queries, and what a trace does to
// synchronous FedAvg's rounds (who is offered the model, when a round starts, who returns) and to the
// loss-reading selectors.
#include "decent/algo/availability.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "decent/algo/client_selection.hpp"
#include "decent/algo/federated.hpp"
#include "support/scratch_dir.hpp"

using namespace decent;

namespace {

Availability parsed(const std::string& text, int clients) {
  std::istringstream in(text);
  return parse_availability(in, "trace.txt", clients);
}

const double inf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("an availability trace reads one on-interval per line, in any order, with comments", "[availability]") {
  const Availability a = parsed("# client start end\n1 10 20\n\n1 0 5   # first\n2 3 inf\r\n", 3);
  REQUIRE(a.clients() == 3);
  CHECK(a.source() == "trace.txt");
  CHECK(a.intervals()[0].empty());
  REQUIRE(a.intervals()[1].size() == 2);
  CHECK(a.intervals()[1][0].start == 0);
  CHECK(a.intervals()[1][0].end == 5);
  CHECK(a.intervals()[1][1].start == 10);
  CHECK(a.intervals()[2][0].end == inf);
  // Client 0 is not in the file: always online.
  CHECK(a.online(0, 0));
  CHECK(a.online(0, 1e9));
  // Half-open intervals.
  CHECK(a.online(1, 0));
  CHECK(a.online(1, 4.999));
  CHECK_FALSE(a.online(1, 5));
  CHECK_FALSE(a.online(1, 7));
  CHECK(a.online(1, 10));
  CHECK_FALSE(a.online(1, 20));
  CHECK_FALSE(a.online(2, 2.9));
  CHECK(a.online(2, 1e300));
  CHECK(a.online_at(3, 7) == std::vector<int>{0, 2});
  CHECK(a.online_at(3, 1) == std::vector<int>{0, 1});
  // A job returns only if its client stays online until it ends (the end itself may touch the interval's end).
  CHECK(a.online_throughout(1, 1, 5));
  CHECK_FALSE(a.online_throughout(1, 1, 5.5));
  CHECK_FALSE(a.online_throughout(1, 6, 7));
  CHECK(a.online_throughout(2, 4, 1e12));
  CHECK(a.next_online(1, 2) == 2);
  CHECK(a.next_online(1, 5) == 10);
  CHECK(a.next_online(1, 20) == inf);
  CHECK(a.next_online(2, 0) == 3);
  // Touching intervals are one continuous presence for online(), but a job may not span the seam.
  const Availability touching = parsed("0 0 5\n0 5 9\n", 1);
  CHECK(touching.online(0, 5));
  CHECK_FALSE(touching.online_throughout(0, 4, 6));
}

TEST_CASE("a malformed availability trace is refused with the file, the line and the problem", "[availability]") {
  const auto refused = [](const std::string& text, const std::string& message) {
    INFO(text);
    CHECK_THROWS_WITH(parsed(text, 4), Catch::Contains(message));
    CHECK_THROWS_AS(parsed(text, 4), input_error);
  };
  refused("0 0 5\n1 2\n", "trace.txt:2: expected 'CLIENT START END'");
  refused("0 0 5 6\n", "trace.txt:1: expected 'CLIENT START END'");
  refused("x 0 5\n", "trace.txt:1: client 'x' is not an integer");
  refused("4 0 5\n", "trace.txt:1: client 4 is not one of the run's clients 0..3");
  refused("-1 0 5\n", "trace.txt:1: client -1 is not one of the run's clients");
  refused("0 -2 5\n", "trace.txt:1: start -2 is negative");
  refused("0 0 -5\n", "trace.txt:1: end -5 is negative");
  refused("0 zero 5\n", "trace.txt:1: start 'zero' is not a finite number");
  refused("0 inf 5\n", "trace.txt:1: start 'inf' is not a finite number");
  refused("0 0 nan\n", "trace.txt:1: end 'nan' is not a finite number or inf");
  refused("0 5 5\n", "trace.txt:1: interval [5, 5) is empty");
  refused("0 5 3\n", "trace.txt:1: interval [5, 3) is empty");
  refused("# nothing\n\n", "trace.txt: holds no interval");
  refused("2 10 20\n0 0 1\n2 0 11\n", "trace.txt:1: client 2's interval [10, 20) overlaps its interval [0, 11) of line 3");
  refused("2 0 inf\n2 100 200\n", "trace.txt:2: client 2's interval [100, 200) overlaps its interval [0, inf) of line 1");
  CHECK_THROWS_WITH(parsed("0 0 1\n", 0), Catch::Contains("needs at least one client"));
  // Lists given directly are checked too.
  CHECK_THROWS_WITH(Availability({{{0, 5}, {4, 9}}}), Catch::Contains("overlap or are not sorted"));
  CHECK_THROWS_WITH(Availability({{{3, 3}}}), Catch::Contains("is not a non-empty interval"));
}

TEST_CASE("read_availability reads a file and names a missing one", "[availability]") {
  const test::ScratchDir dir("availability");
  const std::string path = dir.file("on.txt", "0 0 2\n1 1 inf\n");
  const Availability a = read_availability(path, 2);
  CHECK(a.source() == path);
  CHECK(a.online_at(2, 1.5) == std::vector<int>{0, 1});
  CHECK(describe(a) == path + ": on-intervals of 2 of the 2 clients (the others always online)");
  CHECK(describe(Availability()) == "every client always online");
  CHECK_THROWS_WITH(read_availability(dir.path("missing.txt"), 2),
                    Catch::Contains("availability: " + dir.path("missing.txt") + ": cannot open file"));
  CHECK_THROWS_WITH(read_availability(dir.path(""), 2), Catch::Contains("is a directory"));
}

TEST_CASE("a trace in which everyone is always online leaves FedAvg's rounds as they are", "[availability]") {
  FederatedOptions plain;
  plain.durations = {1.0, 2.5, 0.5, 1.5, 3.0};
  plain.clients_per_round = 3;
  plain.dropout = 0.2;
  plain.seed = 11;
  FederatedOptions traced = plain;
  traced.availability = Availability({{{0, inf}}, {}, {{0, inf}}, {{0, inf}}, {}});
  FederatedClock a(plain), b(traced);
  for (int u = 0; u < 50; ++u) {
    const ServerUpdate x = a.next(), y = b.next();
    CHECK(x.time == y.time);
    CHECK(x.selected == y.selected);
    CHECK(x.dropped == y.dropped);
    CHECK(x.online == 5);
    CHECK(y.online == 5);
    REQUIRE(x.contributions.size() == y.contributions.size());
    for (std::size_t j = 0; j < x.contributions.size(); ++j) CHECK(x.contributions[j].client == y.contributions[j].client);
  }
}

TEST_CASE("availability: rounds offer the model to online clients only, wait for one, drop who goes offline",
          "[availability]") {
  FederatedOptions o;
  o.durations = {1.0, 1.0, 2.0};
  o.clients_per_round = 3;  // every online client
  // Client 0 online in [0, 2.5) and [6, inf); client 1 in [0, 1.5); client 2 in [1, 3) and [7, 9).
  o.availability = Availability({{{0, 2.5}, {6, inf}}, {{0, 1.5}}, {{1, 3}, {7, 9}}});
  FederatedClock clock(o);
  // Round 0 at t = 0: clients 0 and 1 online; both return at 1.
  ServerUpdate u = clock.next();
  CHECK(u.online == 2);
  CHECK(u.selected == std::vector<int>{0, 1});
  CHECK(u.dropped.empty());
  CHECK(u.time == 1);
  // Round 1 at t = 1: all three online; client 1 goes offline at 1.5 (its job ends at 2), client 2's job ends
  // at 3 = its interval's end: it returns. The server waits for the slowest, 2 units.
  u = clock.next();
  CHECK(u.online == 3);
  CHECK(u.selected == std::vector<int>{0, 1, 2});
  CHECK(u.dropped == std::vector<int>{1});
  CHECK(u.time == 3);
  REQUIRE(u.contributions.size() == 2);
  CHECK(u.contributions[0].weight == 0.5);
  // Round 2: nobody is online at 3; client 0 comes back at 6 and returns at 7.
  CHECK(clock.round_start() == 6);
  CHECK(clock.online() == std::vector<int>{0});
  u = clock.next();
  CHECK(u.selected == std::vector<int>{0});
  CHECK(u.contributions.size() == 1);
  CHECK(u.contributions[0].sent_time == 6);
  CHECK(u.time == 7);
  // Round 3 at 7: clients 0 and 2; client 2's job [7, 9] touches the end of [7, 9): it returns.
  u = clock.next();
  CHECK(u.selected == std::vector<int>{0, 2});
  CHECK(u.dropped.empty());
  CHECK(u.time == 9);
  // Round 4 at 9: only client 0 (forever); the plan's bytes count every offer and return.
  u = clock.next();
  CHECK(u.selected == std::vector<int>{0});
  o.steps = 5;
  const std::uint64_t offers = 2 + 3 + 1 + 2 + 1, returns = 2 + 2 + 1 + 2 + 1;
  CHECK(federated_bytes(o, 10) == (offers + returns) * 10 * sizeof(float));
  // A client chosen by a selector must be online.
  FederatedClock again(o);
  CHECK_THROWS_WITH(again.next(std::vector<int>{2}), Catch::Contains("client 2 is offline when round 0 starts at 0"));
}

TEST_CASE("availability: a sample of m is drawn among the online clients, uniformly", "[availability]") {
  FederatedOptions o;
  o.durations.assign(6, 1.0);
  o.clients_per_round = 2;
  o.seed = 3;
  // Clients 4 and 5 are never online before t = 1e9; the others always.
  o.availability = Availability({{}, {}, {}, {}, {{1e9, inf}}, {{1e9, inf}}});
  FederatedClock clock(o);
  std::vector<int> count(6, 0);
  for (int u = 0; u < 2000; ++u) {
    const ServerUpdate update = clock.next();
    CHECK(update.online == 4);
    REQUIRE(update.selected.size() == 2);
    for (const int c : update.selected) ++count[static_cast<std::size_t>(c)];
  }
  CHECK(count[4] == 0);
  CHECK(count[5] == 0);
  // Each of 4 online clients is chosen with probability 1/2: 1000 of 2000 rounds, sigma about 22.
  for (int c = 0; c < 4; ++c) CHECK(std::abs(count[static_cast<std::size_t>(c)] - 1000) < 110);
}

TEST_CASE("availability: a trace with no client online again ends the run with an input error", "[availability]") {
  FederatedOptions o;
  o.durations = {1.0, 1.0};
  o.availability = Availability({{{0, 1}}, {{0, 2}}});
  o.availability.set_source("short.txt");
  FederatedClock clock(o);
  clock.next();  // [0, 1]
  clock.next();  // client 1 alone at 1, returns at 2
  CHECK_THROWS_AS(clock.next(), input_error);
  FederatedClock again(o);
  again.next();
  again.next();
  CHECK_THROWS_WITH(again.next(), Catch::Contains("availability: no client of 'short.txt' is online at or after "
                                                  "virtual time 2, when round 2 would start"));
  o.steps = 3;
  CHECK_THROWS_AS(federated_bytes(o, 4), input_error);
}

TEST_CASE("availability options: fedavg only, one list per client, not with the client curriculum",
          "[availability]") {
  FederatedOptions o;
  o.durations.assign(3, 1.0);
  o.availability = Availability({{}, {}});
  CHECK_THROWS_WITH(check_federated_options(o, 3), Catch::Contains("availability: the trace covers 2 clients, the run has 3"));
  o.availability = Availability({{}, {}, {{0, 4}}});
  o.rule = AggregationRule::fedbuff;
  CHECK_THROWS_WITH(check_federated_options(o, 3), Catch::Contains("availability apply to algorithm = fedavg"));
  o.rule = AggregationRule::fedavg;
  CHECK(uses_participation(o));
  CHECK_NOTHROW(check_federated_options(o, 3));
  o.clients_per_round = 2;
  o.selection.rule = SelectionRule::curriculum;
  CHECK_THROWS_WITH(check_federated_options(o, 3), Catch::Contains("does not combine with client-selection = curriculum"));
  o.selection = parse_client_selection("power-of-choice:2");
  CHECK_FALSE(federated_bytes_exact(o));
  o.availability = Availability();
  CHECK(federated_bytes_exact(o));
}

TEST_CASE("selectors offered the online clients choose among them", "[availability]") {
  const std::vector<double> none;
  SECTION("power-of-choice: D candidates among the offered, the m largest losses") {
    ClientSelector s(parse_client_selection("power-of-choice:3"), 6, 2, 10, 7);
    s.offer({1, 3, 4});
    const std::vector<int> asked = s.wanted();
    CHECK(asked == std::vector<int>{1, 3, 4});  // D = 3 of 3 offered
    const std::vector<double> losses{0.5, 2.0, 1.0};
    CHECK(s.select(losses) == std::vector<int>{3, 4});
    s.offer({5});  // fewer online than m: the one there is
    CHECK(s.wanted() == std::vector<int>{5});
    CHECK(s.select(std::vector<double>{0.1}) == std::vector<int>{5});
  }
  SECTION("high-loss: scores each newly offered client once, draws among the offered") {
    ClientSelector s(parse_client_selection("high-loss:1"), 5, 2, 100, 9);
    s.offer({0, 1, 2});
    CHECK(s.wanted() == std::vector<int>{0, 1, 2});
    std::vector<int> first = s.select(std::vector<double>{1.0, 1.0, 1.0});
    CHECK(first.size() == 2);
    for (const int c : first) CHECK(c < 3);
    s.offer({1, 2, 3, 4});
    CHECK(s.wanted() == std::vector<int>{3, 4});  // 1 and 2 are known
    int picked_new = 0;
    for (int round = 0; round < 50; ++round) {
      const std::vector<int> chosen = s.select(round == 0 ? std::vector<double>{1.0, 1.0} : none);
      REQUIRE(chosen.size() == 2);
      for (const int c : chosen) {
        CHECK(c >= 1);
        picked_new += c >= 3 ? 1 : 0;
      }
      CHECK(s.wanted().empty());
    }
    CHECK(picked_new > 0);
    s.offer({0});
    CHECK(s.wanted().empty());  // client 0's loss is known from the first round
    CHECK(s.select(none) == std::vector<int>{0});
  }
  SECTION("uniform among the offered") {
    ClientSelector s(parse_client_selection("power-of-choice:1"), 4, 1, 10, 1);
    CHECK_THROWS_WITH(s.offer({}), Catch::Contains("no client offered"));
    CHECK_THROWS_WITH(s.offer({2, 1}), Catch::Contains("not in [0, 4) or not ascending"));
    ClientSelector c(parse_client_selection("curriculum"), 4, 1, 10, 1);
    CHECK_THROWS_WITH(c.offer({1}), Catch::Contains("cannot be restricted"));
  }
}
