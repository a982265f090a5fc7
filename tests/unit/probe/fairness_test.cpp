#include "decent/probe/fairness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace {

using Catch::Matchers::Contains;
using decent::FairnessCounts;
using decent::PidTerms;

/// A distribution (or histogram) over (client s, z, yhat) at [(s * 2 + z) * 2 + yhat].
using Table = std::vector<double>;

std::size_t cell(std::size_t s, int z, int y) {
  return (s * 2 + static_cast<std::size_t>(z)) * 2 + static_cast<std::size_t>(y);
}

FairnessCounts counts_of(const Table& t) {
  FairnessCounts counts(static_cast<int>(t.size() / 4));
  for (std::size_t s = 0; s < t.size() / 4; ++s)
    for (int z = 0; z < 2; ++z)
      for (int y = 0; y < 2; ++y) counts.add(static_cast<int>(s), z, y, t[cell(s, z, y)]);
  return counts;
}

/// The entropy in bits of the margin of t on key(s, z, y) in [0, keys), t normalized by its sum. This reference
/// works from entropies, H(A) + H(B) - H(A, B), unlike the library's log-ratio sums.
double entropy(const Table& t, int keys, const std::function<int(int, int, int)>& key) {
  std::vector<double> margin(static_cast<std::size_t>(keys), 0);
  double total = 0;
  for (std::size_t s = 0; s < t.size() / 4; ++s)
    for (int z = 0; z < 2; ++z)
      for (int y = 0; y < 2; ++y) {
        margin[static_cast<std::size_t>(key(static_cast<int>(s), z, y))] += t[cell(s, z, y)];
        total += t[cell(s, z, y)];
      }
  double h = 0;
  for (double m : margin)
    if (m > 0) h -= m / total * std::log2(m / total);
  return h;
}

/// Reference informations in bits from entropies of margins.
struct Reference {
  double z_yhat, z_s, yhat_s, z_yhat_given_s, z_s_given_yhat;
};

Reference reference(const Table& t) {
  const int k = static_cast<int>(t.size() / 4);
  const double hz = entropy(t, 2, [](int, int z, int) { return z; });
  const double hy = entropy(t, 2, [](int, int, int y) { return y; });
  const double hs = entropy(t, k, [](int s, int, int) { return s; });
  const double hzy = entropy(t, 4, [](int, int z, int y) { return z * 2 + y; });
  const double hzs = entropy(t, 2 * k, [](int s, int z, int) { return s * 2 + z; });
  const double hys = entropy(t, 2 * k, [](int s, int, int y) { return s * 2 + y; });
  const double hzys = entropy(t, 4 * k, [](int s, int z, int y) { return (s * 2 + z) * 2 + y; });
  return {hz + hy - hzy, hz + hs - hzs, hy + hs - hys, hzs + hys - hzys - hs, hzy + hys - hzys - hy};
}

/// -x log2 x, with 0 log 0 = 0.
double plogp(double x) { return x > 0 ? -x * std::log2(x) : 0; }

/// I_Q(Z; Yhat | S) = H(Z, S) + H(Yhat, S) - H(Z, Yhat, S) - H(S) in bits: the BROJA objective (as reference(q)
/// computes it, unrolled for speed in the brute-force searches).
double conditional_mi(const Table& q) {
  double total = 0;
  for (double x : q) total += x;
  double h = 0;
  for (std::size_t s = 0; s < q.size() / 4; ++s) {
    const double a = q[4 * s] / total, b = q[4 * s + 1] / total, c = q[4 * s + 2] / total, d = q[4 * s + 3] / total;
    h += plogp(a + b) + plogp(c + d) + plogp(a + c) + plogp(b + d);
    h -= plogp(a) + plogp(b) + plogp(c) + plogp(d) + plogp(a + b + c + d);
  }
  return h;
}

