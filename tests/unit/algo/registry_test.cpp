#include "decent/algo/registry.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "decent/algo/federated.hpp"
#include "decent/algo/train.hpp"
#include "decent/core/error.hpp"

namespace {

using Catch::Matchers::Contains;
using namespace decent;

}  // namespace

TEST_CASE("registry: ten algorithms with unique names, a summary line and the groups they read") {
  const auto all = algorithms();
  REQUIRE(all.size() == 10);
  std::set<std::string> names;
  for (const AlgorithmEntry& e : all) {
    names.insert(std::string(e.name));
    CHECK_FALSE(e.summary.empty());
    CHECK(e.summary.find('\n') == std::string_view::npos);
    for (const std::string_view common : common_option_groups()) CHECK(e.reads(common));
    CHECK(&find_algorithm(e.name) == &e);
  }
  CHECK(names.size() == all.size());
}

TEST_CASE("registry: each entry's family matches the parser of the loop that runs it") {
  for (const AlgorithmEntry& e : algorithms()) {
    CAPTURE(e.name);
    switch (e.family) {
      case AlgorithmFamily::decentralized: CHECK(to_string(parse_algorithm(e.name)) == e.name); break;
      case AlgorithmFamily::federated: CHECK(to_string(parse_aggregation_rule(e.name)) == e.name); break;
      case AlgorithmFamily::zeroth_order: CHECK(e.name == "zo-shared-seed"); break;
    }
  }
}

TEST_CASE("registry: groups are read by the algorithms that use them") {
  CHECK(find_algorithm("choco").reads("compression"));
  CHECK(find_algorithm("server").reads("compression"));
  CHECK_FALSE(find_algorithm("dsgd").reads("compression"));
  CHECK_FALSE(find_algorithm("local-sgd").reads("schedule"));
  CHECK(find_algorithm("local-sgd").reads("period"));
  CHECK_FALSE(find_algorithm("zo-shared-seed").reads("sgd"));
  CHECK(find_algorithm("fedbuff").reads("fedbuff"));
  CHECK_FALSE(find_algorithm("fedavg").reads("fedbuff"));
  CHECK(find_algorithm("fedavg").reads("checkpoints"));
  CHECK_FALSE(find_algorithm("zo-shared-seed").reads("checkpoints"));
  CHECK(algorithms_reading("fedbuff") == "fedbuff");
  CHECK(algorithms_reading("federated") == "fedavg, async-fedavg, fedbuff or fedfix");
  CHECK(algorithms_reading("checkpoints") == "dsgd, dpsgd, server, local-sgd, choco, fedavg, async-fedavg, fedbuff or fedfix");
  CHECK(algorithms_reading("no-such-group").empty());
}

TEST_CASE("registry: an unknown name is an input error listing the names") {
  CHECK_THROWS_AS(find_algorithm("fedsgd"), input_error);
  CHECK_THROWS_WITH(find_algorithm("fedsgd"),
                    Contains("algorithm: 'fedsgd' is not allowed (allowed: dsgd, dpsgd, server, local-sgd, choco, "
                             "fedavg, async-fedavg, fedbuff, fedfix, zo-shared-seed)"));
  CHECK(to_string(AlgorithmFamily::zeroth_order) == "zeroth-order");
}
