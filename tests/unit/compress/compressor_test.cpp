// The contract every compressor from make_compressor keeps: unbiasedness where claimed, the claimed
// contraction factor, exact message sizes, and std::invalid_argument for mismatched or damaged messages.
#include "decent/compress/compressor.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "decent/core/random.hpp"

using namespace decent;

namespace {

const std::vector<std::string> all_specs = {
    "none",    "topk:0.1", "topk:3", "randk:0.1", "randk:3", "randk-unbiased:0.1", "randk-unbiased:3",
    "qsgd:1", "qsgd:4",   "qsgd:16", "sign",     "fp16",    "natural"};

Eigen::VectorXf gaussian(Eigen::Index d, Rng& rng, double scale = 1) {
  Eigen::VectorXf x(d);
  for (auto& v : x) v = static_cast<float>(scale * rng.normal());
  return x;
}

/// Test inputs of different shapes; magnitudes stay in the normal fp16 range, where its delta is claimed.
std::vector<Eigen::VectorXf> inputs(Eigen::Index d, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Eigen::VectorXf> xs;
  xs.push_back(gaussian(d, rng));
  Eigen::VectorXf spread = gaussian(d, rng);  // magnitudes over 2^-6 .. 2^6
  for (auto& v : spread) v = std::copysign(std::ldexp(1.0f + static_cast<float>(rng.uniform()), static_cast<int>(rng.below(13)) - 6), v);
  xs.push_back(spread);
  Eigen::VectorXf sparse = Eigen::VectorXf::Zero(d);
  for (int j = 0; j < 5; ++j) sparse[static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(d)))] = static_cast<float>(rng.normal());
  xs.push_back(sparse);
  Eigen::VectorXf spike = Eigen::VectorXf::Zero(d);  // tight for sign: ||x||_1^2 / (d ||x||^2) = 1/d
  spike[d / 2] = -3.0f;
  xs.push_back(spike);
  Eigen::VectorXf level = Eigen::VectorXf::Constant(d, 4.0f / 3);  // tight for natural (m = 4/3); all ties for top-k
  for (Eigen::Index i = 0; i < d; i += 2) level[i] = -level[i];
  xs.push_back(level);
  return xs;
}

struct Stats {
  Eigen::VectorXd mean;
  Eigen::VectorXd variance;  // sample variance per coordinate
  double range = 0;          // the largest |C(x)_j - x_j| seen in any coordinate and draw
};

Stats decode_stats(Compressor& c, const Eigen::VectorXf& x, int draws, std::uint64_t seed) {
  Rng rng(seed);
  Message m;
  Eigen::VectorXf y(x.size());
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(x.size()), sum_sq = Eigen::VectorXd::Zero(x.size());
  double range = 0;
  for (int t = 0; t < draws; ++t) {
    c.encode(x, rng, m);
    c.decode(m, y);
    const Eigen::VectorXd yd = y.cast<double>();
    sum += yd;
    sum_sq += yd.cwiseAbs2();
    range = std::max(range, (yd - x.cast<double>()).cwiseAbs().maxCoeff());
  }
  Stats s;
  s.range = range;
  s.mean = sum / draws;
  s.variance = ((sum_sq - draws * s.mean.cwiseAbs2()) / (draws - 1)).cwiseMax(0.0);
  return s;
}

/// Every coordinate's mean over the draws is within the empirical Bernstein bound (Maurer and Pontil 2009) of
/// x_i at confidence 1 - 1e-7: about 6 standard errors from the sample variance, plus a range term that covers
/// rare events (a QSGD coordinate that rounds up with probability 1e-4 shows no variance in 4000 draws), plus
/// float rounding.
bool mean_matches(const Stats& s, const Eigen::VectorXf& x, int draws) {
  const double log_term = std::log(2 / 1e-7);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double tolerance = std::sqrt(2 * s.variance[i] * log_term / draws) +
                             7 * s.range * log_term / (3.0 * (draws - 1)) + 1e-6 * std::abs(x[i]) + 1e-30;
    if (std::abs(s.mean[i] - x[i]) > tolerance) return false;
  }
  return true;
}

