#include "decent/data/sensitive.hpp"

#include "support/error_of.hpp"
#include "support/scratch_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Catch::Matchers::Contains;
using decent::data_error;
using decent::Dataset;
using decent::input_error;
using decent::SensitiveOptions;
using decent::test::ScratchDir;

template <class E>
std::string error_of(const std::function<void()>& f) {
  return decent::test::error_of<E>(f);
}

/// A classification set of n samples (1 feature) with label j % classes.
Dataset labelled(const std::string& name, Eigen::Index n, int classes) {
  Dataset d;
  d.name = name;
  d.classes = classes;
  d.features = Eigen::MatrixXf::Zero(1, n);
  for (Eigen::Index j = 0; j < n; ++j) d.labels.push_back(static_cast<int>(j % classes));
  return d;
}

/// A regression set of n samples.
Dataset regression(Eigen::Index n) {
  Dataset d;
  d.name = "targets";
  d.features = Eigen::MatrixXf::Zero(1, n);
  d.targets = Eigen::VectorXf::Zero(n);
  return d;
}

SensitiveOptions rule(const std::string& spec, double correlation, std::uint64_t seed = 1) {
  SensitiveOptions o;
  o.sensitive = spec;
  o.correlation = correlation;
  o.seed = seed;
  return o;
}

SensitiveOptions file(const std::string& path) {
  SensitiveOptions o;
  o.group_file = path;
  return o;
}

void attach(std::vector<Dataset*> sets, const SensitiveOptions& o) { decent::attach_sensitive(sets, o); }

/// counts[in][z]: how many samples with label in `listed` (in = 1) or not (in = 0) have Z = z.
std::array<std::array<double, 2>, 2> contingency(const Dataset& d, const std::vector<int>& listed) {
  std::array<std::array<double, 2>, 2> counts{};
  for (std::size_t j = 0; j < d.labels.size(); ++j) {
    const bool in = std::find(listed.begin(), listed.end(), d.labels[j]) != listed.end();
    counts[in ? 1 : 0][static_cast<std::size_t>(d.groups[j])] += 1;
  }
  return counts;
}

/// Pearson's chi-square statistic of independence of a 2 x 2 table (1 degree of freedom).
double chi_square(const std::array<std::array<double, 2>, 2>& t) {
  const double n = t[0][0] + t[0][1] + t[1][0] + t[1][1];
  double chi2 = 0;
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 2; ++c) {
      const double expected = (t[r][0] + t[r][1]) * (t[0][c] + t[1][c]) / n;
      chi2 += (t[r][c] - expected) * (t[r][c] - expected) / expected;
    }
  return chi2;
}

}  // namespace

TEST_CASE("has_sensitive is true for a group file or a classes rule", "[data][sensitive]") {
  CHECK_FALSE(decent::has_sensitive({}));
  CHECK(decent::has_sensitive(file("z.txt")));
  CHECK(decent::has_sensitive(rule("classes:1", 1)));
}

TEST_CASE("parse_sensitive_classes reads a comma list of distinct class ids", "[data][sensitive]") {
  CHECK(decent::parse_sensitive_classes("classes:0,2,6", 10) == std::vector<int>{0, 2, 6});
  CHECK(decent::parse_sensitive_classes("classes:6,0", 10) == std::vector<int>{0, 6});
  CHECK(decent::parse_sensitive_classes("classes: 3 , 1", 4) == std::vector<int>{1, 3});
  CHECK(decent::parse_sensitive_classes("classes:9", 10) == std::vector<int>{9});

  struct Bad {
    const char* spec;
    const char* says;
  };
  for (const Bad& bad : {Bad{"class:1", "expected classes:LIST"}, Bad{"1,2", "expected classes:LIST"},
                         Bad{"classes:", "empty"}, Bad{"classes: ", "empty"}, Bad{"classes:1,,2", "'' is not a class"},
                         Bad{"classes:1,", "'' is not a class"}, Bad{"classes:x", "'x' is not a class id"},
                         Bad{"classes:1.5", "'1.5' is not a class id"}, Bad{"classes:0,2,0", "class 0 is listed twice"},
                         Bad{"classes:10", "class 10 is outside [0, classes = 10)"},
                         Bad{"classes:-1", "class -1 is outside [0, classes = 10)"}}) {
    INFO(bad.spec);
    const std::string what = error_of<input_error>([&] { decent::parse_sensitive_classes(bad.spec, 10); });
    CHECK_THAT(what, Contains("sensitive: '" + std::string(bad.spec) + "'") && Contains(bad.says));
  }
}