/// min over [lo, hi] of a convex f by golden-section search, endpoints included (a minimum on the boundary is common).
double golden_min(double lo, double hi, int iterations, const std::function<double(double)>& f) {
  double best = std::min(f(lo), f(hi));
  if (!(hi > lo)) return best;
  const double r = 0.5 * (std::sqrt(5.0) - 1);
  double x1 = hi - r * (hi - lo), x2 = lo + r * (hi - lo), f1 = f(x1), f2 = f(x2);
  for (int i = 0; i < iterations; ++i) {
    if (f1 < f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - r * (hi - lo);
      f1 = f(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + r * (hi - lo);
      f2 = f(x2);
    }
  }
  return std::min({best, f1, f2});
}

/// The Q with the margins of p given a_s = Q(s, 0, 0) and c_s = Q(s, 1, 0) (cells clipped at 0 against rounding).
Table with_coordinates(const Table& p, const std::vector<double>& a, const std::vector<double>& c) {
  Table q(p.size());
  for (std::size_t s = 0; s < p.size() / 4; ++s) {
    q[cell(s, 0, 0)] = std::max(0.0, a[s]);
    q[cell(s, 0, 1)] = std::max(0.0, p[cell(s, 0, 0)] + p[cell(s, 0, 1)] - a[s]);
    q[cell(s, 1, 0)] = std::max(0.0, c[s]);
    q[cell(s, 1, 1)] = std::max(0.0, p[cell(s, 1, 0)] + p[cell(s, 1, 1)] - c[s]);
  }
  return q;
}

/// Feasible Q for two clients: a_0 and c_0 are free, a_1 = P(Z=0, Yhat=0) - a_0 and c_1 likewise.
struct TwoClientSlice {
  double u0, u1, v0, v1, p00, p10;
  explicit TwoClientSlice(const Table& p)
      : u0(p[0] + p[1]), u1(p[4] + p[5]), v0(p[2] + p[3]), v1(p[6] + p[7]), p00(p[0] + p[4]), p10(p[2] + p[6]) {}
  double a_lo() const { return std::max(0.0, p00 - u1); }
  double a_hi() const { return std::min(u0, p00); }
  double c_lo() const { return std::max(0.0, p10 - v1); }
  double c_hi() const { return std::min(v0, p10); }
};

/// A random histogram over k clients. Style 0: uniform weights; 1: a quarter of the cells 0; 2: Yhat agrees with Z
/// more often (by a random factor) and clients differ in size; 3: like 2 with heavy-tailed weights; 4: Yhat agrees
/// with Z more often and client s holds more of the group Z = s % 2.
Table random_table(std::size_t k, int style, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0, 1);
  Table t(4 * k);
  const double agree = 1 + 9 * unit(rng);
  for (std::size_t s = 0; s < k; ++s) {
    const double size = style == 2 || style == 3 ? 0.1 + unit(rng) : 1;
    for (int z = 0; z < 2; ++z)
      for (int y = 0; y < 2; ++y) {
        double w = unit(rng);
        if (style == 1 && unit(rng) < 0.25) w = 0;
        if (style == 2 || style == 3) w *= size * (y == z ? agree : 1);
        if (style == 3) w = std::pow(w, 4);
        if (style == 4) w *= (y == z ? agree : 1) * (z == static_cast<int>(s % 2) ? 3 : 1);
        t[cell(s, z, y)] = w;
      }
  }
  return t;
}

/// A feasible Q: P moved along random directions that keep both margins (a unit from (i, z, 0) and (j, z, 1) to
/// (j, z, 0) and (i, z, 1)), each step a random fraction of the largest.
Table feasible_neighbour(Table q, std::mt19937_64& rng) {
  const std::size_t k = q.size() / 4;
  std::uniform_int_distribution<std::size_t> client(0, k - 1);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int step = 0; step < 8; ++step) {
    const std::size_t i = client(rng), j = client(rng);
    const int z = step % 2;
    if (i == j) continue;
    const double room = std::min(q[cell(i, z, 0)], q[cell(j, z, 1)]);
    const double m = unit(rng) * room;
    q[cell(i, z, 0)] -= m;
    q[cell(j, z, 1)] -= m;
    q[cell(j, z, 0)] += m;
    q[cell(i, z, 1)] += m;
  }
  return q;
}

/// Checks the terms against the reference informations: the three identities, signs and the bounds on Uni.
void check_terms(const PidTerms& t, const Reference& r) {
  CHECK(t.mi_global == Approx(r.z_yhat).margin(1e-12));
  CHECK(t.mi_local == Approx(r.z_yhat_given_s).margin(1e-12));
  CHECK(t.mi_client == Approx(r.z_s).margin(1e-12));
  CHECK(t.unique + t.redundant == Approx(r.z_yhat).margin(1e-6));
  CHECK(t.unique + t.synergistic == Approx(r.z_yhat_given_s).margin(1e-6));
  CHECK(t.unique_client + t.redundant == Approx(r.z_s).margin(1e-6));
  CHECK(t.unique >= 0);
  CHECK(t.redundant >= 0);
  CHECK(t.synergistic >= 0);
  CHECK(t.unique_client >= 0);
  CHECK(t.unique <= r.z_yhat_given_s + 1e-12);  // P itself is feasible
}

}  // namespace