bool is_deterministic(const std::string& spec) {
  return spec == "none" || spec.starts_with("topk") || spec == "sign" || spec == "fp16";
}

}  // namespace

TEST_CASE("unbiased compressors are unbiased: the mean of many decodes is x within an empirical Bernstein bound",
          "[compress][compressor][statistics]") {
  const int draws = 20000;
  for (const std::string& spec : all_specs) {
    auto c = make_compressor(spec);
    if (!c->unbiased()) continue;
    int k = 0;
    for (const Eigen::VectorXf& x : inputs(60, 11)) {
      INFO(spec << ", input " << k++);
      const Stats s = decode_stats(*c, x, draws, 1234);
      CHECK(mean_matches(s, x, draws));
    }
  }
}

TEST_CASE("the unbiasedness check has power: it rejects the scaled (biased) random-k", "[compress][compressor][statistics]") {
  auto c = make_compressor("randk:0.3");
  Rng rng(5);
  const Eigen::VectorXf x = gaussian(60, rng);
  CHECK_FALSE(mean_matches(decode_stats(*c, x, 20000, 99), x, 20000));
}

TEST_CASE("the unbiasedness check has power: it rejects QSGD shrunk by 3%", "[compress][compressor][statistics]") {
  auto c = make_compressor("qsgd:4");
  Rng rng(6);
  const Eigen::VectorXf x = gaussian(60, rng);
  Stats s = decode_stats(*c, x, 20000, 98);
  CHECK(mean_matches(s, x, 20000));
  s.mean *= 0.97;
  CHECK_FALSE(mean_matches(s, x, 20000));
}

TEST_CASE("the claimed delta holds: E||C(x) - x||^2 <= (1 - delta)||x||^2, for C / (1 + omega) if unbiased",
          "[compress][compressor][statistics]") {
  for (const Eigen::Index d : {1, 2, 7, 200}) {
    for (const std::string& spec : all_specs) {
      auto c = make_compressor(spec);
      const double delta = c->delta(d);
      REQUIRE(delta > 0);
      REQUIRE(delta <= 1);
      const double scale = c->unbiased() ? 1 / (1 + c->omega(d)) : 1.0;
      const int draws = is_deterministic(spec) ? 1 : 2000;
      Rng rng(77);
      Message m;
      Eigen::VectorXf y(d);
      int k = 0;
      for (const Eigen::VectorXf& x : inputs(d, 3 + static_cast<std::uint64_t>(d))) {
        INFO(spec << ", d = " << d << ", input " << k++);
        const Eigen::VectorXd xd = x.cast<double>();
        double sum = 0, sum_sq = 0;
        for (int t = 0; t < draws; ++t) {
          c->encode(x, rng, m);
          c->decode(m, y);
          const double e = (scale * y.cast<double>() - xd).squaredNorm();
          sum += e;
          sum_sq += e * e;
        }
        const double mean = sum / draws;
        const double se = draws > 1 ? std::sqrt(std::max(0.0, (sum_sq - draws * mean * mean) / (draws - 1)) / draws) : 0.0;
        const double bound = (1 - delta) * xd.squaredNorm();
        CHECK(mean <= bound + 5 * se + 1e-6 * xd.squaredNorm());
      }
    }
  }
}

TEST_CASE("messages have exactly message_bytes(d) bytes and decode to the right size", "[compress][compressor]") {
  Rng rng(3);
  for (const std::string& spec : all_specs) {
    auto c = make_compressor(spec);
    for (const Eigen::Index d : {1, 2, 9, 64, 1000}) {
      INFO(spec << ", d = " << d);
      Message m;
      m.bytes.assign(100000, 0xEE);  // a reused, larger buffer
      const Eigen::VectorXf x = gaussian(d, rng);
      c->encode(x, rng, m);
      CHECK(m.bytes_on_wire() == c->message_bytes(d));
      CHECK(message_dimension(m) == d);
      CHECK(c->decode(m).size() == d);
    }
  }
}

