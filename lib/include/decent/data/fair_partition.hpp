#pragma once
/// @file The fairness splits of Hamman and Dutta (ICLR 2024, utils.py split_client_data), keyed on the cell (Z, Y) of a
/// sample: Z its sensitive attribute (Dataset::groups), Y = 1[label == positive]. The paper has 2 clients; here the
/// nodes form two teams, A = the even node ids and B = the odd ones, and the paper's client 0 / client 1 become
/// team A / team B (with 2 nodes exactly the paper's split). Inside a team (or among all nodes for fair-iid) the
/// samples of each cell, in a seeded shuffle, are dealt round-robin over the nodes, the deal continuing from cell
/// to cell, so the nodes' sizes differ by at most one and so do their counts of every cell:
///   fair-iid               all nodes form one team (nodes >= 1): every node has the cell proportions of the data.
///   fair-heterogeneity:P   a Z = 1 sample goes to team A with probability P / 100, a Z = 0 sample with probability
///                          1 - P / 100, else to team B (P = 92: team A gets 92% of Z = 1 and 8% of Z = 0).
///   fair-synergy           team A gets the cells (Z, Y) = (0, 0) and (1, 1), team B (0, 1) and (1, 0); then each
///                          sample independently moves to the other team with probability 0.01 (the paper's 1% swap).
/// Pure functions of their arguments, seeded through derive_seed; each node's indices are sorted ascending.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "decent/data/dataset.hpp"
#include "decent/data/partition.hpp"

namespace decent {

/// The split `spec` (fair-iid, fair-heterogeneity:P with P in (0, 100), fair-synergy) of train over `nodes` nodes;
/// disjoint and covering. Throws input_error naming partition for a bad spec, too few nodes (2 for the teams),
/// missing groups or labels, positive outside [0, classes), or a node left without samples.
Partition partition_fair(const Dataset& train, std::string_view spec, int nodes, int positive, std::uint64_t seed);

/// The specs partition_fair accepts, for messages: fair-iid, fair-heterogeneity:P, fair-synergy.
std::vector<std::string> fair_partition_names();

}  // namespace decent