TEST_CASE("attach_sensitive reads a group file over the sets in order", "[data][sensitive]") {
  ScratchDir dir("decent_sensitive_test");
  // 5 train values then 3 test values, over lines, blanks, CRLF and a comment.
  const std::string p = dir.file("z.txt", "# train\n1 0 0\n\n1\t1\r\n0 1   0 # test\n");
  Dataset train = labelled("train", 5, 3);
  Dataset test = labelled("test", 3, 3);
  attach({&train, &test}, file(p));
  CHECK(train.groups == std::vector<int>{1, 0, 0, 1, 1});
  CHECK(test.groups == std::vector<int>{0, 1, 0});

  // Regression sets take a group file too: it needs no labels.
  Dataset r = regression(2);
  attach({&r}, file(dir.file("r.txt", "0\n1\n")));
  CHECK(r.groups == std::vector<int>{0, 1});
}

TEST_CASE("attach_sensitive names the line of a bad value in the group file", "[data][sensitive]") {
  ScratchDir dir("decent_sensitive_test");
  Dataset train = labelled("train", 6, 2);
  const std::string two = dir.file("two.txt", "0 1\n1\n\n0 2 1\n1\n");
  CHECK_THAT(error_of<data_error>([&] { attach({&train}, file(two)); }),
             Contains(two + ":4: value 2 is not 0 or 1"));
  const std::string word = dir.file("word.txt", "0\nyes 1\n");
  CHECK_THAT(error_of<data_error>([&] { attach({&train}, file(word)); }),
             Contains(word + ":2: 'yes' is not an integer"));
  const std::string minus = dir.file("minus.txt", "0 0 1 1 0\n-1\n");
  CHECK_THAT(error_of<data_error>([&] { attach({&train}, file(minus)); }),
             Contains(minus + ":2: value -1 is not 0 or 1"));
  const std::string real = dir.file("real.txt", "0 1.0\n");
  CHECK_THAT(error_of<data_error>([&] { attach({&train}, file(real)); }), Contains(real + ":1: '1.0'"));
  CHECK(train.groups.empty());  // an error changes no set
}

TEST_CASE("attach_sensitive rejects a group file with the wrong number of values", "[data][sensitive]") {
  ScratchDir dir("decent_sensitive_test");
  Dataset train = labelled("train", 4, 2);
  Dataset test = labelled("test", 3, 2);
  const std::string fewer = dir.file("fewer.txt", "0 1 0 1\n1 1\n");
  CHECK_THAT(error_of<data_error>([&] { attach({&train, &test}, file(fewer)); }),
             Contains(fewer + ": holds 6 values") && Contains("7 samples") && Contains("4 in 'train', 3 in 'test'"));
  const std::string more = dir.file("more.txt", "0 1 0 1\n1 1 0\n1\n");
  CHECK_THAT(error_of<data_error>([&] { attach({&train, &test}, file(more)); }),
             Contains(more + ": holds 8 values") && Contains("7 samples") && Contains("4 in 'train', 3 in 'test'"));
  const std::string empty = dir.file("empty.txt", "# nothing\n");
  CHECK_THAT(error_of<data_error>([&] { attach({&train}, file(empty)); }), Contains("holds 0 values"));
  CHECK(train.groups.empty());
  CHECK(test.groups.empty());
}

TEST_CASE("attach_sensitive names a missing or unreadable group file", "[data][sensitive]") {
  ScratchDir dir("decent_sensitive_test");
  Dataset train = labelled("train", 2, 2);
  const std::string missing = dir.path("missing.txt");
  CHECK_THAT(error_of<data_error>([&] { attach({&train}, file(missing)); }),
             Contains(missing + ": cannot open file"));
  CHECK_THAT(error_of<data_error>([&] { attach({&train}, file(dir.path(""))); }), Contains("is a directory"));
}

