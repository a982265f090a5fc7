#include "decent/probe/fairness.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

namespace decent {
namespace {

constexpr double ln2 = 0.693147180559945309417232121458176568;
constexpr double infinity = std::numeric_limits<double>::infinity();

void require(bool ok, const char* function, const std::string& problem) {
  if (!ok) throw std::invalid_argument(std::string(function) + ": " + problem);
}

void require_cell(const char* function, int client, int clients, int z, int yhat) {
  require(client >= 0 && client < clients, function,
          "client = " + std::to_string(client) + " is outside [0, " + std::to_string(clients) + ")");
  require(z == 0 || z == 1, function, "z = " + std::to_string(z) + " must be 0 or 1");
  require(yhat == 0 || yhat == 1, function, "yhat = " + std::to_string(yhat) + " must be 0 or 1");
}

/// P(s, z, yhat) at [(s * 2 + z) * 2 + yhat].
std::vector<double> distribution(const FairnessCounts& counts, const char* function) {
  const double total = counts.total();
  require(total > 0, function, "the histogram is empty (total count 0)");
  require(std::isfinite(total), function, "the total count overflows a double");
  std::vector<double> p;
  p.reserve(static_cast<std::size_t>(counts.clients()) * 4);
  for (int s = 0; s < counts.clients(); ++s)
    for (int z = 0; z < 2; ++z)
      for (int y = 0; y < 2; ++y) p.push_back(counts.count(s, z, y) / total);
  return p;
}

/// T * I(A; B) in nats of an unnormalized rows x cols table (row-major) of total T, clamped at 0 against rounding.
/// Each term is log(q / row) - log(col / T) rather than log(q T / (row col)): both ratios are in (0, 1] for q > 0,
/// so tiny (subnormal) cells cannot underflow a product into 0 / 0 = NaN.
double information(const std::vector<double>& table, int rows, int cols) {
  std::vector<double> row(static_cast<std::size_t>(rows), 0), col(static_cast<std::size_t>(cols), 0);
  double total = 0;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const double q = table[static_cast<std::size_t>(i * cols + j)];
      row[static_cast<std::size_t>(i)] += q;
      col[static_cast<std::size_t>(j)] += q;
      total += q;
    }
  double sum = 0;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const double q = table[static_cast<std::size_t>(i * cols + j)];
      const double r = row[static_cast<std::size_t>(i)], c = col[static_cast<std::size_t>(j)];
      if (q > 0) sum += q * (std::log(q / r) - std::log(c / total));
    }
  return std::max(0.0, sum);
}

/// I(Z; Yhat | S) in nats: sum_s P(s) I(Z; Yhat | S = s), each client's 2 x 2 table taken from p.
double conditional_information(const std::vector<double>& p) {
  double sum = 0;
  for (std::size_t s = 0; s < p.size() / 4; ++s) sum += information({p.begin() + 4 * s, p.begin() + 4 * s + 4}, 2, 2);
  return sum;
}

/// I(Z; Yhat), I(Z; S), I(Yhat; S) and I(Z; Yhat | S) in nats.
struct Informations {
  double z_yhat, z_s, yhat_s, z_yhat_given_s;
};

Informations informations(const std::vector<double>& p) {
  const int k = static_cast<int>(p.size() / 4);
  std::vector<double> z_yhat(4, 0), z_s(static_cast<std::size_t>(2 * k), 0), yhat_s(static_cast<std::size_t>(2 * k), 0);
  for (int s = 0; s < k; ++s)
    for (int z = 0; z < 2; ++z)
      for (int y = 0; y < 2; ++y) {
        const double q = p[static_cast<std::size_t>((s * 2 + z) * 2 + y)];
        z_yhat[static_cast<std::size_t>(z * 2 + y)] += q;
        z_s[static_cast<std::size_t>(z * k + s)] += q;
        yhat_s[static_cast<std::size_t>(y * k + s)] += q;
      }
  return {information(z_yhat, 2, 2), information(z_s, 2, k), information(yhat_s, 2, k), conditional_information(p)};
}

