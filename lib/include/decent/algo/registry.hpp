#pragma once
/// @file The algorithm registry: one entry per training algorithm (its name, a one-line summary, the loop
/// that runs it and the option groups it reads), kept in one explicit table in registry.cpp. Drivers look
/// algorithms up here, list them in --help, and refuse a key whose group the chosen algorithm does not read.
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace decent {

/// The loop that runs an algorithm.
enum class AlgorithmFamily {
  decentralized,  ///< train(): nodes with a topology and a communication schedule (algo/train.hpp)
  federated,      ///< train_federated(): a server and clients on a virtual clock (algo/federated.hpp)
  zeroth_order    ///< train_zo(): one shared model, scalars on the wire (algo/zo.hpp)
};
/// "decentralized", "federated" or "zeroth-order".
std::string to_string(AlgorithmFamily family);

/// Option groups every algorithm reads (docs/config.md lists their keys): run, data, model, optimizer.
std::span<const std::string_view> common_option_groups();

/// One registered algorithm.
struct AlgorithmEntry {
  std::string_view name;     ///< the config name, e.g. "fedbuff"
  std::string_view summary;  ///< one line for --help
  AlgorithmFamily family;
  /// The option groups it reads besides the common ones: sgd, graph, period, schedule, probes,
  /// checkpoints, compression, choco, zo, federated, participation, fedbuff, fedfix. A key of any other group is refused.
  std::vector<std::string_view> groups;

  /// True if the algorithm reads option group `group` (a common one, or one of `groups`).
  bool reads(std::string_view group) const;
};

/// Every registered algorithm, in the order --help lists them.
std::span<const AlgorithmEntry> algorithms();
/// The entry called `name`; decent::input_error naming the allowed names if there is none.
const AlgorithmEntry& find_algorithm(std::string_view name);
/// The names of the algorithms that read `group`, as "a, b or c" (for error messages).
std::string algorithms_reading(std::string_view group);

}  // namespace decent
