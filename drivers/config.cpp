#include "config.hpp"

#include <boost/program_options.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "decent/algo/client_selection.hpp"
#include "decent/algo/registry.hpp"
#include "decent/compress/compressor.hpp"
#include "decent/data/curriculum.hpp"
#include "decent/model/spec.hpp"
#include "program_options_error.hpp"
#include "seed_option.hpp"

namespace po = boost::program_options;

namespace decent::driver {
namespace {

template <class T>
std::vector<T> parse_list(const std::string& key, const std::string& text) {
  std::vector<T> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::stringstream parse(item);
    T value{};
    if (!(parse >> value) || !(parse >> std::ws).eof())
      throw config_error(key + ": '" + item + "' in '" + text + "' is not a number (expected a comma list like 256,128)");
    out.push_back(value);
  }
  return out;
}

void one_of(const std::string& key, const std::string& value, std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw config_error(key + ": '" + value + "' is not allowed (allowed: " + list + ")");
}

template <class T>
void at_least(const std::string& key, T value, T minimum) {
  if (value < minimum) {
    std::ostringstream msg;
    msg << key << ": " << value << " is below the minimum " << minimum;
    throw config_error(msg.str());
  }
}

void in_range(const std::string& key, double value, double low, double high, const char* description) {
  if (!(value >= low && value <= high)) {
    std::ostringstream msg;
    msg << key << ": " << value << " is outside " << description;
    throw config_error(msg.str());
  }
}

void check_compression(const TrainConfig& c) {
  try {
    check_compressor_spec(c.compressor);
  } catch (const std::invalid_argument& e) {
    throw config_error(std::string("compressor: ") + e.what());
  }
  one_of("error-feedback", c.error_feedback, {"none", "ef", "ef21", "ef21-sgdm", "econtrol"});
  if (!(c.econtrol_eta >= 0 && c.econtrol_eta < 1e30))
    throw config_error("econtrol-eta: must be a finite number >= 0, got " + std::to_string(c.econtrol_eta));
  in_range("ef21-sgdm-eta", c.ef21_sgdm_eta, 1e-12, 1, "(0, 1]");
  in_range("choco-gamma", c.choco_gamma, 1e-12, 1, "(0, 1]");
  at_least("compress-warmup", c.compress_warmup, std::int64_t{0});
  at_least("checkpoint-every", c.checkpoint_every, std::int64_t{0});
  if (!(c.write_budget >= 0 && c.write_budget < 1e9))
    throw config_error("write-budget: must be a number in [0, 1e9), got " + std::to_string(c.write_budget));
  const bool server = c.algorithm == "server", choco = c.algorithm == "choco";
  if (c.compressor != "none" && !server && !choco)
    throw config_error("compressor: " + c.compressor + " needs algorithm = server (compressed gradients, with "
                       "error-feedback) or choco (compressed gossip), but algorithm = " + c.algorithm);
  if (c.error_feedback != "none" && !server)
    throw config_error("error-feedback: " + c.error_feedback + " applies to algorithm = server, but algorithm = " +
                       c.algorithm + (choco ? " (CHOCO keeps its own memory, the public copies)" : ""));
}

/// algorithm = fedavg | async-fedavg | fedbuff | fedfix (docs/federated.md).
void check_federated(const TrainConfig& c) {
  at_least("local-steps", c.local_steps, std::int64_t{1});
  check_server_optimizer(server_optimizer_options(c), c.server_lr);
  in_range("speed-spread", c.speed_spread, 0, 99.999999, "[0, 100) (percent by which the fastest client is faster)");
  if (c.buffer_size > c.nodes)
    throw config_error("buffer-size: " + std::to_string(c.buffer_size) + " is more than the " + std::to_string(c.nodes) +
                       " clients (nodes)");
  if (!(c.fedfix_dt > 0 && std::isfinite(c.fedfix_dt)))
    throw config_error("fedfix-dt: must be a finite number > 0, got " + std::to_string(c.fedfix_dt));
  if (!(c.virtual_time >= 0 && std::isfinite(c.virtual_time)))
    throw config_error("virtual-time: must be a finite number >= 0, got " + std::to_string(c.virtual_time));
  if (c.clients_per_round < 0 || c.clients_per_round > c.nodes)
    throw config_error("clients-per-round: " + std::to_string(c.clients_per_round) + " is outside [1, " +
                       std::to_string(c.nodes) + "] (the clients are the nodes; 0 = all)");
  in_range("dropout", c.dropout, 0, 0.999999999, "[0, 1)");
  ClientSelection selection;
  try {
    selection = parse_client_selection(c.client_selection);
  } catch (const std::invalid_argument& e) {
    throw config_error(std::string("client-selection: ") + e.what());
  }
  // Only fedavg reads the participation group; for the others the key is refused below, naming the algorithm.
  if (selection_reads_losses(selection) && c.algorithm == "fedavg") {
    if (c.clients_per_round < 1)
      throw config_error("client-selection: " + c.client_selection + " chooses clients-per-round clients per round; "
                         "give clients-per-round (1 to " + std::to_string(c.nodes) + ")");
    if (selection.rule == SelectionRule::power_of_choice &&
        (selection.candidates < c.clients_per_round || selection.candidates > c.nodes))
      throw config_error("client-selection: power-of-choice:" + std::to_string(selection.candidates) +
                         " needs D candidates in [clients-per-round, nodes] = [" +
                         std::to_string(c.clients_per_round) + ", " + std::to_string(c.nodes) + "]");
    if (c.virtual_time > 0)
      throw config_error("virtual-time: cannot be planned with client-selection = " + c.client_selection +
                         " (a round lasts as long as the slowest client the losses select); give steps instead");
  }
  one_of("client-curriculum", c.client_curriculum, {"curr", "anti", "rand"});
  try {
    parse_pacing(c.client_pacing);
  } catch (const std::invalid_argument& e) {
    throw config_error(std::string("client-pacing: ") + e.what());
  }
  if (!(c.client_pacing_a > 0) || std::isnan(c.client_pacing_a))
    throw config_error("client-pacing-a: must be > 0, got " + std::to_string(c.client_pacing_a));
  in_range("client-pacing-b", c.client_pacing_b, 0, 1, "[0, 1]");
  if (!(c.deadline >= 0 && std::isfinite(c.deadline)))
    throw config_error("deadline: must be a finite number >= 0 (0 = none), got " + std::to_string(c.deadline));
  one_of("curriculum", c.curriculum, {"none", "curr", "anti", "rand"});
  one_of("curriculum-score", c.curriculum_score, {"global", "local", "both", "expert"});
  one_of("curriculum-metric", c.curriculum_metric, {"loss", "error"});
  try {
    parse_pacing(c.pacing);
  } catch (const std::invalid_argument& e) {
    throw config_error(std::string("pacing: ") + e.what());
  }
  if (!(c.pacing_a > 0) || std::isnan(c.pacing_a))
    throw config_error("pacing-a: must be > 0 (inf: the pool stays at pacing-b), got " + std::to_string(c.pacing_a));
  in_range("pacing-b", c.pacing_b, 0, 1, "[0, 1]");
  if (!c.client_times.empty() && static_cast<int>(c.client_times.size()) != c.nodes)
    throw config_error("client-times: " + std::to_string(c.client_times.size()) + " durations for " +
                       std::to_string(c.nodes) + " nodes (give one per node)");
  for (double t : c.client_times)
    if (!(t > 0 && std::isfinite(t)))
      throw config_error("client-times: every duration must be a finite number > 0, got " + std::to_string(t));
}

void validate(const TrainConfig& c) {
  at_least("nodes", c.nodes, 1);
  at_least("steps", c.steps, std::int64_t{1});
  at_least("eval-every", c.eval_every, 1);
  at_least("eval-samples", c.eval_samples, 1);
  one_of("progress", c.progress, {"auto", "bar", "log", "off"});
  at_least("landscape-every", c.landscape_every, std::int64_t{-1});
  at_least("interp-points", c.interp_points, 0);
  at_least("landscape-grid", c.landscape_grid, 0);
  if (!(c.landscape_extent > 0 && std::isfinite(c.landscape_extent)))
    throw config_error("landscape-extent: must be finite and > 0");
  at_least("probe-samples", c.probe_samples, 1);
  if (c.plane != "pca" && c.plane.rfind("nodes:", 0) != 0)
    throw config_error("plane: '" + c.plane + "' is not allowed (allowed: pca, nodes:I,J,K)");
  one_of("dataset", c.dataset, {"auto", "fashion-mnist", "libsvm", "synthetic", "synthetic-fair"});
  if (c.dataset == "libsvm" && c.train_file.empty()) throw config_error("train-file: required with dataset = libsvm");
  if (c.partition.rfind("fair-", 0) != 0)  // fair-iid, fair-heterogeneity:P, fair-synergy: checked with the data
    one_of("partition", c.partition, {"iid", "dirichlet", "dirichlet-split", "dirichlet-mix", "shards", "fair-iid",
                                      "fair-heterogeneity:P", "fair-synergy", "difficulty:inc", "difficulty:dec",
                                      "difficulty:rand"});
  at_least("expert-epochs", c.expert_epochs, std::int64_t{1});
  at_least("expert-batch", c.expert_batch, 1);
  if (!(c.expert_lr > 0 && std::isfinite(c.expert_lr)))
    throw config_error("expert-lr: must be a finite number > 0, got " + std::to_string(c.expert_lr));
  if (!c.group_file.empty() && !c.sensitive.empty())
    throw config_error("group-file and sensitive both give the sensitive attribute; give one of them");
  in_range("sensitive-correlation", c.sensitive_correlation, 0, 1, "[0, 1]");
  at_least("positive-class", c.positive_class, 0);
  if (!(c.alpha > 0)) throw config_error("alpha: must be > 0, got " + std::to_string(c.alpha));
  at_least("per-node", c.per_node, std::int64_t{0});
  at_least("split-min-size", c.split_min_size, std::int64_t{0});
  at_least("shards-per-node", c.shards_per_node, 1);
  one_of("sampling", c.sampling, {"shuffled", "with-replacement"});
  at_least("synthetic-classes", c.synthetic_classes, 2);
  at_least("synthetic-dim", c.synthetic_dim, 1);
  at_least("synthetic-samples", c.synthetic_samples, std::int64_t{2});
  one_of("model", c.model, {"softmax", "linear", "mlp", "layers", "lenet5", "cnn-small", "resnet8-gn"});
  if (c.model == "layers" && c.layers.empty())
    throw config_error("layers: model = layers needs a layer spec, e.g. layers = \"conv(16,5) relu maxpool(2) flatten "
                       "dense(10)\" (docs/models.md)");
  if (c.model != "layers" && !c.layers.empty())
    throw config_error("layers: applies to model = layers only, but model = " + c.model);
  if (!c.input_shape.empty()) {
    try {
      parse_tensor_shape(c.input_shape);
    } catch (const std::invalid_argument& e) {
      throw config_error(e.what());
    }
  }
  for (int h : c.hidden)
    if (h < 1) throw config_error("hidden: layer widths must be >= 1, got " + std::to_string(h));
  in_range("label-smoothing", c.label_smoothing, 0, 0.999, "[0, 1)");
  (void)find_algorithm(c.algorithm);  // input_error listing the registered names
  at_least("gossip-every", c.gossip_every, std::int64_t{1});
  at_least("rounds", c.rounds, 0);
  if (c.r < 0) throw config_error("r: must be >= 0, got " + std::to_string(c.r));
  if (!c.budget_profile.empty())
    one_of("budget-profile", c.budget_profile,
           {"fixed", "linear", "cosine", "slow-decrease", "slow-grow", "late-switch", "dense-window"});
  one_of("budget-target", c.budget_target, {"budget", "rounds"});
  in_range("budget-point", c.budget_point, 0, 1, "[0, 1]");
  in_range("budget-window", c.budget_window, 1e-12, 1, "(0, 1]");
  at_least("merge-every", c.merge_every, std::int64_t{0});
  at_least("post-merge-rounds", c.post_merge_rounds, 0);
  check_compression(c);
  if (!(c.zo_eps < 1e30 && static_cast<float>(c.zo_eps) > 0)) {  // eps is used as a float
    std::ostringstream msg;
    msg << "zo-eps: must be a finite number > 0 (as a float), got " << c.zo_eps;
    throw config_error(msg.str());
  }
  one_of("zo-scalar", c.zo_scalar, {"float", "byte"});
  check_federated(c);
  at_least("zo-verify-every", c.zo_verify_every, std::int64_t{0});
  if (!(c.lr > 0)) throw config_error("lr: must be > 0, got " + std::to_string(c.lr));
  one_of("lr-schedule", c.lr_schedule, {"constant", "step", "cosine", "constant-then-zero"});
  at_least("lr-warmup-steps", c.warmup_steps, std::int64_t{0});
  in_range("lr-warmup-start-factor", c.warmup_start_factor, 0, 1, "[0, 1]");
  in_range("momentum", c.momentum, 0, 0.999999, "[0, 1)");
  if (c.nesterov && c.momentum == 0) throw config_error("nesterov: needs momentum > 0");
  at_least("weight-decay", c.weight_decay, 0.0);
  at_least("clip-value", c.clip_value, 0.0);
  at_least("clip-norm", c.clip_norm, 0.0);
  at_least("batch", c.batch, 1);
  if (c.out.empty()) throw config_error("out: must name the HDF5 file to write");
}

/// decent-train's option groups, by name (decent/algo/registry.hpp), in --help order.
using Groups = std::vector<std::pair<std::string, std::unique_ptr<po::options_description>>>;

/// The group that holds `key`, or "" if none does.
std::string group_of(const Groups& groups, const std::string& key) {
  for (const auto& [name, group] : groups)
    if (group->find_nothrow(key, false)) return name;
  return "";
}

/// The keys of one group, as "a, b, c".
std::string keys_of(const po::options_description& group) {
  std::string keys;
  for (const auto& option : group.options()) keys += (keys.empty() ? "" : ", ") + option->long_name();
  return keys;
}

/// A help request: nothing if argv has no --help (-h); else the algorithm it asks about (given as
/// algorithm=NAME, --algorithm NAME or --algorithm=NAME), or "" for the general help.
std::optional<std::string> help_request(int argc, const char* const* argv) {
  bool help = false;
  std::string algorithm;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--help" || word == "-h") help = true;
    else if (word.rfind("algorithm=", 0) == 0) algorithm = word.substr(10);
    else if (word.rfind("--algorithm=", 0) == 0) algorithm = word.substr(12);
    else if (word == "--algorithm" && i + 1 < argc) algorithm = argv[++i];
  }
  if (!help) return std::nullopt;
  return algorithm;
}