// ---- BROJA unique information -------------------------------------------------------------------------------
//
// With Q(z, s) = P(z, s) fixed, I_Q(Z; Yhat | S) = H(Z | S) - H_Q(Z | Yhat, S) and H(Z | S) is fixed, so the
// program minimizes the convex f(Q) = -H_Q(Z | Yhat, S). In client s's cells a = Q(0,0,s), b = Q(0,1,s),
// c = Q(1,0,s), d = Q(1,1,s) the free coordinates are a (a unit moves between a and b, keeping a + b = P(Z=0, s))
// and c (between c and d), with sum_s a_s = P(Z=0, Yhat=0) and sum_s c_s = P(Z=1, Yhat=0); f is separable,
//   f = sum_s g_s,  g_s = h(a) + h(c) - h(a + c) + h(b) + h(d) - h(b + d),  h(x) = x log x.
// The minimum often lies where both Yhat = 0 (or both Yhat = 1) cells of a client vanish together: there the
// gradient stays finite, but moving a or c alone towards 0 meets an infinite one, so coordinate descent crawls to
// such a corner geometrically and never reaches it (and its cells underflow). A log barrier handles these corners:
// we follow the central path of f - tau sum log(cell) over the free cells by damped Newton steps, tau falling
// tenfold per stage to tau_final = barrier_gap / m (m barrier terms), where f exceeds its minimum by at most
// m tau_final at the central point. Each Newton system is block diagonal (2 x 2 per client) plus the two sum
// constraints, which a 2 x 2 Schur complement eliminates, so a step costs O(K). We store all four cells (not
// a and u - a) so that a cell near 0 keeps its relative precision.

constexpr double barrier_gap = 1e-13;  // nats
constexpr double tau_start = 1e-2;
constexpr int max_steps_per_stage = 100;

struct UniqueInformation {
  double nats = 0;
  int iterations = 0;
};

/// The free coordinates of the program and its barrier-Newton iteration.
class BrojaProgram {
 public:
  /// Starts from Q(z, yhat, s) = P(z, yhat) P(s | z): feasible, strictly inside wherever the margins allow, and
  /// there I_Q(Z; Yhat | S) = I(Z; Yhat) - I_Q(Yhat; S) <= I(Z; Yhat), so keeping the better of start and end keeps
  /// Red >= 0.
  explicit BrojaProgram(const std::vector<double>& p)
      : k_(p.size() / 4), q_(p.size(), 0), free_a_(k_, 0), free_c_(k_, 0), da_(k_, 0), dc_(k_, 0) {
    double group[2][2] = {{0, 0}, {0, 0}};  // P(z, yhat)
    for (std::size_t s = 0; s < k_; ++s)
      for (std::size_t cell = 0; cell < 4; ++cell) group[cell / 2][cell % 2] += p[4 * s + cell];
    for (std::size_t z = 0; z < 2; ++z) {
      const double pz = group[z][0] + group[z][1];
      if (!(pz > 0)) continue;
      for (std::size_t s = 0; s < k_; ++s) {
        const double margin = p[4 * s + 2 * z] + p[4 * s + 2 * z + 1];
        q_[4 * s + 2 * z] = margin * (group[z][0] / pz);
        q_[4 * s + 2 * z + 1] = margin * (group[z][1] / pz);
        const bool inside = q_[4 * s + 2 * z] > 0 && q_[4 * s + 2 * z + 1] > 0;
        (z == 0 ? free_a_ : free_c_)[s] = inside;
        barrier_terms_ += inside ? 2 : 0;
      }
    }
  }

  /// Follows the central path to tau_final; returns the number of Newton steps taken.
  int solve() {
    if (barrier_terms_ == 0) return 0;  // the margins fix Q
    const double tau_final = barrier_gap / static_cast<double>(barrier_terms_);
    int steps = 0;
    for (double tau = std::max(tau_start, tau_final);; tau = std::max(0.1 * tau, tau_final)) {
      // Centering to a Newton decrement far below the stage's gap bound m tau.
      const double tolerance = 1e-2 * static_cast<double>(barrier_terms_) * tau;
      for (int step = 0; step < max_steps_per_stage; ++step) {
        const double decrement = newton_direction(tau);
        if (!(decrement > tolerance)) break;  // centered (or a non-finite direction: stop where we are)
        if (!line_step(tau)) break;           // at the rounding limit
        ++steps;
      }
      if (tau == tau_final) break;
    }
    return steps;
  }