TEST_CASE("FairnessCounts accumulates weights per cell and totals them", "[probe][fairness]") {
  FairnessCounts c(3);
  CHECK(c.clients() == 3);
  CHECK(c.total() == 0);
  c.add(2, 1, 0);
  c.add(2, 1, 0, 2.5);
  c.add(0, 0, 1, 0.25);
  c.add(1, 1, 1, 0);
  CHECK(c.count(2, 1, 0) == 3.5);
  CHECK(c.count(0, 0, 1) == 0.25);
  CHECK(c.count(1, 1, 1) == 0);
  CHECK(c.count(0, 0, 0) == 0);
  CHECK(c.total() == 3.75);
}

TEST_CASE("fairness_information and statistical parity match hand-computed values", "[probe][fairness]") {
  // Client 0: (z, yhat) counts 00:3 01:1 10:1 11:3. Client 1: 00:2 01:0 10:1 11:4. N = 15.
  // Z x Yhat: 5 1 / 2 7 (Z margins 6, 9; Yhat margins 7, 8). Z x S: 4 2 / 4 5. Yhat x S: 4 3 / 4 4.
  const Table t = {3, 1, 1, 3, 2, 0, 1, 4};
  // sum over cells of n log2(n N / (row col)) / N.
  const auto term = [](double n, double row, double col, double total) {
    return n * std::log2(n * total / (row * col));
  };
  const double z_yhat = (term(5, 6, 7, 15) + term(1, 6, 8, 15) + term(2, 9, 7, 15) + term(7, 9, 8, 15)) / 15;
  const double local0 = 0.75 * std::log2(1.5) - 0.25;  // 3 1 / 1 3 over 8: all margins 4
  const double local1 = (term(2, 2, 3, 7) + term(1, 5, 3, 7) + term(4, 5, 4, 7)) / 7;  // 2 0 / 1 4 over 7
  const double z_s = (term(4, 6, 8, 15) + term(2, 6, 7, 15) + term(4, 9, 8, 15) + term(5, 9, 7, 15)) / 15;
  const double yhat_s = (term(4, 7, 8, 15) + term(3, 7, 7, 15) + term(4, 8, 8, 15) + term(4, 8, 7, 15)) / 15;
  REQUIRE(z_yhat == Approx(0.27825995941712).epsilon(1e-12));  // the formula itself, evaluated once by hand

  for (double scale : {1.0, 1e-3, 0.5, 1e6}) {  // the histogram is normalized: weights and counts agree
    Table scaled = t;
    for (double& w : scaled) w *= scale;
    const FairnessCounts c = counts_of(scaled);
    const decent::FairnessInformation info = decent::fairness_information(c);
    CHECK(info.global == Approx(z_yhat).epsilon(1e-12));
    CHECK(info.local == Approx(8.0 / 15 * local0 + 7.0 / 15 * local1).epsilon(1e-12));
    CHECK(info.z_client == Approx(z_s).epsilon(1e-12));
    CHECK(info.yhat_client == Approx(yhat_s).epsilon(1e-12));
    // P(Yhat = 1 | Z = 1) - P(Yhat = 1 | Z = 0) = 7/9 - 1/6; per client 3/4 - 1/4 and 4/5 - 0/2.
    CHECK(decent::statistical_parity(c) == Approx(11.0 / 18).epsilon(1e-14));
    const std::vector<double> local = decent::local_statistical_parity(c);
    REQUIRE(local.size() == 2);
    CHECK(local[0] == Approx(0.5).epsilon(1e-14));
    CHECK(local[1] == Approx(0.8).epsilon(1e-14));
    const PidTerms pid = decent::partial_information_decomposition(c);
    CHECK(pid.mi_global == Approx(z_yhat).epsilon(1e-12));
    CHECK(pid.mi_client == Approx(z_s).epsilon(1e-12));
  }
}

