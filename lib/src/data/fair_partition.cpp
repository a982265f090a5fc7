#include "decent/data/fair_partition.hpp"

#include "core/text_lines.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "decent/core/error.hpp"
#include "decent/core/random.hpp"

namespace decent {
namespace {

using detail::shown;

// Stream tags, after partition.cpp's 0..3 and dirichlet_split.cpp's 4..5 so one run seed can drive every split:
// the fair-iid shuffle of cell c is {6, c}, sample k's team draw {7, k}, the shuffle of cell c in team t {8, t, c}.
enum : std::uint64_t { tag_iid_shuffle = 6, tag_team_draw = 7, tag_team_shuffle = 8 };

// The paper swaps 1% of the samples between its two clients after the synergy split.
constexpr double synergy_swap = 0.01;

constexpr int cells = 4;  // cell 2 Z + Y

enum class Kind { iid, heterogeneity, synergy };

struct FairSpec {
  Kind kind = Kind::iid;
  double share = 0;  // fair-heterogeneity: P / 100
};

constexpr std::string_view heterogeneity_prefix = "fair-heterogeneity:";

std::string allowed() {
  std::string text;
  for (const std::string& name : fair_partition_names()) text += (text.empty() ? "" : ", ") + name;
  return text;
}

FairSpec parse_spec(std::string_view spec) {
  if (spec == "fair-iid") return {Kind::iid, 0};
  if (spec == "fair-synergy") return {Kind::synergy, 0};
  if (spec == "fair-heterogeneity" || spec.starts_with(heterogeneity_prefix)) {
    const std::string_view text = spec.substr(std::min(spec.size(), heterogeneity_prefix.size()));
    double percent = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, percent);
    if (text.empty() || ec != std::errc{} || ptr != end || !(percent > 0 && percent < 100))
      throw input_error("partition: '" + shown(spec) + "': P must be a percentage in (0, 100), got '" + shown(text) +
                        "' (e.g. fair-heterogeneity:92: team A gets 92% of Z = 1 and 8% of Z = 0)");
    return {Kind::heterogeneity, percent / 100};
  }
  throw input_error("partition: '" + shown(spec) + "' is not a fairness split (allowed: " + allowed() + ")");
}

template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t k = v.size(); k > 1; --k) std::swap(v[k - 1], v[rng.below(k)]);
}

/// Deals each cell's members, in a seeded shuffle, round-robin over the nodes `team`; the deal goes on from cell to
/// cell, so the team's nodes differ by at most one in size and in every cell's count.
void deal(std::array<std::vector<Eigen::Index>, cells>& members, const std::vector<int>& team, std::uint64_t seed,
          bool iid, std::uint64_t team_index, Partition& parts) {
  std::size_t next = 0;
  for (int c = 0; c < cells; ++c) {
    auto& cell = members[static_cast<std::size_t>(c)];
    const auto cell_index = static_cast<std::uint64_t>(c);
    Rng rng(iid ? derive_seed(seed, {tag_iid_shuffle, cell_index})
                : derive_seed(seed, {tag_team_shuffle, team_index, cell_index}));
    shuffle(cell, rng);
    for (Eigen::Index k : cell) {
      parts[static_cast<std::size_t>(team[next])].push_back(k);
      next = (next + 1) % team.size();
    }
  }
}

}  // namespace

Partition partition_fair(const Dataset& train, std::string_view spec, int nodes, int positive, std::uint64_t seed) {
  const FairSpec fair = parse_spec(spec);
  const std::string name = "partition: " + shown(spec) + ": ";
  const int least = fair.kind == Kind::iid ? 1 : 2;
  if (nodes < least)
    throw input_error(name + "needs nodes >= " + std::to_string(least) +
                      (least == 2 ? " (two teams: the even and the odd node ids)" : "") + ", got nodes = " +
                      std::to_string(nodes));
  const Eigen::Index n = train.size();
  if (train.groups.empty() && n > 0)
    throw input_error(name + "needs a sensitive attribute: give group-file or sensitive, or dataset = synthetic-fair");
  if (!train.classification())
    throw input_error(name + "needs class labels (Y = 1[label == positive]), but data set '" + train.name +
                      "' has none (regression)");
  if (positive < 0 || positive >= train.classes)
    throw input_error(name + "the positive class " + std::to_string(positive) + " is outside [0, classes = " +
                      std::to_string(train.classes) + ")");
  if (static_cast<Eigen::Index>(train.groups.size()) != n || static_cast<Eigen::Index>(train.labels.size()) != n)
    throw std::invalid_argument("partition_fair: data set '" + train.name + "' has " +
                                std::to_string(train.groups.size()) + " sensitive attributes and " +
                                std::to_string(train.labels.size()) + " labels for " + std::to_string(n) + " samples");

  // members[team][cell]: the samples of each cell that go to each team (team 1 is unused by fair-iid).
  std::array<std::array<std::vector<Eigen::Index>, cells>, 2> members;
  for (Eigen::Index k = 0; k < n; ++k) {
    const int z = train.groups[static_cast<std::size_t>(k)];
    if (z != 0 && z != 1)
      throw std::invalid_argument("partition_fair: groups[" + std::to_string(k) + "] = " + std::to_string(z) +
                                  " is not 0 or 1");
    const int y = train.labels[static_cast<std::size_t>(k)] == positive ? 1 : 0;
    int team = 0;
    if (fair.kind != Kind::iid) {
      // One draw per sample: its team does not depend on the other samples.
      Rng rng(derive_seed(seed, {tag_team_draw, static_cast<std::uint64_t>(k)}));
      const double u = rng.uniform();
      if (fair.kind == Kind::heterogeneity)
        team = u < (z == 1 ? fair.share : 1 - fair.share) ? 0 : 1;
      else
        team = (z == y ? 0 : 1) ^ (u < synergy_swap ? 1 : 0);
    }
    members[static_cast<std::size_t>(team)][static_cast<std::size_t>(2 * z + y)].push_back(k);
  }

  Partition parts(static_cast<std::size_t>(nodes));
  if (fair.kind == Kind::iid) {
    std::vector<int> all(static_cast<std::size_t>(nodes));
    for (int i = 0; i < nodes; ++i) all[static_cast<std::size_t>(i)] = i;
    deal(members[0], all, seed, true, 0, parts);
  } else {
    for (int t = 0; t < 2; ++t) {
      std::vector<int> team;
      for (int i = t; i < nodes; i += 2) team.push_back(i);
      deal(members[static_cast<std::size_t>(t)], team, seed, false, static_cast<std::uint64_t>(t), parts);
    }
  }

  for (int i = 0; i < nodes; ++i) {
    auto& part = parts[static_cast<std::size_t>(i)];
    if (part.empty()) {
      std::string teams;
      if (fair.kind != Kind::iid) {
        std::size_t held[2] = {0, 0};
        for (int t = 0; t < 2; ++t)
          for (const auto& cell : members[static_cast<std::size_t>(t)]) held[t] += cell.size();
        teams = ", team A (even ids) " + std::to_string(held[0]) + " and team B (odd ids) " + std::to_string(held[1]);
      }
      throw input_error(name + "node " + std::to_string(i) + " gets no samples (" + std::to_string(n) +
                        " samples over " + std::to_string(nodes) + " nodes" + teams + "): use fewer nodes");
    }
    std::sort(part.begin(), part.end());
  }
  return parts;
}

std::vector<std::string> fair_partition_names() { return {"fair-iid", "fair-heterogeneity:P", "fair-synergy"}; }

}  // namespace decent