  /// The current Q at [(s * 2 + z) * 2 + yhat].
  const std::vector<double>& q() const { return q_; }

 private:
  /// d F_tau / d a_s and d F_tau / d c_s at the cells (a, b, c, d), F_tau = f + tau * barrier (free coordinates
  /// only: there the moved cells are > 0, so every log is finite; a fixed partner may be 0, log(x / (x + 0)) = 0).
  static void gradient(double a, double b, double c, double d, bool fa, bool fc, double tau, double& ga, double& gc) {
    ga = fa ? std::log(a / (a + c)) - std::log(b / (b + d)) - tau * (1 / a - 1 / b) : 0;
    gc = fc ? std::log(c / (a + c)) - std::log(d / (b + d)) - tau * (1 / c - 1 / d) : 0;
  }

  /// The Newton direction of F_tau under the two sum constraints into da_, dc_; returns the squared Newton
  /// decrement -grad . direction (NaN if the direction is not finite).
  double newton_direction(double tau) {
    i11_.assign(k_, 0);
    i22_.assign(k_, 0);
    i12_.assign(k_, 0);
    ga_.assign(k_, 0);
    gc_.assign(k_, 0);
    double maa = 0, mac = 0, mcc = 0, ra = 0, rc = 0;  // M = sum_s H_s^-1 and r = sum_s H_s^-1 grad_s
    for (std::size_t s = 0; s < k_; ++s) {
      const double a = q_[4 * s], b = q_[4 * s + 1], c = q_[4 * s + 2], d = q_[4 * s + 3];
      const bool fa = free_a_[s] != 0, fc = free_c_[s] != 0;
      if (!fa && !fc) continue;
      gradient(a, b, c, d, fa, fc, tau, ga_[s], gc_[s]);
      // Hessian of g_s: haa = c / (a (a + c)) + d / (b (b + d)), hcc likewise, hac = -1 / (a + c) - 1 / (b + d);
      // plus the barrier's diagonal.
      const double baa = fa ? tau * (1 / (a * a) + 1 / (b * b)) : 0, bcc = fc ? tau * (1 / (c * c) + 1 / (d * d)) : 0;
      const double haa = fa ? c / (a * (a + c)) + d / (b * (b + d)) : 0;
      const double hcc = fc ? a / (c * (a + c)) + b / (d * (b + d)) : 0;
      if (fa && fc) {
        const double hac = -(1 / (a + c) + 1 / (b + d));
        // haa hcc - hac^2 = (cb - ad)^2 / (a c (a + c) b d (b + d)) without cancellation.
        const double cross = c * b - a * d;
        const double det = cross / (a * c * (a + c)) * (cross / (b * d * (b + d))) + baa * hcc + bcc * haa + baa * bcc;
        i11_[s] = (hcc + bcc) / det;
        i22_[s] = (haa + baa) / det;
        i12_[s] = -hac / det;
      } else if (fa) {
        i11_[s] = 1 / (haa + baa);
      } else {
        i22_[s] = 1 / (hcc + bcc);
      }
      maa += i11_[s];
      mac += i12_[s];
      mcc += i22_[s];
      ra += i11_[s] * ga_[s] + i12_[s] * gc_[s];
      rc += i12_[s] * ga_[s] + i22_[s] * gc_[s];
    }
    // Multipliers nu of the sum constraints: M nu = -r, so that the direction -H^-1 (grad + nu) sums to 0.
    double nu_a = 0, nu_c = 0;
    if (maa > 0 && mcc > 0) {
      const double det = maa * mcc - mac * mac;
      nu_a = -(mcc * ra - mac * rc) / det;
      nu_c = -(maa * rc - mac * ra) / det;
    } else if (maa > 0) {
      nu_a = -ra / maa;
    } else if (mcc > 0) {
      nu_c = -rc / mcc;
    }
    double sum_a = 0, sum_c = 0;
    for (std::size_t s = 0; s < k_; ++s) {
      const double ea = free_a_[s] ? ga_[s] + nu_a : 0, ec = free_c_[s] ? gc_[s] + nu_c : 0;
      da_[s] = -(i11_[s] * ea + i12_[s] * ec);
      dc_[s] = -(i12_[s] * ea + i22_[s] * ec);
      sum_a += da_[s];
      sum_c += dc_[s];
    }
    // M is ill-conditioned when the clients' H_s^-1 nearly align, and the rounding in nu then leaves the direction
    // summing to something above rounding (1e-10 was seen): spread the remainder back, weighted by H_s^-1.
    double decrement = 0;
    for (std::size_t s = 0; s < k_; ++s) {
      if (maa > 0) da_[s] -= sum_a * (i11_[s] / maa);
      if (mcc > 0) dc_[s] -= sum_c * (i22_[s] / mcc);
      decrement -= ga_[s] * da_[s] + gc_[s] * dc_[s];
    }
    return std::isfinite(decrement) ? decrement : std::numeric_limits<double>::quiet_NaN();
  }