TEST_CASE("statistical parity is NaN without both groups and empty clients carry no information", "[probe][fairness]") {
  FairnessCounts c(3);  // client 0: Z = 0 only; client 1: both groups; client 2: no samples at all
  c.add(0, 0, 1, 2);
  c.add(0, 0, 0, 2);
  c.add(1, 0, 0, 1);
  c.add(1, 1, 1, 3);
  const std::vector<double> local = decent::local_statistical_parity(c);
  REQUIRE(local.size() == 3);
  CHECK(std::isnan(local[0]));
  CHECK(local[1] == Approx(1.0));
  CHECK(std::isnan(local[2]));
  CHECK(decent::statistical_parity(c) == Approx(1.0 - 2.0 / 5));

  FairnessCounts only_z0(2);
  only_z0.add(0, 0, 1, 1);
  only_z0.add(1, 0, 0, 1);
  CHECK(std::isnan(decent::statistical_parity(only_z0)));
  FairnessCounts only_z1(1);
  only_z1.add(0, 1, 1, 1);
  CHECK(std::isnan(decent::statistical_parity(only_z1)));
  CHECK(std::isnan(decent::local_statistical_parity(only_z1)[0]));
  CHECK(std::isnan(decent::statistical_parity(FairnessCounts(2))));  // empty: no group at all

  // A constant Z carries no information, and the decomposition is all 0.
  const decent::FairnessInformation info = decent::fairness_information(only_z0);
  CHECK(info.global == 0);
  CHECK(info.local == 0);
  CHECK(info.z_client == 0);
  CHECK(info.yhat_client == Approx(1.0));  // Yhat = S
  const PidTerms pid = decent::partial_information_decomposition(only_z0);
  CHECK(pid.unique == 0);
  CHECK(pid.redundant == 0);
  CHECK(pid.synergistic == 0);
  CHECK(pid.unique_client == 0);

  // An empty client changes nothing: client 2 of c is dropped.
  const Table without = {2, 2, 0, 0, 1, 0, 0, 3};
  const PidTerms a = decent::partial_information_decomposition(c);
  const PidTerms b = decent::partial_information_decomposition(counts_of(without));
  CHECK(a.unique == Approx(b.unique).margin(1e-12));
  CHECK(a.redundant == Approx(b.redundant).margin(1e-12));
  CHECK(a.synergistic == Approx(b.synergistic).margin(1e-12));
  CHECK(a.unique_client == Approx(b.unique_client).margin(1e-12));
}

// Known decompositions with two clients: target Z, sources Yhat and S. Each follows from the bounds
// max(0, I(Z;Yhat) - I(Z;S)) <= Uni <= min(I(Z;Yhat), I(Z;Yhat|S)) or, for AND, from an explicit Q (below).

TEST_CASE("PID of a copy Z = Yhat = S is purely redundant", "[probe][fairness]") {
  FairnessCounts c(2);
  c.add(0, 0, 0, 3);  // P(S = 0) = 0.3
  c.add(1, 1, 1, 7);
  const PidTerms t = decent::partial_information_decomposition(c);
  const double h = -(0.3 * std::log2(0.3) + 0.7 * std::log2(0.7));  // H(Z) = I(Z;Yhat) = I(Z;S), I(Z;Yhat|S) = 0
  CHECK(t.redundant == Approx(h).epsilon(1e-12));
  CHECK(t.unique == Approx(0).margin(1e-12));
  CHECK(t.synergistic == Approx(0).margin(1e-12));
  CHECK(t.unique_client == Approx(0).margin(1e-12));
}

TEST_CASE("PID of Z = XOR(Yhat, S) is purely synergistic", "[probe][fairness]") {
  FairnessCounts c(2);
  for (int s = 0; s < 2; ++s)
    for (int y = 0; y < 2; ++y) c.add(s, y ^ s, y);
  const PidTerms t = decent::partial_information_decomposition(c);  // I(Z;Yhat) = I(Z;S) = 0, I(Z;Yhat|S) = 1
  CHECK(t.synergistic == Approx(1).epsilon(1e-12));
  CHECK(t.unique == Approx(0).margin(1e-12));
  CHECK(t.redundant == Approx(0).margin(1e-12));
  CHECK(t.unique_client == Approx(0).margin(1e-12));
}

