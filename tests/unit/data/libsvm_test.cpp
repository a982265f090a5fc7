#include "decent/data/libsvm.hpp"

#include "support/error_of.hpp"
#include "support/scratch_dir.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using decent::data_error;
using decent::LibsvmOptions;
using decent::LibsvmTask;
using decent::read_libsvm;

using decent::test::ScratchDir;

std::string error_of(const std::function<void()>& f) { return decent::test::error_of<data_error>(f); }

}  // namespace

TEST_CASE("read_libsvm reads a classification file into dense columns", "[data][libsvm]") {
  ScratchDir dir("decent_libsvm_test");
  const std::string p = dir.file("a.svm",
                                 "# a comment line\n"
                                 "+1 1:0.5 3:-2   # trailing comment\n"
                                 "\n"
                                 "-1\t2:1e-1 4:3\r\n"
                                 "   \n"
                                 "+1\n"
                                 "-1 4:+7.25\n");
  const decent::Dataset d = read_libsvm(p, "a", {});
  CHECK(d.name == "a");
  REQUIRE(d.size() == 4);
  REQUIRE(d.dim() == 4);  // inferred: the largest index
  CHECK(d.classes == 2);
  CHECK(d.labels == std::vector<int>{1, 0, 1, 0});  // -1 -> 0, +1 -> 1
  CHECK(d.targets.size() == 0);
  Eigen::MatrixXf expected = Eigen::MatrixXf::Zero(4, 4);
  expected(0, 0) = 0.5f;
  expected(2, 0) = -2.0f;
  expected(1, 1) = 0.1f;
  expected(3, 1) = 3.0f;
  expected(3, 3) = 7.25f;
  CHECK(d.features == expected);
}

TEST_CASE("read_libsvm maps class labels in sorted order", "[data][libsvm]") {
  ScratchDir dir("decent_libsvm_test");
  const std::string p = dir.file("m.svm", "3 1:1\n1 1:1\n10 1:1\n3 1:1\n-2.5 1:1\n");
  const decent::Dataset d = read_libsvm(p, "m", {});
  CHECK(d.classes == 4);
  CHECK(d.labels == std::vector<int>{2, 1, 3, 2, 0});  // {-2.5, 1, 3, 10} -> {0, 1, 2, 3}
}

TEST_CASE("read_libsvm reads regression targets and honours a given dim", "[data][libsvm]") {
  ScratchDir dir("decent_libsvm_test");
  const std::string p = dir.file("r.svm", "0.25 2:1\n-3.5e2 1:2 2:3\n7 \n");
  LibsvmOptions opts;
  opts.dim = 5;
  opts.task = LibsvmTask::regression;
  const decent::Dataset d = read_libsvm(p, "r", opts);
  REQUIRE(d.size() == 3);
  CHECK(d.dim() == 5);
  CHECK(d.classes == 0);
  CHECK_FALSE(d.classification());
  CHECK(d.labels.empty());
  REQUIRE(d.targets.size() == 3);
  CHECK(d.targets(0) == 0.25f);
  CHECK(d.targets(1) == -350.0f);
  CHECK(d.targets(2) == 7.0f);
  CHECK(d.features(1, 0) == 1.0f);
  CHECK(d.features(0, 1) == 2.0f);
  CHECK(d.features(1, 1) == 3.0f);
  CHECK(d.features.col(2).isZero());
  CHECK(d.features.bottomRows(3).isZero());
}

TEST_CASE("read_libsvm rejects a negative dim option", "[data][libsvm]") {
  ScratchDir dir("decent_libsvm_test");
  LibsvmOptions opts;
  opts.dim = -1;
  CHECK_THROWS_AS(read_libsvm(dir.file("x", "1 1:1\n"), "x", opts), std::invalid_argument);
}

TEST_CASE("read_libsvm names the file and line of every problem", "[data][libsvm]") {
  ScratchDir dir("decent_libsvm_test");
  // Each broken file: its text, the line at fault and a fragment of the expected message.
  struct Broken {
    const char* name;
    const char* text;
    int line;
    const char* says;
    Eigen::Index dim = 0;
  };
  const std::vector<Broken> cases = {
      {"empty file", "", 1, "no samples"},
      {"comments only", "# nothing\n\n# here\n", 3, "no samples"},
      {"non-numeric label", "1 1:1\nabc 1:1\n", 2, "label 'abc' is not a finite number"},
      {"non-finite label", "1 1:1\n1 1:1\nnan 2:1\n", 3, "label 'nan'"},
      {"non-numeric value", "1 1:1\n1 2:x\n", 2, "value 'x' of index 2"},
      {"empty value", "1 1:\n", 1, "value '' of index 1"},
      {"infinite value", "1 1:1\n\n1 1:inf\n", 3, "value 'inf'"},
      {"missing colon", "1 1:1 3\n", 1, "feature '3' has no ':'"},
      {"index 0", "1 1:1\n1 0:1\n", 2, "index 0 in '0:1' is not positive"},
      {"negative index", "1 -3:1\n", 1, "index -3 in '-3:1' is not positive"},
      {"non-increasing indices", "1 1:1\n1 1:1\n1 3:1 2:1\n", 3, "index 2 follows index 3"},
      {"repeated index", "1 2:1 2:5\n", 1, "index 2 follows index 2"},
      {"index above the given dim", "1 1:1\n1 1:1 4:1\n", 2, "index 4 is larger than the dimension 3", 3},
      {"non-integer index", "1 1.5:1\n", 1, "index '1.5' in '1.5:1' is not an integer"},
      {"empty index", "1 :1\n", 1, "index '' in ':1' is not an integer"},
      {"huge index", "1 99999999999999999999:1\n", 1, "is too large"},
      {"qid is not supported", "1 qid:3 1:1\n", 1, "index 'qid'"},
      {"control characters are escaped", "1 1:1\n\x01\x1b[2J 1:1\n", 2, "label '\\x01\\x1b[2J' is not a finite number"},
      {"long tokens are cut", "1 1:1\n1 1:1234567890123456789012345678901234567890123\n", 2,
       "value '1234567890123456789012345678901234567890... (43 bytes)' of index 1"},
      {"dense features above 2^27 values", "1 1:1\n1 2147483647:1\n", 2, "above the reader's limit of 134217728"},
      {"given dim times samples above 2^27", "1 1:1\n1 1:1\n1 1:1\n", 3, "67108864 x 3 values", 1 << 26},
  };
  for (const Broken& c : cases) {
    SECTION(c.name) {
      const std::string p = dir.file("bad.svm", c.text);
      LibsvmOptions opts;
      opts.dim = c.dim;
      const std::string m = error_of([&] { read_libsvm(p, "bad", opts); });
      CHECK_THAT(m, Contains(p + ":" + std::to_string(c.line) + ": ") && Contains(c.says));
    }
  }
  SECTION("regression target outside the float range") {
    const std::string p = dir.file("bad.svm", "1 1:1\n-1e39 1:2\n");
    LibsvmOptions opts;
    opts.task = LibsvmTask::regression;
    CHECK_THAT(error_of([&] { read_libsvm(p, "bad", opts); }),
               Contains(p + ":2: ") && Contains("target '-1e39' is outside the range of a float"));
  }
  SECTION("missing file") {
    const std::string p = dir.path("nowhere.svm");
    CHECK_THAT(error_of([&] { read_libsvm(p, "x", {}); }), Contains(p) && Contains("cannot open"));
  }
}