TEST_CASE("attach_sensitive takes one source and checks the correlation", "[data][sensitive]") {
  Dataset train = labelled("train", 10, 2);
  SensitiveOptions both = rule("classes:1", 1);
  both.group_file = "z.txt";
  const std::string what = error_of<input_error>([&] { attach({&train}, both); });
  CHECK_THAT(what, Contains("group-file") && Contains("sensitive") && Contains("both"));

  attach({&train}, {});  // no source: nothing happens
  CHECK(train.groups.empty());

  for (const double bad : {-0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    INFO(bad);
    CHECK_THAT(error_of<input_error>([&] { attach({&train}, rule("classes:1", bad)); }),
               Contains("sensitive-correlation") && Contains("[0, 1]"));
  }
  CHECK_THAT(error_of<input_error>([&] { attach({&train}, rule("classes:2", 1)); }),
             Contains("sensitive") && Contains("class 2 is outside [0, classes = 2)"));
  Dataset r = regression(4);
  CHECK_THAT(error_of<input_error>([&] { attach({&r}, rule("classes:1", 1)); }),
             Contains("sensitive: 'classes:1' needs class labels") && Contains("'targets'") &&
                 Contains("group-file"));
  CHECK(train.groups.empty());
}

TEST_CASE("the classes rule with correlation 1 makes Z the class indicator", "[data][sensitive]") {
  Dataset train = labelled("train", 1000, 10);
  Dataset test = labelled("test", 300, 10);
  attach({&train, &test}, rule("classes:0,2,6", 1, 17));
  for (const Dataset* d : {&train, &test}) {
    REQUIRE(d->groups.size() == d->labels.size());
    for (std::size_t j = 0; j < d->labels.size(); ++j) {
      const int label = d->labels[j];
      CHECK(d->groups[j] == (label == 0 || label == 2 || label == 6 ? 1 : 0));
    }
  }
  // Correlation 0 is the complement, exactly.
  attach({&train}, rule("classes:0,2,6", 0, 17));
  for (std::size_t j = 0; j < train.labels.size(); ++j) {
    const int label = train.labels[j];
    CHECK(train.groups[j] == (label == 0 || label == 2 || label == 6 ? 0 : 1));
  }
}

TEST_CASE("the classes rule with correlation 0.5 makes Z independent of the label", "[data][sensitive]") {
  Dataset train = labelled("train", 40000, 4);
  attach({&train}, rule("classes:0,2", 0.5, 3));
  const auto t = contingency(train, {0, 2});
  // Under independence chi-square (1 df) exceeds 25 (a 5-sigma normal deviate squared) with probability 6e-7.
  CHECK(chi_square(t) < 25);
  // P(Z = 1) = 0.5: the count of Z = 1 has sd sqrt(N / 4) = 100.
  const double ones = t[0][1] + t[1][1];
  CHECK(std::abs(ones - 20000) < 5 * 100);
  // The chi-square test does detect dependence: at correlation 0.55 the expected statistic is N * 0.1^2 = 400.
  attach({&train}, rule("classes:0,2", 0.55, 3));
  CHECK(chi_square(contingency(train, {0, 2})) > 100);
}

TEST_CASE("the classes rule with correlation 0.9 draws Z = 1 at rate 0.9 in the listed classes", "[data][sensitive]") {
  Dataset train = labelled("train", 30000, 3);  // 10000 per class: 10000 listed, 20000 not
  Dataset test = labelled("test", 6000, 3);
  attach({&train, &test}, rule("classes:1", 0.9, 5));
  for (const Dataset* d : {&train, &test}) {
    const auto t = contingency(*d, {1});
    const double in = t[1][0] + t[1][1];
    const double out = t[0][0] + t[0][1];
    // A rate estimated from m draws with probability 0.9 (or 0.1) has sd sqrt(0.09 / m).
    CHECK(std::abs(t[1][1] / in - 0.9) < 5 * std::sqrt(0.09 / in));
    CHECK(std::abs(t[0][1] / out - 0.1) < 5 * std::sqrt(0.09 / out));
  }
}

TEST_CASE("the classes rule is deterministic by seed and draws each set separately", "[data][sensitive]") {
  Dataset a = labelled("a", 2000, 2);
  Dataset b = labelled("b", 2000, 2);
  attach({&a, &b}, rule("classes:1", 0.5, 8));
  const std::vector<int> a8 = a.groups;
  CHECK(a.groups != b.groups);  // same labels, different set index: different draws
  Dataset a_again = labelled("a", 2000, 2);
  attach({&a_again}, rule("classes:1", 0.5, 8));
  CHECK(a_again.groups == a8);  // set 0's draws do not depend on the other sets
  attach({&a}, rule("classes:1", 0.5, 9));
  CHECK(a.groups != a8);
  // Sample j's draw does not depend on the set size.
  Dataset prefix = labelled("a", 100, 2);
  attach({&prefix}, rule("classes:1", 0.5, 8));
  CHECK(prefix.groups == std::vector<int>(a8.begin(), a8.begin() + 100));
}

TEST_CASE("synthetic_fair draws the two Gaussians of synth3 with a correlated Z", "[data][sensitive]") {
  const Eigen::Index n = 40000;
  const double alpha = 0.95;
  const Dataset d = decent::synthetic_fair(n, alpha, 11);
  CHECK(d.name == "synthetic-fair");
  REQUIRE(d.size() == n);
  REQUIRE(d.dim() == 2);
  CHECK(d.classes == 2);
  CHECK(d.targets.size() == 0);
  REQUIRE(d.labels.size() == static_cast<std::size_t>(n));
  REQUIRE(d.groups.size() == static_cast<std::size_t>(n));

  struct Stated {
    int label;
    double mean;
    double cov[2][2];
    double p_z1;
  };
  for (const Stated& s : {Stated{1, 2, {{5, 1}, {1, 5}}, alpha}, Stated{0, -2, {{10, 1}, {1, 3}}, 1 - alpha}}) {
    INFO("label " << s.label);
    std::vector<Eigen::Index> members;
    double z1 = 0;
    for (Eigen::Index j = 0; j < n; ++j)
      if (d.labels[static_cast<std::size_t>(j)] == s.label) {
        members.push_back(j);
        z1 += d.groups[static_cast<std::size_t>(j)];
      }
    const auto m = static_cast<double>(members.size());
    CHECK(members.size() == static_cast<std::size_t>(n / 2));
    double mean[2] = {0, 0};
    for (Eigen::Index j : members)
      for (int r = 0; r < 2; ++r) mean[r] += d.features(r, j) / m;
    double cov[2][2] = {{0, 0}, {0, 0}};
    for (Eigen::Index j : members)
      for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 2; ++c) cov[r][c] += (d.features(r, j) - mean[r]) * (d.features(c, j) - mean[c]) / (m - 1);
    for (int r = 0; r < 2; ++r) {
      // The sample mean has sd sqrt(Sigma_rr / m); a Gaussian sample covariance entry sd
      // sqrt((Sigma_rr Sigma_cc + Sigma_rc^2) / m).
      CHECK(std::abs(mean[r] - s.mean) < 5 * std::sqrt(s.cov[r][r] / m));
      for (int c = 0; c < 2; ++c)
        CHECK(std::abs(cov[r][c] - s.cov[r][c]) <
              5 * std::sqrt((s.cov[r][r] * s.cov[c][c] + s.cov[r][c] * s.cov[r][c]) / m));
    }
    // P(Z = 1 | Y) from m draws: sd sqrt(p (1 - p) / m).
    CHECK(std::abs(z1 / m - s.p_z1) < 5 * std::sqrt(s.p_z1 * (1 - s.p_z1) / m));
  }
}