TEST_CASE("deterministic compressors do not touch the rng, stochastic ones do", "[compress][compressor]") {
  for (const std::string& spec : all_specs) {
    INFO(spec);
    auto c = make_compressor(spec);
    Rng input_rng(9);
    const Eigen::VectorXf x = gaussian(50, input_rng);
    Rng rng(8), untouched(8);
    Message m;
    c->encode(x, rng, m);
    CHECK((rng() == untouched()) == is_deterministic(spec));
  }
}

TEST_CASE("mismatched, truncated, extended and empty messages throw std::invalid_argument", "[compress][compressor]") {
  Rng rng(4);
  for (const std::string& spec : all_specs) {
    INFO(spec);
    auto c = make_compressor(spec);
    const Eigen::VectorXf x = gaussian(100, rng);
    Message m;
    c->encode(x, rng, m);
    Eigen::VectorXf y(100), wrong(99);
    CHECK_NOTHROW(c->decode(m, y));
    CHECK_THROWS_AS(c->decode(m, wrong), std::invalid_argument);

    Message truncated = m;
    truncated.bytes.pop_back();
    CHECK_THROWS_AS(c->decode(truncated, y), std::invalid_argument);
    Message extended = m;
    extended.bytes.push_back(0);
    CHECK_THROWS_AS(c->decode(extended, y), std::invalid_argument);
    Message header_only = m;
    header_only.bytes.resize(4);
    CHECK_THROWS_AS(c->decode(header_only, y), std::invalid_argument);
    CHECK_THROWS_AS(c->decode(Message{}, y), std::invalid_argument);
    CHECK_THROWS_AS(c->decode(Message{}), std::invalid_argument);

    // The payload relabelled as d = 99: never decodes into 100 coordinates, and into 99 only when the
    // layouts for 99 and 100 happen to have the same length (sparsifiers with the same k and index width).
    Message relabelled = m;
    relabelled.bytes[0] = 99;
    CHECK_THROWS_AS(c->decode(relabelled, y), std::invalid_argument);
    if (c->message_bytes(99) != c->message_bytes(100))
      CHECK_THROWS_AS(c->decode(relabelled, wrong), std::invalid_argument);

    // A message of another compressor for the same d.
    auto other = make_compressor(spec == "fp16" ? "none" : "fp16");
    Message foreign;
    other->encode(x, rng, foreign);
    CHECK_THROWS_AS(c->decode(foreign, y), std::invalid_argument);
  }
}

TEST_CASE("encode rejects an empty vector", "[compress][compressor]") {
  Rng rng(1);
  Message m;
  for (const std::string& spec : all_specs) {
    INFO(spec);
    auto c = make_compressor(spec);
    CHECK_THROWS_AS(c->encode(Eigen::VectorXf(0), rng, m), std::invalid_argument);
    CHECK_THROWS_AS(c->message_bytes(0), std::invalid_argument);
    CHECK_THROWS_AS(c->delta(0), std::invalid_argument);
  }
}

TEST_CASE("non-finite input: rejected where the compressor needs finite values, passed on otherwise",
          "[compress][compressor]") {
  Rng rng(1);
  Message m;
  for (const float bad : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    Eigen::VectorXf x = Eigen::VectorXf::Ones(10);
    x[3] = bad;
    for (const std::string spec : {"topk:0.5", "qsgd:4", "sign", "natural"}) {
      INFO(spec);
      CHECK_THROWS_AS(make_compressor(spec)->encode(x, rng, m), std::invalid_argument);
    }
    for (const std::string spec : {"none", "fp16", "randk:1.0"}) {
      INFO(spec);
      auto c = make_compressor(spec);
      c->encode(x, rng, m);
      const Eigen::VectorXf y = c->decode(m);
      CHECK((std::isnan(bad) ? std::isnan(y[3]) : y[3] == bad));
    }
  }
}