/// decent-train --help (algorithm = "") or --help algorithm=NAME.
std::string help_text(const Groups& groups, const std::string& algorithm) {
  std::ostringstream text;
  const auto common = common_option_groups();
  const auto is_common = [&](const std::string& name) {
    return std::find(common.begin(), common.end(), name) != common.end();
  };
  if (!algorithm.empty()) {
    const AlgorithmEntry& entry = find_algorithm(algorithm);
    text << "decent-train algorithm = " << entry.name << " (" << to_string(entry.family) << "): " << entry.summary
         << "\n\nBesides the common groups (decent-train --help), it reads:\n\n";
    for (const auto& [name, group] : groups)
      if (!is_common(name) && entry.reads(name)) text << *group << "\n";
    text << "Any other key is refused with algorithm = " << entry.name << ". Reference: docs/config.md\n";
    return text.str();
  }
  text << "decent-train: decentralized and federated training on MPI ranks, recorded to HDF5\n\n"
          "Usage: mpiexec -n P decent-train [--config FILE] [--KEY VALUE ...]\n"
          "Every key can also be given in the INI file as KEY = VALUE, at the top or in the section of its\n"
          "group ([fedbuff] then buffer-size = 5); the command line wins. Reference: docs/config.md\n\n"
          "Common keys (every algorithm reads them):\n\n";
  for (const auto& [name, group] : groups)
    if (is_common(name)) text << *group << "\n";
  text << "Algorithms (algorithm = NAME; decent-train --help algorithm=NAME lists the keys it reads):\n";
  std::size_t width = 0;
  for (const AlgorithmEntry& e : algorithms()) width = std::max(width, e.name.size());
  for (const AlgorithmEntry& e : algorithms())
    text << "  " << e.name << std::string(width + 2 - e.name.size(), ' ') << e.summary << "\n";
  text << "\nThe algorithms' own groups:\n";
  for (const auto& [name, group] : groups)
    if (!is_common(name)) text << "  [" << name << "] " << keys_of(*group) << "\n";
  return text.str();
}