TEST_CASE("synthetic_fair is seeded per sample and checks its arguments", "[data][sensitive]") {
  const Dataset big = decent::synthetic_fair(1000, 0.95, 4);
  const Dataset small = decent::synthetic_fair(5, 0.95, 4);
  CHECK(small.labels == std::vector<int>{0, 1, 0, 1, 0});  // samples / 2 = 2 positives
  CHECK(small.features == big.features.leftCols(5));
  CHECK(small.groups == std::vector<int>(big.groups.begin(), big.groups.begin() + 5));
  CHECK(decent::synthetic_fair(1000, 0.95, 4).features == big.features);
  CHECK(decent::synthetic_fair(1000, 0.95, 5).features != big.features);

  // alpha = 1: Z = Y exactly; alpha = 0.5: about half of each class.
  const Dataset exact = decent::synthetic_fair(1000, 1, 4);
  CHECK(exact.groups == exact.labels);
  const Dataset independent = decent::synthetic_fair(40000, 0.5, 4);
  double z1_of_y1 = 0;
  for (std::size_t j = 1; j < independent.groups.size(); j += 2) z1_of_y1 += independent.groups[j];
  CHECK(std::abs(z1_of_y1 - 10000) < 5 * 100);  // 20000 draws with p = 0.5: sd 70.7

  CHECK_THROWS_AS(decent::synthetic_fair(1, 0.5, 1), std::invalid_argument);
  CHECK_THROWS_WITH(decent::synthetic_fair(0, 0.5, 1), Contains("samples = 0"));
  CHECK_THROWS_WITH(decent::synthetic_fair(10, 1.5, 1), Contains("correlation = 1.5"));
  CHECK_THROWS_AS(decent::synthetic_fair(10, -0.01, 1), std::invalid_argument);
  CHECK_THROWS_AS(decent::synthetic_fair(10, std::numeric_limits<double>::quiet_NaN(), 1), std::invalid_argument);
}
