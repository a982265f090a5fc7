#include "decent/topology/topology.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "decent/topology/builders.hpp"
#include "decent/topology/file.hpp"

namespace decent {

// ---- Topology --------------------------------------------------------------------------------

Topology::Topology(std::string name, int n, int period, std::string weights)
    : name_(std::move(name)), weights_(std::move(weights)), n_(n), period_(period) {}

MixingMatrix Topology::mixing_matrix(std::int64_t round) const {
  if (round < 0) throw std::invalid_argument("topology " + name_ + ": round must be >= 0, got " + std::to_string(round));
  return mixing_matrix_impl(round);
}

Eigen::MatrixXd Topology::period_product(std::int64_t first) const {
  if (period_ < 1) throw std::logic_error("topology " + name_ + " has no period: its rounds are random");
  Eigen::MatrixXd product = Eigen::MatrixXd::Identity(n_, n_);
  for (int t = 0; t < period_; ++t) product = mixing_matrix(first + t).dense() * product;
  return product;
}

StaticTopology::StaticTopology(std::string name, MixingMatrix w, std::string weights)
    : Topology(std::move(name), w.nodes(), 1, std::move(weights)), w_(std::move(w)) {}

MixingMatrix StaticTopology::mixing_matrix_impl(std::int64_t) const { return w_; }

CyclicTopology::CyclicTopology(std::string name, std::vector<MixingMatrix> rounds, std::string weights)
    : Topology(std::move(name), rounds.empty() ? 0 : rounds.front().nodes(), static_cast<int>(rounds.size()),
               std::move(weights)),
      rounds_(std::move(rounds)) {
  if (rounds_.empty()) throw std::invalid_argument("cyclic topology " + this->name() + " has no rounds");
  for (const auto& w : rounds_)
    if (w.nodes() != nodes()) throw std::invalid_argument("cyclic topology " + this->name() + ": rounds differ in size");
}

MixingMatrix CyclicTopology::mixing_matrix_impl(std::int64_t round) const {
  return rounds_[static_cast<std::size_t>(round % static_cast<std::int64_t>(rounds_.size()))];
}

RandomTopology::RandomTopology(std::string name, int n, double r, std::uint64_t seed)
    : Topology(std::move(name), n, 0, "1/|set| over the sampled peers and self"), r_(r), seed_(seed) {
  random_round(n, r, seed, 0);  // validates n and r up front
}

MixingMatrix RandomTopology::mixing_matrix_impl(std::int64_t round) const { return random_round(nodes(), r_, seed_, round); }

MixingMatrix RandomTopology::with_budget(std::int64_t round, double r) const {
  if (round < 0) throw std::invalid_argument("topology " + name() + ": round must be >= 0");
  return random_round(nodes(), r, seed_, round);
}

// ---- factory ---------------------------------------------------------------------------------

namespace {

[[noreturn]] void fail(std::string_view spec, const std::string& problem) {
  throw std::invalid_argument("topology '" + std::string(spec) + "': " + problem);
}

template <class T>
T parse_number(std::string_view spec, std::string_view text, const char* what) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    fail(spec, "'" + std::string(text) + "' is not a valid " + what);
  return value;
}

void require_no_param(std::string_view spec, std::string_view name, bool has_param) {
  if (has_param) fail(spec, std::string(name) + " takes no parameter");
}

void require_default_weights(std::string_view spec, std::string_view name, const TopologyOptions& options,
                             const char* why) {
  if (options.weights)
    fail(spec, std::string(name) + " has its own weights (" + why + "); a weight scheme does not apply");
}

std::unique_ptr<Topology> from_graph(std::string_view spec, const Graph& g, WeightScheme literature_default,
                                     const TopologyOptions& options) {
  const WeightScheme scheme = options.weights.value_or(literature_default);
  try {
    return std::make_unique<StaticTopology>(std::string(spec), mixing_matrix(g, scheme), to_string(scheme));
  } catch (const std::invalid_argument& e) {
    fail(spec, e.what());
  }
}

}  // namespace

std::vector<std::string> topology_names() {
  return {"ring", "torus", "exponential", "one-peer-exponential", "hypercube", "complete",
          "star", "erdos-renyi", "random", "base", "file"};
}