/// The INI text of `in` with every section of a known group or algorithm ([fedbuff], [schedule]) removed,
/// its keys kept flat, after checking each belongs there. Unknown sections are refused, naming the line.
std::string flatten_sections(std::istream& in, const std::string& path, const Groups& groups) {
  std::ostringstream out;
  std::string section;  // "" at the top
  std::vector<std::string> allowed;  // the groups whose keys the section may hold
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const auto first = line.find_first_not_of(" \t\r");
    const auto last = line.find_last_not_of(" \t\r");
    const std::string where = "config: '" + path + "' line " + std::to_string(number) + ": ";
    if (first != std::string::npos && line[first] == '[' && line[last] == ']') {
      section = line.substr(first + 1, last - first - 1);
      allowed.clear();
      if (section.empty()) throw config_error(where + "empty section name []");
      for (const auto& [name, group] : groups)
        if (name == section) allowed.push_back(name);
      if (allowed.empty()) {
        for (const AlgorithmEntry& e : algorithms())
          if (e.name == section)
            for (const std::string_view g : e.groups) allowed.emplace_back(g);
      }
      if (allowed.empty()) {
        std::string names;
        for (const auto& [name, group] : groups) names += (names.empty() ? "" : ", ") + name;
        throw config_error(where + "unknown section [" + section + "] (a section is an option group: " + names +
                           "; or an algorithm's name)");
      }
      out << "\n";  // keeps the line count
      continue;
    }
    if (!section.empty() && first != std::string::npos && line[first] != '#' && line[first] != ';') {
      const auto eq = line.find('=');
      const std::string key = line.substr(first, (eq == std::string::npos ? line.size() : eq) - first);
      const std::string trimmed = key.substr(0, key.find_last_not_of(" \t") + 1);
      const std::string group = group_of(groups, trimmed);
      if (eq != std::string::npos && std::find(allowed.begin(), allowed.end(), group) == allowed.end())
        throw config_error(where + "'" + detail::quotable(trimmed) + "' is not a key of section [" + section + "]" +
                           (group.empty() ? std::string() : " (it belongs to [" + group + "])"));
    }
    out << line << "\n";
  }
  return out.str();
}

}  // namespace