TEST_CASE("PID of Z = Yhat with an independent uniform S is purely unique", "[probe][fairness]") {
  FairnessCounts c(2);
  for (int s = 0; s < 2; ++s)
    for (int y = 0; y < 2; ++y) c.add(s, y, y);
  const PidTerms t = decent::partial_information_decomposition(c);  // I(Z;Yhat) = I(Z;Yhat|S) = 1, I(Z;S) = 0
  CHECK(t.unique == Approx(1).epsilon(1e-12));
  CHECK(t.redundant == Approx(0).margin(1e-12));
  CHECK(t.synergistic == Approx(0).margin(1e-12));
  CHECK(t.unique_client == Approx(0).margin(1e-12));
}

TEST_CASE("PID of Z = S with an independent Yhat is unique to the client", "[probe][fairness]") {
  FairnessCounts c(2);  // every client holds one sensitive group only
  for (int s = 0; s < 2; ++s)
    for (int y = 0; y < 2; ++y) c.add(s, s, y, y == 0 ? 1 : 3);
  const PidTerms t = decent::partial_information_decomposition(c);  // I(Z;S) = 1, I(Z;Yhat) = I(Z;Yhat|S) = 0
  CHECK(t.unique_client == Approx(1).epsilon(1e-12));
  CHECK(t.unique == Approx(0).margin(1e-12));
  CHECK(t.redundant == Approx(0).margin(1e-12));
  CHECK(t.synergistic == Approx(0).margin(1e-12));
}

TEST_CASE("PID of Z = AND(Yhat, S) matches Bertschinger et al.", "[probe][fairness]") {
  // Uniform independent Yhat, S. H(Z) = h(1/4) = 0.5 + 0.75 log2(4/3) = 0.8113; H(Z | Yhat) = 0.5 h(1/2) = 0.5, so
  // I(Z;Yhat) = I(Z;S) = 0.75 log2(4/3) = 0.3113 and I(Z;Yhat|S) = H(Z) - I(Z;S) = 0.5. The Q with Yhat = S has
  // the margins of P (AND is symmetric, so Q(Z, Yhat) = P(Z, S) = P(Z, Yhat)) and I_Q(Z;Yhat|S) = 0: Uni = 0,
  // Red = 0.3113, Syn = 0.5, Uni_S = 0 (Bertschinger et al. 2014, the AND gate: SI 0.311, CI 0.5, UI 0).
  FairnessCounts c(2);
  for (int s = 0; s < 2; ++s)
    for (int y = 0; y < 2; ++y) c.add(s, y & s, y);
  const PidTerms t = decent::partial_information_decomposition(c);
  CHECK(t.mi_global == Approx(0.75 * std::log2(4.0 / 3)).epsilon(1e-12));
  CHECK(t.redundant == Approx(0.75 * std::log2(4.0 / 3)).epsilon(1e-9));
  CHECK(t.redundant == Approx(0.311278).margin(1e-6));
  CHECK(t.synergistic == Approx(0.5).epsilon(1e-9));
  CHECK(t.unique == Approx(0).margin(1e-9));
  CHECK(t.unique_client == Approx(0).margin(1e-9));
  CHECK(t.iterations > 0);  // the optimum is not the starting point: the solver had to find it
}

TEST_CASE("PID of a Z independent of Yhat and S is zero", "[probe][fairness]") {
  FairnessCounts c(2);
  const double pz[2] = {1, 3}, pys[2][2] = {{4, 1}, {1, 4}};  // P = P(Z) P(Yhat, S), Yhat and S dependent
  for (int s = 0; s < 2; ++s)
    for (int z = 0; z < 2; ++z)
      for (int y = 0; y < 2; ++y) c.add(s, z, y, pz[z] * pys[y][s]);
  const PidTerms t = decent::partial_information_decomposition(c);
  CHECK(t.unique == Approx(0).margin(1e-12));
  CHECK(t.redundant == Approx(0).margin(1e-12));
  CHECK(t.synergistic == Approx(0).margin(1e-12));
  CHECK(t.unique_client == Approx(0).margin(1e-12));
  CHECK(decent::fairness_information(c).yhat_client == Approx(1 + 0.2 * std::log2(0.2) + 0.8 * std::log2(0.8)));
}

