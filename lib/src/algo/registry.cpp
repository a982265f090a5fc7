#include "decent/algo/registry.hpp"

#include <algorithm>
#include <array>

#include "decent/core/error.hpp"

namespace decent {

namespace {

constexpr std::array<std::string_view, 4> common_groups = {"run", "data", "model", "optimizer"};

using F = AlgorithmFamily;

/// The registry: one line per algorithm. A new algorithm is a new source file and one line here.
const std::vector<AlgorithmEntry>& table() {
  static const std::vector<AlgorithmEntry> entries = {
      {"dsgd", "D-SGD, adapt then combine: x_i <- sum_j W_ij (x_j - lr g_j) on the schedule's gossip steps",
       F::decentralized, {"sgd", "graph", "period", "schedule", "probes", "checkpoints", "curriculum"}},
      {"dpsgd", "D-PSGD order: x_i <- sum_j W_ij x_j - lr g_i (gradients at the pre-gossip models)",
       F::decentralized, {"sgd", "graph", "period", "schedule", "probes", "checkpoints", "curriculum"}},
      {"server", "server-based SGD: gradients all-reduced every step, optionally compressed with error feedback",
       F::decentralized, {"sgd", "probes", "checkpoints", "compression", "curriculum"}},
      {"local-sgd", "local SGD: local steps, an exact average every gossip-every steps and after the last",
       F::decentralized, {"sgd", "period", "probes", "checkpoints", "curriculum"}},
      {"choco", "CHOCO-SGD: local steps, then compressed gossip of public copies on the schedule",
       F::decentralized, {"sgd", "graph", "period", "schedule", "probes", "checkpoints", "compression", "choco", "curriculum"}},
      {"fedavg", "synchronous FedAvg: every (or a sample of m) client's job, averaged with weights 1/n (1/returned)",
       F::federated, {"sgd", "federated", "participation", "curriculum", "fairness", "checkpoints"}},
      {"async-fedavg", "asynchronous FedAvg: every return applied alone, weighted by the client's duration",
       F::federated, {"sgd", "federated", "curriculum", "fairness", "checkpoints"}},
      {"fedbuff", "FedBuff: the first buffer-size returns applied together", F::federated,
       {"sgd", "federated", "fedbuff", "curriculum", "fairness", "checkpoints"}},
      {"fedfix", "FedFix: every client returned by the end of a window of fedfix-dt applied together",
       F::federated, {"sgd", "federated", "fedfix", "curriculum", "fairness", "checkpoints"}},
      {"zo-shared-seed", "shared-seed zeroth order: one model, one projected-gradient scalar per sample on the wire",
       F::zeroth_order, {"zo"}},
  };
  return entries;
}

}  // namespace

std::string to_string(AlgorithmFamily family) {
  switch (family) {
    case F::decentralized: return "decentralized";
    case F::federated: return "federated";
    case F::zeroth_order: return "zeroth-order";
  }
  return "?";
}

std::span<const std::string_view> common_option_groups() { return common_groups; }

bool AlgorithmEntry::reads(std::string_view group) const {
  return std::find(common_groups.begin(), common_groups.end(), group) != common_groups.end() ||
         std::find(groups.begin(), groups.end(), group) != groups.end();
}

std::span<const AlgorithmEntry> algorithms() { return table(); }

namespace {

std::string listed(const std::vector<std::string_view>& names, const char* last) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? last : ", ") + std::string(names[i]);
  return out;
}

}  // namespace

const AlgorithmEntry& find_algorithm(std::string_view name) {
  std::vector<std::string_view> names;
  for (const AlgorithmEntry& e : table()) {
    if (e.name == name) return e;
    names.push_back(e.name);
  }
  throw input_error("algorithm: '" + std::string(name) + "' is not allowed (allowed: " + listed(names, ", ") + ")");
}

std::string algorithms_reading(std::string_view group) {
  std::vector<std::string_view> names;
  for (const AlgorithmEntry& e : table())
    if (e.reads(group)) names.push_back(e.name);
  return listed(names, " or ");
}

}  // namespace decent