bool needs_expert(const TrainConfig& c) {
  return c.partition.rfind("difficulty:", 0) == 0 ||
         ((c.curriculum == "curr" || c.curriculum == "anti") && c.curriculum_score == "expert");
}

ServerOptimizerOptions server_optimizer_options(const TrainConfig& c) {
  ServerOptimizerOptions o;
  o.kind = parse_server_optimizer(c.server_optimizer);
  o.schedule = parse_server_lr_schedule(c.server_lr_schedule);
  o.momentum = c.server_momentum;
  o.dampening = c.server_dampening;
  o.beta1 = c.server_betas.at(0);
  o.beta2 = c.server_betas.at(1);
  o.eps = c.server_eps;
  o.weight_decay = c.server_weight_decay;
  return o;
}

std::optional<TrainConfig> parse_train_config(int argc, const char* const* argv, std::string* help_out) {
  TrainConfig c;
  std::string hidden = "128", milestones, r_end, seed = "1", client_times, server_betas = "0.9,0.999";
  // The keys, in option groups (decent/algo/registry.hpp): an algorithm reads the common groups and its own.
  Groups groups;
  const auto add_group = [&](const char* name, const char* title) -> po::options_description& {
    groups.emplace_back(name, std::make_unique<po::options_description>(std::string(title) + " [" + name + "]"));
    return *groups.back().second;
  };
  add_group("run", "Run").add_options()
    ("help,h", "print this help and exit; --help algorithm=NAME: the keys algorithm NAME reads")
    ("list-algorithms", "print one line per algorithm, NAME FAMILY GROUP..., and exit")
    ("config", po::value(&c.config_file), "INI file with the same keys")
    ("nodes", po::value(&c.nodes)->default_value(c.nodes), "number of nodes (>= MPI ranks)")
    ("steps", po::value(&c.steps)->default_value(c.steps), "local steps per node")
    ("seed", po::value(&seed)->default_value(seed), "seed of everything random, 0 to 2^63 - 1")
    ("out", po::value(&c.out)->default_value(c.out), "HDF5 file to write")
    ("write-budget", po::value(&c.write_budget)->default_value(c.write_budget, "30"),
     "OUT is written whole at an eval only once this many times the last write's duration has passed "
     "(writes stay below about 1/B of the run); 0: at every eval")
    ("eval-every", po::value(&c.eval_every)->default_value(c.eval_every), "evaluate every K steps (and at the end)")
    ("eval-samples", po::value(&c.eval_samples)->default_value(c.eval_samples), "size of the fixed, seeded test subset")
    ("progress", po::value(&c.progress)->default_value(c.progress), "auto | bar | log | off")
    ("algorithm", po::value(&c.algorithm)->default_value(c.algorithm), "a registered algorithm (listed below)");
  add_group("data", "Data").add_options()
    ("dataset", po::value(&c.dataset)->default_value(c.dataset),
     "auto (fashion-mnist if installed, else synthetic) | fashion-mnist | libsvm | synthetic | synthetic-fair "
     "(2-D Gaussians with a sensitive attribute)")
    ("data-dir", po::value(&c.data_dir)->default_value(c.data_dir), "Fashion-MNIST directory")
    ("train-file", po::value(&c.train_file), "LIBSVM training file")
    ("test-file", po::value(&c.test_file), "LIBSVM test file (default: a held-out 20% of train-file)")
    ("partition", po::value(&c.partition)->default_value(c.partition),
     "iid | dirichlet | dirichlet-split | dirichlet-mix | shards | fair-iid | fair-heterogeneity:P | fair-synergy | "
     "difficulty:inc|dec|rand (equal slices of the training set sorted by the expert's loss)")
    ("alpha", po::value(&c.alpha)->default_value(c.alpha, "0.1"), "Dirichlet concentration (small = more skew)")
    ("per-node", po::value(&c.per_node)->default_value(c.per_node), "dirichlet: samples per node (0 = train size / nodes)")
    ("split-min-size", po::value(&c.split_min_size)->default_value(c.split_min_size),
     "dirichlet-split, dirichlet-mix: redraw the split until every node has at least this many samples")
    ("shards-per-node", po::value(&c.shards_per_node)->default_value(c.shards_per_node), "shards: label-sorted shards per node")
    ("expert-epochs", po::value(&c.expert_epochs)->default_value(c.expert_epochs),
     "the expert (partition = difficulty:*, curriculum-score = expert): epochs of central SGD on the training set")
    ("expert-batch", po::value(&c.expert_batch)->default_value(c.expert_batch), "the expert: samples per step")
    ("expert-lr", po::value(&c.expert_lr)->default_value(c.expert_lr, "0.01"),
     "the expert: constant step size (momentum 0.9, weight decay 5e-4)")
    ("sampling", po::value(&c.sampling)->default_value(c.sampling), "shuffled | with-replacement")
    ("synthetic-classes", po::value(&c.synthetic_classes)->default_value(c.synthetic_classes), "synthetic: classes")
    ("synthetic-dim", po::value(&c.synthetic_dim)->default_value(c.synthetic_dim), "synthetic: features")
    ("synthetic-samples", po::value(&c.synthetic_samples)->default_value(c.synthetic_samples), "synthetic: training samples")
    ("synthetic-separation", po::value(&c.synthetic_separation)->default_value(c.synthetic_separation), "synthetic: class separation")
    ("synthetic-heterogeneity", po::value(&c.synthetic_heterogeneity)->default_value(c.synthetic_heterogeneity),
     "synthetic regression (model = linear): node i's teacher is w* + this * N(0, I/dim); > 0 partitions by node");
  add_group("model", "Model").add_options()
    ("model", po::value(&c.model)->default_value(c.model),
     "softmax | linear | mlp | layers | lenet5 | cnn-small | resnet8-gn (docs/models.md)")
    ("layers", po::value(&c.layers),
     "model = layers: the layer spec, e.g. \"conv(16,5) relu maxpool(2) flatten dense(10)\" (docs/models.md)")
    ("input-shape", po::value(&c.input_shape),
     "one sample's shape CxHxW or N (default: the data set's, 1x28x28 for Fashion-MNIST, flat otherwise)")
    ("hidden", po::value(&hidden)->default_value(hidden), "mlp hidden widths, comma list")
    ("label-smoothing", po::value(&c.label_smoothing)->default_value(c.label_smoothing), "cross-entropy label smoothing");
  add_group("optimizer", "Optimizer").add_options()
    ("lr", po::value(&c.lr)->default_value(c.lr, "0.05"), "learning rate")
    ("lr-schedule", po::value(&c.lr_schedule)->default_value(c.lr_schedule), "constant | step | cosine | constant-then-zero")
    ("lr-warmup-steps", po::value(&c.warmup_steps)->default_value(c.warmup_steps), "linear warm-up steps")
    ("lr-warmup-start-factor", po::value(&c.warmup_start_factor)->default_value(c.warmup_start_factor),
     "warm-up starts at lr times this")
    ("lr-milestones", po::value(&milestones), "step: comma list of steps where lr is multiplied by lr-gamma")
    ("lr-gamma", po::value(&c.lr_gamma)->default_value(c.lr_gamma, "0.1"), "step: factor at each milestone")
    ("lr-min", po::value(&c.lr_min)->default_value(c.lr_min), "cosine: final lr")
    ("batch", po::value(&c.batch)->default_value(c.batch), "mini-batch size per node")
    ("flush-denormals", po::value(&c.flush_denormals)->default_value(true, "true"),
     "treat subnormal floats as zero while training (x86 FTZ/DAZ; true/false)");
  add_group("sgd", "SGD (momentum, decay, clipping)").add_options()
    ("momentum", po::value(&c.momentum)->default_value(c.momentum, "0.9"), "heavy-ball momentum")
    ("nesterov", po::value(&c.nesterov)->default_value(false, "false"), "Nesterov momentum (true/false)")
    ("weight-decay", po::value(&c.weight_decay)->default_value(c.weight_decay), "L2 weight decay")
    ("clip-value", po::value(&c.clip_value)->default_value(c.clip_value), "clamp gradient entries to [-c, c] (0 = off)")
    ("clip-norm", po::value(&c.clip_norm)->default_value(c.clip_norm), "rescale gradients above this norm (0 = off)");
  add_group("graph", "Graph").add_options()
    ("topology", po::value(&c.topology)->default_value(c.topology), "topology spec (docs/topologies.md)")
    ("weights", po::value(&c.weights), "metropolis | uniform | max-degree (static graphs)")
    ("r", po::value(&c.r)->default_value(c.r), "random topology budget (peers per round), or the profile's start value");
  add_group("period", "Communication period").add_options()
    ("gossip-every", po::value(&c.gossip_every)->default_value(c.gossip_every), "communicate after every H local steps");
  add_group("schedule", "Communication schedule").add_options()
    ("rounds", po::value(&c.rounds)->default_value(c.rounds), "gossip rounds per communication step")
    ("r-end", po::value(&r_end), "profile end value (default: r)")
    ("budget-profile", po::value(&c.budget_profile),
     "fixed | linear | cosine | slow-decrease | slow-grow | late-switch | dense-window")
    ("budget-target", po::value(&c.budget_target)->default_value(c.budget_target),
     "budget (the profile sets r of a random topology) | rounds (it sets rounds per communication step)")
    ("budget-point", po::value(&c.budget_point)->default_value(c.budget_point), "late-switch / dense-window start, as progress in [0, 1]")
    ("budget-window", po::value(&c.budget_window)->default_value(c.budget_window, "0.05"), "dense-window length, as progress")
    ("budget-paper-last-round", po::value(&c.budget_paper_last_round)->default_value(false, "false"),
     "as the paper's code: every non-fixed profile returns r-end once progress reaches 1 (true/false)")
    ("final-merge", po::value(&c.final_merge)->default_value(true, "true"), "exact global average after the last step (true/false)")
    ("merge-every", po::value(&c.merge_every)->default_value(c.merge_every), "global average every M steps (0 = never)")
    ("post-merge-rounds", po::value(&c.post_merge_rounds)->default_value(c.post_merge_rounds), "gossip-only rounds after the last step, on the topology at budget r-end (needs final-merge = false)");
  add_group("probes", "Landscape probes").add_options()
    ("landscape-every", po::value(&c.landscape_every)->default_value(c.landscape_every),
     "landscape probes: -1 never, 0 after the last step only, K after every K steps and the last")
    ("probe-nodes", po::value(&c.probe_nodes)->default_value(c.probe_nodes),
     "nodes whose interpolation curves are probed: a count (spread evenly) or a comma list of ids")
    ("interp-points", po::value(&c.interp_points)->default_value(c.interp_points), "interpolation coefficients in [0, 1] (0 = none)")
    ("landscape-grid", po::value(&c.landscape_grid)->default_value(c.landscape_grid), "2-D slice sampled on G x G points (0 = none)")
    ("landscape-extent", po::value(&c.landscape_extent)->default_value(c.landscape_extent, "1.25"),
     "each slice axis spans +- this times the farthest node")
    ("probe-samples", po::value(&c.probe_samples)->default_value(c.probe_samples), "test samples a probe evaluates on")
    ("plane", po::value(&c.plane)->default_value(c.plane),
     "pca (x_bar and the top two principal directions of the nodes) | nodes:I,J,K (the plane through three models)");
  add_group("checkpoints", "Checkpoints").add_options()
    ("checkpoint-every", po::value(&c.checkpoint_every)->default_value(c.checkpoint_every),
     "write a checkpoint (OUT.ckpt) after every K steps; 0: only on SIGTERM, SIGUSR1 or SIGINT")
    ("resume", po::value(&c.resume)->default_value(c.resume),
     "continue from a checkpoint FILE, or auto (OUT.ckpt if it exists, else start)");
  add_group("compression", "Compression").add_options()
    ("compressor", po::value(&c.compressor)->default_value(c.compressor),
     "what nodes send, compressed: none | topk:F|K | randk:F|K | randk-unbiased:F|K | qsgd:S | sign | fp16 | natural "
     "| lowrank:R (algorithm = server or choco)")
    ("error-feedback", po::value(&c.error_feedback)->default_value(c.error_feedback),
     "none | ef | ef21 | ef21-sgdm | econtrol (algorithm = server)")
    ("econtrol-eta", po::value(&c.econtrol_eta)->default_value(c.econtrol_eta, "0.01"), "EControl's feedback strength eta >= 0")
    ("ef21-sgdm-eta", po::value(&c.ef21_sgdm_eta)->default_value(c.ef21_sgdm_eta, "0.1"), "EF21-SGDM's momentum weight in (0, 1]")
    ("compress-warmup", po::value(&c.compress_warmup)->default_value(c.compress_warmup),
     "steps of uncompressed communication before compression starts");
  add_group("choco", "CHOCO").add_options()
    ("choco-gamma", po::value(&c.choco_gamma)->default_value(c.choco_gamma, "0.5"), "CHOCO's consensus step in (0, 1]");
  add_group("federated", "Federated clients and server").add_options()
    ("local-steps", po::value(&c.local_steps)->default_value(c.local_steps),
     "fedavg | async-fedavg | fedbuff | fedfix: SGD steps per client job")
    ("server-lr", po::value(&c.server_lr)->default_value(c.server_lr), "federated: the server's step lr_g")
    ("server-optimizer", po::value(&c.server_optimizer)->default_value(c.server_optimizer),
     "federated: how the server applies the aggregated update Delta: sgd (theta += lr_g Delta) | momentum | adam | "
     "adamw (FedOpt; docs/federated.md)")
    ("server-lr-schedule", po::value(&c.server_lr_schedule)->default_value(c.server_lr_schedule),
     "federated: constant | linear (lr_g (1 - u/U) at update u of U: Reptile's annealing to 0)")
    ("server-momentum", po::value(&c.server_momentum)->default_value(c.server_momentum, "0.9"),
     "server-optimizer = momentum: mu in [0, 1)")
    ("server-dampening", po::value(&c.server_dampening)->default_value(c.server_dampening),
     "server-optimizer = momentum: dampening in [0, 1)")
    ("server-betas", po::value(&server_betas)->default_value(server_betas),
     "server-optimizer = adam | adamw: beta1,beta2 in [0, 1)")
    ("server-eps", po::value(&c.server_eps)->default_value(c.server_eps, "1e-08"),
     "server-optimizer = adam | adamw: eps > 0 (FedOpt's tau)")
    ("server-weight-decay", po::value(&c.server_weight_decay)->default_value(c.server_weight_decay),
     "federated: server weight decay >= 0 (adamw: decoupled; else an L2 term)")
    ("client-times", po::value(&client_times),
     "federated: virtual duration of one job on each client, comma list of one value per node")
    ("speed-spread", po::value(&c.speed_spread)->default_value(c.speed_spread),
     "federated: P in [0, 100): job durations 1 - i (P/100)/(n-1), the fastest client P% faster")
    ("eval-clients", po::value(&c.eval_clients)->default_value(c.eval_clients, "true"),
     "federated: at each eval also test every client's last returned model (/eval/local_*; false: NaN, faster)")
    ("virtual-time", po::value(&c.virtual_time)->default_value(c.virtual_time),
     "federated: run every server update up to this virtual time (instead of steps; 0 = use steps)");
  add_group("participation", "Client participation").add_options()
    ("clients-per-round", po::value(&c.clients_per_round)->default_value(c.clients_per_round),
     "fedavg: m clients, a seeded uniform sample per round, receive the model (0 = all)")
    ("dropout", po::value(&c.dropout)->default_value(c.dropout),
     "fedavg: probability in [0, 1) that a selected client fails to return (seeded per round and client)")
    ("deadline", po::value(&c.deadline)->default_value(c.deadline),
     "fedavg: a round lasts at most D virtual time units; slower clients do not return (0 = none)")
    ("availability", po::value(&c.availability),
     "fedavg: FILE of on-intervals 'CLIENT START END' in virtual time; a round offers its model to online clients "
     "only, one offline before its job ends does not return (unlisted clients: always online)")
    ("client-selection", po::value(&c.client_selection)->default_value(c.client_selection),
     "fedavg: uniform | power-of-choice:D (D candidates, the m with the largest loss) | high-loss:T (probability "
     "~ exp(T loss)) | curriculum (the client curriculum)")
    ("client-curriculum", po::value(&c.client_curriculum)->default_value(c.client_curriculum),
     "client-selection = curriculum: curr (the lowest mean loss first) | anti | rand: the clients' order")
    ("client-pacing", po::value(&c.client_pacing)->default_value(c.client_pacing),
     "client-selection = curriculum: linear | quad | sqrt | step | exp | log over the budget of client updates")
    ("client-pacing-a", po::value(&c.client_pacing_a)->default_value(c.client_pacing_a, "0.8"),
     "client-selection = curriculum: the pool holds every client after this fraction of the budget (> 0)")
    ("client-pacing-b", po::value(&c.client_pacing_b)->default_value(c.client_pacing_b, "0.2"),
     "client-selection = curriculum: the first pool's fraction of the clients, in [0, 1]");
  add_group("fairness", "Group fairness (federated)").add_options()
    ("group-file", po::value(&c.group_file),
     "federated: the sensitive attribute Z, a file of one 0 or 1 per sample (training file, then test file)")
    ("sensitive", po::value(&c.sensitive),
     "federated: the sensitive attribute from the labels, classes:LIST (Z = 1 for those classes, see "
     "sensitive-correlation)")
    ("sensitive-correlation", po::value(&c.sensitive_correlation)->default_value(c.sensitive_correlation, "0.95"),
     "sensitive = classes:LIST and dataset = synthetic-fair: P(Z = 1 | label in LIST) = P(Z = 0 | not), in [0, 1]")
    ("positive-class", po::value(&c.positive_class)->default_value(c.positive_class),
     "fairness: the prediction Yhat = 1[predicted class == this class]; fair-* partitions: Y likewise");
  add_group("curriculum", "Data curriculum (federated clients' jobs, decentralized nodes' windows)").add_options()
    ("curriculum", po::value(&c.curriculum)->default_value(c.curriculum),
     "none (off) | curr (easiest samples first) | anti (hardest first) | rand: every job's (window's) order")
    ("curriculum-score", po::value(&c.curriculum_score)->default_value(c.curriculum_score),
     "curriculum: the scoring model: global (the received model; the default of federated rules) | local (the "
     "client's last returned; a node's own, the default of decentralized algorithms) | both | "
     "expert (trained centrally first: expert-*)")
    ("curriculum-metric", po::value(&c.curriculum_metric)->default_value(c.curriculum_metric),
     "curriculum: a sample's score: loss (cross-entropy) | error (1 if misclassified, else 0)")
    ("pacing", po::value(&c.pacing)->default_value(c.pacing), "curriculum: linear | quad | sqrt | step | exp | log")
    ("pacing-a", po::value(&c.pacing_a)->default_value(c.pacing_a, "0.8"),
     "curriculum: the pool holds all samples after this fraction of a job's local steps (> 0)")
    ("pacing-b", po::value(&c.pacing_b)->default_value(c.pacing_b, "0.2"),
     "curriculum: the first pool's fraction of the client's samples, in [0, 1] (at least 32 samples)")
    ("curriculum-window", po::value(&c.curriculum_window)->default_value(c.curriculum_window),
     "curriculum, decentralized algorithms: a node re-scores its shard and restarts the pacing every W steps "
     "(0: one epoch of its shard, n / batch + 1)");
  add_group("fedbuff", "FedBuff").add_options()
    ("buffer-size", po::value(&c.buffer_size),
     "fedbuff: aggregate once c clients have returned (default: half the nodes, at least 1)");
  add_group("fedfix", "FedFix").add_options()
    ("fedfix-dt", po::value(&c.fedfix_dt)->default_value(c.fedfix_dt), "fedfix: aggregate at times k dt");
  add_group("zo", "Zeroth order").add_options()
    ("zo-eps", po::value(&c.zo_eps)->default_value(c.zo_eps, "0.001"),
     "zo-shared-seed: perturbation scale eps > 0 of g = (L(x + eps z) - L(x - eps z)) / (2 eps)")
    ("zo-scalar", po::value(&c.zo_scalar)->default_value(c.zo_scalar),
     "zo-shared-seed: how a projected gradient travels: float (4 bytes) | byte (sign + 7-bit log magnitude)")
    ("zo-verify-every", po::value(&c.zo_verify_every)->default_value(c.zo_verify_every),
     "zo-shared-seed: compare parameter hashes across ranks every K steps and after the last (0 = last only)");

  po::options_description options;
  for (const auto& [name, group] : groups) options.add(*group);

  po::variables_map vm;
  try {
    const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    if (std::find_if(argv + 1, argv + argc, [](const char* w) { return std::string(w) == "--list-algorithms"; }) !=
        argv + argc) {
      // For scripts: one line per registered algorithm, "NAME FAMILY GROUP...", in the registry's order.
      std::ostringstream list;
      for (const AlgorithmEntry& e : algorithms()) {
        list << e.name << " " << to_string(e.family);
        for (const std::string_view g : e.groups) list << " " << g;
        list << "\n";
      }
      if (help_out) *help_out = list.str();
      return std::nullopt;
    }
    if (const std::optional<std::string> help = help_request(argc, argv)) {
      if (help_out) *help_out = help_text(groups, *help);
      return std::nullopt;
    }
    po::store(without_stray_words(po::command_line_parser(argc, argv).options(options).style(style).run(),
                                  "--layers \"conv(16,5) relu maxpool(2) flatten dense(10)\""),
              vm);
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::error_code ec;
      if (std::filesystem::is_directory(path, ec)) throw config_error("config: cannot read '" + path + "': it is a directory");
      std::ifstream file(path);
      if (!file) throw config_error("config: cannot read '" + path + "'");
      // Stored after the command line, so command-line values win.
      std::istringstream flat(flatten_sections(file, path, groups));
      po::store(po::parse_config_file(flat, options), vm);
    }
    po::notify(vm);
  } catch (const config_error&) {
    throw;
  } catch (const po::error& e) {
    throw config_error(error_message(e) + " (see decent-train --help)");
  }
  const std::optional<std::uint64_t> seed_value = parse_seed(seed);
  if (!seed_value) throw config_error("seed: '" + detail::quotable(seed) + "' " + seed_requirement);
  c.seed = *seed_value;
  c.hidden = hidden.empty() ? std::vector<int>{} : parse_list<int>("hidden", hidden);
  // An INI value keeps its quotes (layers = "conv(16,5) relu ..."): one surrounding pair is the spec's delimiter.
  if (c.layers.size() >= 2 && c.layers.front() == '"' && c.layers.back() == '"') c.layers = c.layers.substr(1, c.layers.size() - 2);
  c.hidden_given = !vm["hidden"].defaulted();
  if (c.hidden_given && c.model != "mlp")
    throw config_error("hidden: applies to model = mlp only, but model = " + c.model);
  if (!milestones.empty()) c.lr_milestones = parse_list<std::int64_t>("lr-milestones", milestones);
  if (!client_times.empty()) c.client_times = parse_list<double>("client-times", client_times);
  c.server_betas = parse_list<double>("server-betas", server_betas);
  if (c.server_betas.size() != 2)
    throw config_error("server-betas: '" + server_betas + "' must be two numbers beta1,beta2, e.g. 0.9,0.999");
  c.r_given = !vm["r"].defaulted();
  // topology = random takes its budget from r; random:R sets it, and r may not say otherwise.
  if (c.topology == "random") {
    char text[32];
    const auto end = std::to_chars(text, text + sizeof text, c.r).ptr;
    c.topology = "random:" + std::string(text, end);
  } else if (c.topology.rfind("random:", 0) == 0) {
    const auto budget = parse_list<double>("topology", c.topology.substr(7));
    if (budget.size() != 1)
      throw config_error("topology: '" + c.topology + "' needs one budget after 'random:', e.g. random:0.2");
    const double spec_r = budget[0];
    if (c.r_given && spec_r != c.r)
      throw config_error("r: " + std::to_string(c.r) + " conflicts with topology = " + c.topology +
                         " (give the budget once)");
    c.r = spec_r;
  }
  if (!r_end.empty()) {
    const auto end = parse_list<double>("r-end", r_end);
    if (end.size() != 1) throw config_error("r-end: '" + r_end + "' must be one number");
    c.r_end = end[0];
  } else {
    c.r_end = c.r;
  }
  validate(c);
  // A parameter of a method the run does not use is a mistake, not a no-op.
  const auto unused = [&](const char* key, bool used, const std::string& needs) {
    if (!vm[key].defaulted() && !used) throw config_error(std::string(key) + ": applies only with " + needs);
  };
  if (c.synthetic_heterogeneity != 0) {
    if (!(c.synthetic_heterogeneity > 0 && c.synthetic_heterogeneity < 1e6))
      throw config_error("synthetic-heterogeneity: must be a number >= 0, got " + std::to_string(c.synthetic_heterogeneity));
    if (c.model != "linear" || c.dataset != "synthetic")
      throw config_error("synthetic-heterogeneity: applies to dataset = synthetic with model = linear");
    if (!vm["partition"].defaulted())
      throw config_error("partition: synthetic-heterogeneity > 0 gives every node its own teacher's samples; "
                         "leave partition unset");
  }
  // A key of a group the algorithm does not read is a mistake, not a no-op (decent/algo/registry.hpp).
  const AlgorithmEntry& algorithm = find_algorithm(c.algorithm);
  const auto given = [&](const char* key) { return vm.count(key) && !vm[key].defaulted(); };
  for (const auto& option : options.options()) {
    const std::string& key = option->long_name();
    if (!given(key.c_str())) continue;
    const std::string group = group_of(groups, key);
    // resume = auto (as the sbatch scripts pass it) is harmless where nothing is checkpointed: it starts.
    if (algorithm.reads(group) || (key == "resume" && c.resume == "auto")) continue;
    throw config_error(key + ": does not apply to algorithm = " + c.algorithm + " (it applies with algorithm = " +
                       algorithms_reading(group) + "; decent-train --help algorithm=" + c.algorithm +
                       " lists the keys " + c.algorithm + " reads)");
  }
  // A decentralized node receives no global model: its curriculum scores with its own unless told otherwise.
  // Defaults that depend on the algorithm, recorded in c.ini as they were applied.
  std::map<std::string, std::string> resolved;
  if (algorithm.family == AlgorithmFamily::decentralized && c.curriculum != "none" && !given("curriculum-score"))
    resolved["curriculum-score"] = c.curriculum_score = "local";
  // Conditions inside the groups.
  unused("server-momentum", c.server_optimizer == "momentum", "server-optimizer = momentum");
  unused("server-dampening", c.server_optimizer == "momentum", "server-optimizer = momentum");
  unused("server-betas", c.server_optimizer == "adam" || c.server_optimizer == "adamw", "server-optimizer = adam or adamw");
  unused("server-eps", c.server_optimizer == "adam" || c.server_optimizer == "adamw", "server-optimizer = adam or adamw");
  for (const char* key : {"pacing", "pacing-a", "pacing-b"})
    unused(key, c.curriculum != "none", "curriculum = curr, anti or rand");
  unused("curriculum-score", c.curriculum == "curr" || c.curriculum == "anti", "curriculum = curr or anti");
  unused("curriculum-metric", c.curriculum == "curr" || c.curriculum == "anti", "curriculum = curr or anti");
  unused("curriculum-window", c.curriculum != "none" && algorithm.family == AlgorithmFamily::decentralized,
         "curriculum = curr, anti or rand with a decentralized algorithm (dsgd, dpsgd, server, local-sgd, choco)");
  for (const char* key : {"expert-epochs", "expert-batch", "expert-lr"})
    unused(key, driver::needs_expert(c), "partition = difficulty:inc|dec|rand or curriculum-score = expert");
  unused("split-min-size", c.partition == "dirichlet-split" || c.partition == "dirichlet-mix",
         "partition = dirichlet-split or dirichlet-mix");
  unused("sensitive-correlation", !c.sensitive.empty() || c.dataset == "synthetic-fair",
         "sensitive = classes:LIST or dataset = synthetic-fair");
  unused("positive-class", !c.sensitive.empty() || !c.group_file.empty() || c.dataset == "synthetic-fair",
         "a sensitive attribute (group-file, sensitive or dataset = synthetic-fair)");
  for (const char* key : {"client-curriculum", "client-pacing", "client-pacing-a", "client-pacing-b"})
    unused(key, c.client_selection == "curriculum", "client-selection = curriculum");
  unused("econtrol-eta", c.error_feedback == "econtrol", "error-feedback = econtrol");
  unused("ef21-sgdm-eta", c.error_feedback == "ef21-sgdm", "error-feedback = ef21-sgdm");
  unused("compress-warmup", c.algorithm == "choco" || c.compressor != "none" || c.error_feedback != "none",
         "a compressor or error feedback");
  if (given("buffer-size")) at_least("buffer-size", c.buffer_size, 1);
  if (given("client-times") && given("speed-spread"))
    throw config_error("client-times: give either client-times or speed-spread, not both");
  if (given("virtual-time") && given("steps"))
    throw config_error("virtual-time: give either steps (server updates) or virtual-time, not both");

  if (c.resume != "" && c.resume != "auto" && c.resume == c.out)
    throw config_error("resume: '" + c.resume + "' is the run's output file; give its checkpoint (" + c.out + ".ckpt)");

  // Every key's final value, for the record; help and config themselves are not settings.
  std::ostringstream ini;
  for (const auto& option : options.options()) {
    const std::string& key = option->long_name();
    if (key == "help" || key == "config" || !vm.count(key)) continue;
    const auto& value = vm[key].value();
    ini << key << " = ";
    if (const auto it = resolved.find(key); it != resolved.end()) ini << it->second;
    else if (const auto* s = boost::any_cast<std::string>(&value)) ini << *s;
    else if (const auto* i = boost::any_cast<int>(&value)) ini << *i;
    else if (const auto* l = boost::any_cast<std::int64_t>(&value)) ini << *l;
    else if (const auto* u = boost::any_cast<std::uint64_t>(&value)) ini << *u;
    else if (const auto* d = boost::any_cast<double>(&value)) ini << *d;
    else if (const auto* b = boost::any_cast<bool>(&value)) ini << (*b ? "true" : "false");
    ini << "\n";
  }
  c.ini = ini.str();
  return c;
}

}  // namespace decent::driver