  /// d F_tau (Q + t direction) / d t.
  double slope(double t, double tau) const {
    double sum = 0;
    for (std::size_t s = 0; s < k_; ++s) {
      const bool fa = free_a_[s] != 0, fc = free_c_[s] != 0;
      if (!fa && !fc) continue;
      const double a = q_[4 * s] + t * da_[s], b = q_[4 * s + 1] - t * da_[s];
      const double c = q_[4 * s + 2] + t * dc_[s], d = q_[4 * s + 3] - t * dc_[s];
      double ga = 0, gc = 0;
      gradient(a, b, c, d, fa, fc, tau, ga, gc);
      sum += ga * da_[s] + gc * dc_[s];
    }
    return sum;
  }

  /// A step along the direction: the Newton step t = 1 if it stays inside and F_tau still descends there, else
  /// the largest t found by bisection where d F_tau / d t <= 0 (F_tau is convex along the line, so F_tau falls on
  /// all of [0, t]). Returns false if no step is possible.
  bool line_step(double tau) {
    double t_max = infinity;
    // The largest step keeping the moved cells x + t dx and y - t dx positive.
    const auto limit = [](double x, double y, double dx) { return dx > 0 ? y / dx : dx < 0 ? -x / dx : infinity; };
    for (std::size_t s = 0; s < k_; ++s) {
      if (free_a_[s]) t_max = std::min(t_max, limit(q_[4 * s], q_[4 * s + 1], da_[s]));
      if (free_c_[s]) t_max = std::min(t_max, limit(q_[4 * s + 2], q_[4 * s + 3], dc_[s]));
    }
    double t = std::min(1.0, 0.99 * t_max);
    if (!(t > 0)) return false;
    if (slope(t, tau) > 0) {
      double lo = 0, hi = t;
      for (int it = 0; it < 60 && hi - lo > 1e-3 * hi; ++it) {
        const double mid = 0.5 * (lo + hi);
        (slope(mid, tau) > 0 ? hi : lo) = mid;
      }
      t = lo;
      if (!(t > 0)) return false;
    }
    bool moved = false;
    for (std::size_t s = 0; s < k_; ++s) {
      const double old[4] = {q_[4 * s], q_[4 * s + 1], q_[4 * s + 2], q_[4 * s + 3]};
      if (free_a_[s]) {
        q_[4 * s] += t * da_[s];
        q_[4 * s + 1] -= t * da_[s];
      }
      if (free_c_[s]) {
        q_[4 * s + 2] += t * dc_[s];
        q_[4 * s + 3] -= t * dc_[s];
      }
      for (std::size_t cell = 0; cell < 4; ++cell) moved = moved || q_[4 * s + cell] != old[cell];
    }
    return moved;
  }

  std::size_t k_;
  std::vector<double> q_;
  std::vector<char> free_a_, free_c_;  // a_s (c_s) is a coordinate: both of its cells start > 0
  std::size_t barrier_terms_ = 0;
  std::vector<double> da_, dc_;                         // the Newton direction
  std::vector<double> i11_, i12_, i22_, ga_, gc_;       // H_s^-1 and the gradient, scratch of newton_direction
};