TEST_CASE("encode accepts any contiguous vector view", "[compress][compressor]") {
  Rng rng(2);
  Eigen::MatrixXf columns = Eigen::MatrixXf::Random(20, 3);
  auto c = make_compressor("none");
  Message m;
  c->encode(columns.col(1), rng, m);
  Eigen::MatrixXf out = Eigen::MatrixXf::Zero(20, 3);
  c->decode(m, out.col(2));
  CHECK(out.col(2) == columns.col(1));
}

TEST_CASE("make_compressor: specs, canonical names, unbiasedness and delta", "[compress][compressor][factory]") {
  const Eigen::Index d = 1000;
  CHECK(make_compressor("none")->delta(d) == 1);
  CHECK(make_compressor("none")->unbiased());
  CHECK(make_compressor("topk:0.01")->delta(d) == Approx(0.01));
  CHECK(make_compressor("topk:25")->delta(d) == Approx(0.025));
  CHECK_FALSE(make_compressor("topk:25")->unbiased());
  CHECK(make_compressor("randk:0.05")->delta(d) == Approx(0.05));
  CHECK_FALSE(make_compressor("randk:0.05")->unbiased());
  CHECK(make_compressor("randk-unbiased:0.05")->unbiased());
  CHECK(make_compressor("randk-unbiased:0.05")->omega(d) == Approx(19));
  CHECK(make_compressor("randk-unbiased:0.05")->delta(d) == Approx(0.05));
  CHECK(make_compressor("qsgd:4")->omega(d) == Approx(std::min(1000.0 / 16, std::sqrt(1000.0) / 4)));
  CHECK(make_compressor("qsgd:4")->delta(d) == Approx(1 / (1 + std::sqrt(1000.0) / 4)));
  CHECK(make_compressor("qsgd:64")->omega(d) == Approx(1000.0 / 4096));
  CHECK(make_compressor("sign")->delta(d) == Approx(0.001));
  CHECK(make_compressor("fp16")->delta(d) == 1 - std::ldexp(1.0, -22));
  CHECK(make_compressor("natural")->omega(d) == 0.125);
  CHECK(make_compressor("natural")->delta(d) == Approx(8.0 / 9));
  CHECK_THROWS_AS(make_compressor("topk:0.1")->omega(d), std::logic_error);

  for (const std::string& spec : all_specs) {
    INFO(spec);
    CHECK(make_compressor(spec)->name() == spec);
    CHECK(make_compressor(make_compressor(spec)->name())->name() == spec);
  }
  CHECK(make_compressor("topk:0.010")->name() == "topk:0.01");
  CHECK(make_compressor("topk:1e-2")->name() == "topk:0.01");
  CHECK(make_compressor("topk:1.0")->name() == "topk:1.0");
  CHECK(make_compressor("topk:1")->delta(d) == Approx(0.001));  // the count 1, not the fraction 1
}

TEST_CASE("make_compressor rejects bad specs and lists the allowed ones", "[compress][compressor][factory]") {
  for (const char* spec : {"", "zip", "topk", "topk:", "topk:0", "topk:1.5", "topk:-3", "topk:0.1x", "topk:abc",
                           "randk:0.0", "randk-unbiased", "qsgd", "qsgd:0", "qsgd:2.5", "qsgd:70000", "sign:1",
                           "none:2", "fp16:x", "natural:1", "TOPK:0.1"}) {
    INFO(spec);
    try {
      make_compressor(spec);
      FAIL("no exception");
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      CHECK(what.find("'" + std::string(spec) + "'") != std::string::npos);
      CHECK(what.find("topk:F") != std::string::npos);
      CHECK(what.find("natural") != std::string::npos);
    }
  }
  CHECK(compressor_names().size() == 12);
}

TEST_CASE("decode into a new vector checks the length before trusting the header", "[compress][compressor]") {
  Message huge;
  huge.bytes = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};  // claims d = 2^32 - 1
  for (const std::string& spec : all_specs) {
    INFO(spec);
    CHECK_THROWS_AS(make_compressor(spec)->decode(huge), std::invalid_argument);
  }
  Message zero;
  zero.bytes = {0, 0, 0, 0};
  CHECK_THROWS_AS(make_compressor("none")->decode(zero), std::invalid_argument);
}
