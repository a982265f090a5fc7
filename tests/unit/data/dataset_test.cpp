#include "decent/data/dataset.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

namespace {

decent::Dataset small_classification() {
  decent::Dataset d;
  d.name = "small";
  d.features.resize(2, 4);
  d.features << 0, 1, 2, 3,  //
      10, 11, 12, 13;
  d.labels = {0, 1, 2, 1};
  d.classes = 3;
  return d;
}

}  // namespace

TEST_CASE("Dataset reports its shape and task", "[data][dataset]") {
  const decent::Dataset d = small_classification();
  CHECK(d.size() == 4);
  CHECK(d.dim() == 2);
  CHECK(d.classification());
  decent::Dataset r;
  r.features.resize(3, 5);
  r.targets.resize(5);
  CHECK(r.size() == 5);
  CHECK(r.dim() == 3);
  CHECK_FALSE(r.classification());
  CHECK(decent::Dataset{}.size() == 0);
}

TEST_CASE("subset copies the chosen columns in order", "[data][dataset]") {
  const decent::Dataset d = small_classification();
  const std::vector<Eigen::Index> pick{3, 0, 3};
  const decent::Dataset s = decent::subset(d, pick, "small test");
  CHECK(s.name == "small test");
  CHECK(s.classes == 3);
  REQUIRE(s.size() == 3);
  REQUIRE(s.dim() == 2);
  CHECK(s.features.col(0) == d.features.col(3));
  CHECK(s.features.col(1) == d.features.col(0));
  CHECK(s.features.col(2) == d.features.col(3));
  CHECK(s.labels == std::vector<int>{1, 0, 1});
  CHECK(s.targets.size() == 0);

  const decent::Dataset none = decent::subset(d, {}, "empty");
  CHECK(none.size() == 0);
  CHECK(none.dim() == 2);
  CHECK(none.labels.empty());
}

TEST_CASE("subset copies regression targets", "[data][dataset]") {
  decent::Dataset r;
  r.features = Eigen::MatrixXf::Random(3, 5);
  r.targets.resize(5);
  r.targets << 1, 2, 3, 4, 5;
  const std::vector<Eigen::Index> pick{4, 1};
  const decent::Dataset s = decent::subset(r, pick, "r");
  CHECK(s.labels.empty());
  REQUIRE(s.targets.size() == 2);
  CHECK(s.targets(0) == 5);
  CHECK(s.targets(1) == 2);
  CHECK(s.features.col(0) == r.features.col(4));
}

TEST_CASE("subset rejects bad indices and inconsistent data sets", "[data][dataset]") {
  decent::Dataset d = small_classification();
  const std::vector<Eigen::Index> outside{1, 4};
  CHECK_THROWS_WITH(decent::subset(d, outside, "x"), Catch::Contains("indices[1] = 4") && Catch::Contains("[0, 4)"));
  const std::vector<Eigen::Index> negative{-1};
  CHECK_THROWS_AS(decent::subset(d, negative, "x"), std::out_of_range);
  d.labels.pop_back();
  const std::vector<Eigen::Index> fine{0};
  CHECK_THROWS_AS(decent::subset(d, fine, "x"), std::invalid_argument);
}