std::unique_ptr<Topology> make_topology(std::string_view spec, int n, const TopologyOptions& options) {
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const bool has_param = colon != std::string_view::npos;
  const std::string_view param = has_param ? spec.substr(colon + 1) : std::string_view{};

  if (name == "file") {
    if (param.empty()) fail(spec, "file needs a path, as in file:topologies/petersen.txt");
    TopologyFile file = read_topology_file(std::string(param));
    if (n > 0 && n != file.graph.nodes())
      fail(spec, "the file has " + std::to_string(file.graph.nodes()) + " nodes, but " + std::to_string(n) +
                     " were asked for");
    if (file.weights) {
      require_default_weights(spec, name, options, "the file gives them");
      return std::make_unique<StaticTopology>(std::string(spec), std::move(*file.weights), "from the file");
    }
    if (!file.graph.connected()) fail(spec, "the graph in the file is not connected");
    return from_graph(spec, file.graph, WeightScheme::metropolis, options);
  }

  if (n < 1) fail(spec, "needs at least 1 node, got " + std::to_string(n));
  try {
    if (name == "ring") {
      require_no_param(spec, name, has_param);
      return from_graph(spec, ring_graph(n), WeightScheme::uniform, options);
    }
    if (name == "torus") {
      auto [rows, cols] = torus_shape(n);
      if (has_param) {
        const auto x = param.find('x');
        if (x == std::string_view::npos) fail(spec, "torus shape must be ROWSxCOLS, as in torus:4x8");
        rows = parse_number<int>(spec, param.substr(0, x), "row count");
        cols = parse_number<int>(spec, param.substr(x + 1), "column count");
        if (rows < 1 || cols < 1) fail(spec, "torus rows and columns must be >= 1");
        if (static_cast<long>(rows) * cols != n)
          fail(spec, "a " + std::to_string(rows) + "x" + std::to_string(cols) + " torus has " +
                         std::to_string(static_cast<long>(rows) * cols) + " nodes, not " + std::to_string(n));
      }
      return from_graph(spec, torus_graph(rows, cols), WeightScheme::uniform, options);
    }
    if (name == "exponential") {
      require_no_param(spec, name, has_param);
      return from_graph(spec, exponential_graph(n), WeightScheme::uniform, options);
    }
    if (name == "hypercube") {
      require_no_param(spec, name, has_param);
      return from_graph(spec, hypercube_graph(n), WeightScheme::uniform, options);
    }
    if (name == "complete") {
      require_no_param(spec, name, has_param);
      return from_graph(spec, complete_graph(n), WeightScheme::uniform, options);
    }
    if (name == "star") {
      require_no_param(spec, name, has_param);
      return from_graph(spec, star_graph(n), WeightScheme::metropolis, options);
    }
    if (name == "erdos-renyi") {
      const double p = has_param ? parse_number<double>(spec, param, "edge probability")
                                 : std::min(1.0, n > 1 ? 2.0 * std::log(static_cast<double>(n)) / n : 1.0);
      return from_graph(spec, erdos_renyi_graph(n, p, options.seed), WeightScheme::metropolis, options);
    }
    if (name == "one-peer-exponential") {
      require_no_param(spec, name, has_param);
      require_default_weights(spec, name, options, "1/2 per round");
      return std::make_unique<CyclicTopology>(std::string(spec), one_peer_exponential_rounds(n), "1/2 per round");
    }
    if (name == "base") {
      const int k = has_param ? parse_number<int>(spec, param, "peer count k") : 1;
      require_default_weights(spec, name, options, "chosen for exact averaging");
      return std::make_unique<CyclicTopology>(std::string(spec), base_rounds(n, k), "Base-(k+1) exact averaging");
    }
    if (name == "random") {
      const double r = has_param ? parse_number<double>(spec, param, "budget r") : 1.0;
      require_default_weights(spec, name, options, "1/|set| over the sampled peers and self");
      return std::make_unique<RandomTopology>(std::string(spec), n, r, options.seed);
    }
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    if (what.rfind("topology '", 0) == 0) throw;
    fail(spec, what);
  }
  std::string allowed;
  for (const auto& t : topology_names()) allowed += (allowed.empty() ? "" : ", ") + t;
  fail(spec, "unknown topology name '" + std::string(name) + "' (allowed: " + allowed + ")");
}

}  // namespace decent