TEST_CASE("PID identities hold on random histograms with 2, 3 and 10 clients", "[probe][fairness]") {
  std::mt19937_64 rng(20240611);
  for (std::size_t k : {2u, 3u, 10u})
    for (int style = 0; style < 5; ++style)
      for (int rep = 0; rep < 10; ++rep) {
        CAPTURE(k, style, rep);
        const Table p = random_table(k, style, rng);
        const Reference r = reference(p);
        const PidTerms t = decent::partial_information_decomposition(counts_of(p));
        check_terms(t, r);
        // Uni is the minimum over the feasible Q: no feasible Q does better (P's neighbours along margin-preserving
        // moves, and Q = P(Z, Yhat) P(S | Z), where Yhat and S are independent given Z).
        for (int n = 0; n < 20; ++n) CHECK(t.unique <= conditional_mi(feasible_neighbour(p, rng)) + 1e-12);
        Table q0(p.size());
        double pz[2] = {0, 0}, pzy[2][2] = {{0, 0}, {0, 0}};
        for (std::size_t s = 0; s < k; ++s)
          for (int z = 0; z < 2; ++z)
            for (int y = 0; y < 2; ++y) {
              pz[z] += p[cell(s, z, y)];
              pzy[z][y] += p[cell(s, z, y)];
            }
        for (std::size_t s = 0; s < k; ++s)
          for (int z = 0; z < 2; ++z)
            for (int y = 0; y < 2; ++y)
              q0[cell(s, z, y)] = pzy[z][y] * (p[cell(s, z, 0)] + p[cell(s, z, 1)]) / pz[z];
        CHECK(t.unique <= conditional_mi(q0) + 1e-12);
      }
}

TEST_CASE("PID unique information of two clients matches a brute-force minimisation", "[probe][fairness]") {
  // For K = 2 the feasible Q form a rectangle in a_0 = Q(S=0, Z=0, Yhat=0), c_0 = Q(S=0, Z=1, Yhat=0). A grid checks
  // that the solver is no worse than any of its 65 x 65 points (no assumption); nested golden sections (convex,
  // and a partial minimum of a convex function is convex) give the minimum itself. Uni_S = min I_Q(Z; S | Yhat)
  // over the same set.
  std::mt19937_64 rng(7);
  std::vector<Table> cases = {
      // The minimum sits where both Yhat = 0 cells of client 1 vanish: a coordinate descent crawled towards it until
      // those cells underflowed, and returned Uni = 0 instead of 0.8312 bits.
      {0.50341613719822864, 0.025175490039603475, 0.00071224402840932904, 0.45592372105380891,
       5.0988468870667125e-05, 9.819065144353706e-05, 1.5323611003208219e-05, 0.014607904948632101},
      // Counts whose Uni lies strictly inside its bounds (some with zero cells).
      {9, 2, 1, 5, 0, 2, 2, 7}, {10, 2, 1, 0, 8, 2, 4, 7}, {2, 4, 1, 8, 10, 6, 0, 3}, {5, 6, 0, 1, 4, 2, 0, 12},
      {5, 0, 5, 7, 5, 1, 3, 0}, {11, 5, 0, 8, 0, 0, 3, 2}, {6, 6, 0, 5, 1, 0, 1, 8}, {3, 0, 0, 11, 10, 6, 1, 2},
      {1, 1, 1, 1, 1, 0, 0, 1},  // the bounds coincide
      {4, 1, 2, 3, 1, 2, 3, 4},  // Uni = 0
  };
  for (int n = 0; n < 100; ++n) cases.push_back(random_table(2, n % 5, rng));
  int inside = 0;  // cases where neither bound on Uni is active, so that only the solver can get them right
  for (std::size_t n = 0; n < cases.size(); ++n) {
    CAPTURE(n);
    Table p = cases[n];
    double sum = 0;
    for (double w : p) sum += w;
    for (double& w : p) w /= sum;
    const TwoClientSlice box(p);
    const auto objective = [&](double a0, double c0, bool z_s_given_yhat) {
      const Table q = with_coordinates(p, {a0, box.p00 - a0}, {c0, box.p10 - c0});
      return z_s_given_yhat ? reference(q).z_s_given_yhat : conditional_mi(q);
    };
    const auto minimum = [&](bool z_s_given_yhat) {
      return golden_min(box.a_lo(), box.a_hi(), 80, [&](double a0) {
        return golden_min(box.c_lo(), box.c_hi(), 80, [&](double c0) { return objective(a0, c0, z_s_given_yhat); });
      });
    };
    double grid = std::numeric_limits<double>::infinity();
    for (int i = 0; i <= 64; ++i)
      for (int j = 0; j <= 64; ++j)
        grid = std::min(grid, objective(box.a_lo() + (box.a_hi() - box.a_lo()) * i / 64,
                                        box.c_lo() + (box.c_hi() - box.c_lo()) * j / 64, false));
    const double uni = minimum(false), uni_client = minimum(true);
    const Reference r = reference(p);
    const PidTerms t = decent::partial_information_decomposition(counts_of(p));
    check_terms(t, r);
    CHECK(t.unique <= grid + 1e-12);
    CHECK(t.unique == Approx(uni).margin(1e-9));
    CHECK(t.unique_client == Approx(uni_client).margin(1e-9));
    if (uni > std::max(0.0, r.z_yhat - r.z_s) + 1e-3 && uni < std::min(r.z_yhat, r.z_yhat_given_s) - 1e-3) ++inside;
  }
  CHECK(inside >= 15);
}