/// min I_Q(Z; Yhat | S) over the Q with the margins Q(Z, Yhat) and Q(Z, S) of p, in nats.
UniqueInformation broja_unique(const std::vector<double>& p) {
  BrojaProgram program(p);
  const double start = conditional_information(program.q());
  UniqueInformation result;
  result.iterations = program.solve();
  const double end = conditional_information(program.q());
  result.nats = std::isfinite(end) ? std::min(end, start) : start;
  return result;
}

}  // namespace

FairnessCounts::FairnessCounts(int clients) : clients_(clients) {
  require(clients >= 1, "FairnessCounts", "clients = " + std::to_string(clients) + " must be >= 1");
  counts_.assign(static_cast<std::size_t>(clients) * 4, 0.0);
}

void FairnessCounts::add(int client, int z, int yhat, double weight) {
  require_cell("FairnessCounts::add", client, clients_, z, yhat);
  if (!(std::isfinite(weight) && weight >= 0)) {
    std::ostringstream text;
    text << "weight = " << weight << " must be finite and >= 0";
    require(false, "FairnessCounts::add", text.str());
  }
  counts_[static_cast<std::size_t>((client * 2 + z) * 2 + yhat)] += weight;
}

double FairnessCounts::count(int client, int z, int yhat) const {
  require_cell("FairnessCounts::count", client, clients_, z, yhat);
  return counts_[static_cast<std::size_t>((client * 2 + z) * 2 + yhat)];
}

double FairnessCounts::total() const {
  double sum = 0;
  for (double n : counts_) sum += n;
  return sum;
}

FairnessInformation fairness_information(const FairnessCounts& counts) {
  const Informations i = informations(distribution(counts, "fairness_information"));
  return {i.z_yhat / ln2, i.z_yhat_given_s / ln2, i.z_s / ln2, i.yhat_s / ln2};
}

namespace {

/// P(Yhat = 1 | Z = 1) - P(Yhat = 1 | Z = 0) from the four counts n[z * 2 + yhat]; NaN if a group is empty.
double parity(double n00, double n01, double n10, double n11) {
  if (!(n00 + n01 > 0) || !(n10 + n11 > 0)) return std::numeric_limits<double>::quiet_NaN();
  return n11 / (n10 + n11) - n01 / (n00 + n01);
}

}  // namespace

double statistical_parity(const FairnessCounts& counts) {
  double n[4] = {0, 0, 0, 0};
  for (int s = 0; s < counts.clients(); ++s)
    for (int z = 0; z < 2; ++z)
      for (int y = 0; y < 2; ++y) n[z * 2 + y] += counts.count(s, z, y);
  return parity(n[0], n[1], n[2], n[3]);
}

std::vector<double> local_statistical_parity(const FairnessCounts& counts) {
  std::vector<double> sp;
  sp.reserve(static_cast<std::size_t>(counts.clients()));
  for (int s = 0; s < counts.clients(); ++s)
    sp.push_back(parity(counts.count(s, 0, 0), counts.count(s, 0, 1), counts.count(s, 1, 0), counts.count(s, 1, 1)));
  return sp;
}

PidTerms partial_information_decomposition(const FairnessCounts& counts) {
  const std::vector<double> p = distribution(counts, "partial_information_decomposition");
  const Informations i = informations(p);
  const UniqueInformation uni = broja_unique(p);
  // Mathematically max(0, I(Z;Yhat) - I(Z;S)) <= Uni <= min(I(Z;Yhat), I(Z;Yhat|S)) (Red <= I(Z;S) and Red, Syn
  // >= 0); the solve ends within about barrier_gap of the minimum, so clamping removes only rounding.
  const double low = std::max(0.0, i.z_yhat - i.z_s), high = std::min(i.z_yhat, i.z_yhat_given_s);
  const double unique = std::clamp(uni.nats, low, std::max(low, high));
  PidTerms t;
  t.mi_global = i.z_yhat / ln2;
  t.mi_local = i.z_yhat_given_s / ln2;
  t.mi_client = i.z_s / ln2;
  t.unique = unique / ln2;
  t.redundant = std::max(0.0, t.mi_global - t.unique);
  t.synergistic = std::max(0.0, t.mi_local - t.unique);
  t.unique_client = std::max(0.0, t.mi_client - t.redundant);
  t.iterations = uni.iterations;
  return t;
}

}  // namespace decent