TEST_CASE("PID unique information of three clients matches a 4-D brute-force minimisation", "[probe][fairness]") {
  // Free coordinates a_0, a_1, c_0, c_1 (a_2 and c_2 follow from the sums), nested golden sections as above.
  const std::vector<Table> cases = {
      {7, 6, 0, 3, 3, 1, 2, 3, 9, 4, 0, 2},
      {6, 2, 1, 0, 7, 1, 2, 8, 5, 2, 4, 8},
  };
  for (const Table& counts : cases) {
    Table p = counts;
    double sum = 0;
    for (double w : p) sum += w;
    for (double& w : p) w /= sum;
    double u[3], v[3];
    for (std::size_t s = 0; s < 3; ++s) {
      u[s] = p[cell(s, 0, 0)] + p[cell(s, 0, 1)];
      v[s] = p[cell(s, 1, 0)] + p[cell(s, 1, 1)];
    }
    const double p00 = p[0] + p[4] + p[8], p10 = p[2] + p[6] + p[10];
    constexpr int it = 30;
    const double uni = golden_min(std::max(0.0, p00 - u[1] - u[2]), std::min(u[0], p00), it, [&](double a0) {
      return golden_min(std::max(0.0, p00 - a0 - u[2]), std::min(u[1], p00 - a0), it, [&](double a1) {
        return golden_min(std::max(0.0, p10 - v[1] - v[2]), std::min(v[0], p10), it, [&](double c0) {
          return golden_min(std::max(0.0, p10 - c0 - v[2]), std::min(v[1], p10 - c0), it, [&](double c1) {
            return conditional_mi(with_coordinates(p, {a0, a1, p00 - a0 - a1}, {c0, c1, p10 - c0 - c1}));
          });
        });
      });
    });
    const Reference r = reference(p);
    const PidTerms t = decent::partial_information_decomposition(counts_of(p));
    check_terms(t, r);
    CHECK(t.unique <= uni + 1e-12);
    CHECK(t.unique == Approx(uni).margin(1e-6));
    CHECK(t.unique > std::max(0.0, r.z_yhat - r.z_s) + 1e-3);  // not decided by a bound
    CHECK(t.unique < std::min(r.z_yhat, r.z_yhat_given_s) - 1e-3);
  }
}

TEST_CASE("PID is invariant under relabelling and robust to subnormal weights", "[probe][fairness]") {
  std::mt19937_64 rng(99);
  for (int rep = 0; rep < 8; ++rep) {
    CAPTURE(rep);
    const std::size_t k = 2 + static_cast<std::size_t>(rep);
    const Table p = random_table(k, 2 + rep % 2, rng);
    const PidTerms t = decent::partial_information_decomposition(counts_of(p));
    Table flipped(p.size()), reversed(p.size());  // Yhat -> 1 - Yhat, and Z -> 1 - Z with the clients reversed
    for (std::size_t s = 0; s < k; ++s)
      for (int z = 0; z < 2; ++z)
        for (int y = 0; y < 2; ++y) {
          flipped[cell(s, z, 1 - y)] = p[cell(s, z, y)];
          reversed[cell(k - 1 - s, 1 - z, y)] = p[cell(s, z, y)];
        }
    for (const Table& other : {flipped, reversed}) {
      const PidTerms o = decent::partial_information_decomposition(counts_of(other));
      CHECK(o.unique == Approx(t.unique).margin(1e-10));
      CHECK(o.redundant == Approx(t.redundant).margin(1e-10));
      CHECK(o.synergistic == Approx(t.synergistic).margin(1e-10));
      CHECK(o.unique_client == Approx(t.unique_client).margin(1e-10));
    }
    CHECK(decent::statistical_parity(counts_of(flipped)) == Approx(-decent::statistical_parity(counts_of(p))));
    CHECK(decent::statistical_parity(counts_of(reversed)) == Approx(-decent::statistical_parity(counts_of(p))));
    // Cells of weight 1e-310 (subnormal) next to cells of order 1 behave like zeros: no NaN, no underflow.
    Table tiny = p, zero = p;
    for (std::size_t i = 0; i < p.size(); i += 3) {
      tiny[i] = 1e-310;
      zero[i] = 0;
    }
    const PidTerms a = decent::partial_information_decomposition(counts_of(tiny));
    const PidTerms b = decent::partial_information_decomposition(counts_of(zero));
    check_terms(a, reference(tiny));
    CHECK(a.unique == Approx(b.unique).margin(1e-9));
    CHECK(a.redundant == Approx(b.redundant).margin(1e-9));
    CHECK(a.synergistic == Approx(b.synergistic).margin(1e-9));
    const decent::FairnessInformation info = decent::fairness_information(counts_of(tiny));
    CHECK(std::isfinite(info.global + info.local + info.z_client + info.yhat_client));
  }
}

TEST_CASE("fairness functions reject bad input with std::invalid_argument naming it", "[probe][fairness]") {
  CHECK_THROWS_AS(FairnessCounts(0), std::invalid_argument);
  CHECK_THROWS_WITH(FairnessCounts(-2), Contains("clients = -2"));
  FairnessCounts c(2);
  const double inf = std::numeric_limits<double>::infinity(), not_a_number = std::numeric_limits<double>::quiet_NaN();
  const struct {
    int client, z, yhat;
    double weight;
    const char* message;
  } bad[] = {
      {-1, 0, 0, 1, "client = -1"}, {2, 0, 0, 1, "client = 2"}, {0, 2, 0, 1, "z = 2"},
      {0, -1, 0, 1, "z = -1"},      {0, 0, 2, 1, "yhat = 2"},   {0, 0, -1, 1, "yhat = -1"},
      {0, 0, 0, -1, "weight = -1"}, {0, 0, 0, not_a_number, "weight"}, {0, 0, 0, inf, "weight = inf"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.client, b.z, b.yhat, b.weight);
    CHECK_THROWS_AS(c.add(b.client, b.z, b.yhat, b.weight), std::invalid_argument);
    CHECK_THROWS_WITH(c.add(b.client, b.z, b.yhat, b.weight), Contains(b.message));
    if (std::isfinite(b.weight) && b.weight >= 0)
      CHECK_THROWS_WITH(c.count(b.client, b.z, b.yhat), Contains(b.message));
  }
  CHECK(c.total() == 0);  // nothing was added by a rejected call
  CHECK_THROWS_WITH(decent::fairness_information(c), Contains("empty"));
  CHECK_THROWS_AS(decent::partial_information_decomposition(c), std::invalid_argument);
  c.add(1, 1, 1, 0);  // a zero weight leaves it empty
  CHECK_THROWS_WITH(decent::partial_information_decomposition(c), Contains("empty"));
  c.add(0, 0, 0, std::numeric_limits<double>::max());
  c.add(1, 0, 0, std::numeric_limits<double>::max());  // finite counts whose total overflows
  CHECK_THROWS_AS(decent::fairness_information(c), std::invalid_argument);
}

TEST_CASE("PID of 100 clients finishes quickly with identities intact", "[probe][fairness]") {
  std::mt19937_64 rng(100);
  for (int style = 0; style < 5; ++style) {
    CAPTURE(style);
    const Table p = random_table(100, style, rng);
    const auto start = std::chrono::steady_clock::now();
    const PidTerms t = decent::partial_information_decomposition(counts_of(p));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    UNSCOPED_INFO("K = 100, style " << style << ": " << seconds * 1e3 << " ms, " << t.iterations << " Newton steps");
    CHECK(seconds < 2);  // about a millisecond unsanitized: a generous bound that still catches a hang
    CHECK(t.iterations > 0);
    check_terms(t, reference(p));
    for (int n = 0; n < 20; ++n) CHECK(t.unique <= conditional_mi(feasible_neighbour(p, rng)) + 1e-12);
  }
}
