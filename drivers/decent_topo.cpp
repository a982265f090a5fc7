// decent-topo: builds a topology and prints its structure and spectral gap (text or JSON),
// optionally writing it as a Graphviz or decent topology file.
#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "program_options_error.hpp"
#include "seed_option.hpp"

#include "decent/mpi/environment.hpp"
#include "decent/topology/file.hpp"
#include "decent/topology/spectral.hpp"
#include "decent/topology/topology.hpp"

namespace po = boost::program_options;
using namespace decent;

namespace {

constexpr int exit_usage = 2;

struct Options {
  std::string topology = "ring";
  int nodes = 16;
  bool nodes_given = false;
  std::string weights;
  std::uint64_t seed = 1;
  bool json = false;
  std::string dot;
  std::string write;
};

/// What decent-topo reports about a topology.
struct Summary {
  int nodes = 0;
  Graph graph;               // union of the rounds of one period (round 0 for random graphs)
  int max_peers = 0;         // most neighbours of one node in one round
  double spectral_gap = 0;   // of W, of the product over one period, or of round 0 for random graphs
  double round_gap = 0;      // of round 0 alone
  double measured_rate = 0;  // per-round shrink of the consensus distance, measured by simulation
  bool doubly_stochastic = true;
};

Summary summarize(const Topology& topology) {
  Summary s;
  s.nodes = topology.nodes();
  const int rounds = std::max(1, topology.period());
  std::set<std::pair<int, int>> arcs;
  bool symmetric = true;
  for (int t = 0; t < rounds; ++t) {
    const MixingMatrix w = topology.mixing_matrix(t);
    const Graph g = w.graph();
    s.max_peers = std::max(s.max_peers, g.max_degree());
    s.doubly_stochastic = s.doubly_stochastic && w.is_doubly_stochastic(1e-9);
    symmetric = symmetric && !g.directed();
    for (int i = 0; i < g.nodes(); ++i)
      for (int j : g.neighbors(i)) arcs.emplace(i, j);
  }
  s.graph = Graph(s.nodes, !symmetric);
  for (auto [i, j] : arcs) s.graph.add_edge(i, j);
  s.round_gap = spectral_gap(topology.mixing_matrix(0));
  // For a static graph one period is round 0: its gap is already known (the dense analysis is O(n^3)).
  s.spectral_gap = topology.period() > 1 ? spectral_gap(topology.period_product()) : s.round_gap;
  s.measured_rate = consensus_rate(topology, 200);
  return s;
}

std::string json_string(const std::string& text) {
  std::ostringstream out;
  out << '"';
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') out << '\\' << c;
    else if (c < 0x20) out << "\\u" << std::hex << std::setw(4) << std::setfill('0') << int(c) << std::dec;
    else out << c;
  }
  out << '"';
  return out.str();
}

void print_text(const Topology& t, const Summary& s, const std::string& weights) {
  std::cout << std::setprecision(6);
  std::cout << "topology        " << t.name() << "\n"
            << "nodes           " << s.nodes << "\n"
            << "edges           " << s.graph.edge_count() << (s.graph.directed() ? " (directed)" : " (undirected)")
            << (t.time_varying() ? (t.period() ? ", union over one period" : ", round 0") : "") << "\n"
            << "degree          " << s.graph.min_degree() << " .. " << s.graph.max_degree() << "\n";
  if (t.time_varying()) std::cout << "peers per round " << s.max_peers << "\n";
  std::cout << "diameter        ";
  if (s.graph.diameter() >= 0) std::cout << s.graph.diameter() << "\n";
  else std::cout << "infinite (not connected)\n";
  std::cout << "weights         " << weights << "\n"
            << "doubly stoch.   " << (s.doubly_stochastic ? "yes" : "no (gossip does not preserve the mean)") << "\n";
  if (!t.time_varying()) {
    std::cout << "spectral gap    " << s.spectral_gap << "\n";
  } else if (t.period() >= 1) {
    std::cout << "period          " << t.period() << " rounds\n"
              << "spectral gap    " << s.spectral_gap << " (product over one period)\n"
              << "round 0 gap     " << s.round_gap << "\n";
  } else {
    std::cout << "period          none (redrawn every round)\n"
              << "spectral gap    " << s.spectral_gap << " (round 0 alone; can be < 0 for row-stochastic W)\n";
  }
  std::cout << "consensus rate  " << s.measured_rate
            << " (measured per-round shrink of ||x - mean||, 200 rounds)\n";
}

void print_json(const Topology& t, const Summary& s, const std::string& weights) {
  std::cout << std::setprecision(17) << "{\"topology\": " << json_string(t.name()) << ", \"nodes\": " << s.nodes
            << ", \"edges\": " << s.graph.edge_count() << ", \"directed\": " << (s.graph.directed() ? "true" : "false")
            << ", \"min_degree\": " << s.graph.min_degree() << ", \"max_degree\": " << s.graph.max_degree()
            << ", \"peers_per_round\": " << s.max_peers << ", \"diameter\": ";
  if (s.graph.diameter() >= 0) std::cout << s.graph.diameter();
  else std::cout << "null";
  std::cout << ", \"weights\": " << json_string(weights) << ", \"time_varying\": " << (t.time_varying() ? "true" : "false")
            << ", \"period\": " << t.period() << ", \"doubly_stochastic\": " << (s.doubly_stochastic ? "true" : "false")
            << ", \"spectral_gap\": " << s.spectral_gap << ", \"round_spectral_gap\": " << s.round_gap
            << ", \"consensus_rate\": " << s.measured_rate << "}\n";
}

void write_dot(const std::string& path, const Topology& t, const Summary& s) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write Graphviz file '" + path + "'");
  const bool directed = s.graph.directed();
  out << (directed ? "digraph" : "graph") << " decent {\n  label=" << json_string(t.name()) << ";\n";
  // For a static graph label every edge with its weight; an arc points the way values travel (j -> i).
  const MixingMatrix w0 = t.mixing_matrix(0);
  for (int i = 0; i < s.nodes; ++i) out << "  " << i << ";\n";
  for (auto [i, j] : s.graph.edges()) {
    out << "  " << (directed ? j : i) << (directed ? " -> " : " -- ") << (directed ? i : j);
    if (!t.time_varying()) out << " [label=\"" << std::setprecision(4) << w0.weight(i, j) << "\"]";
    out << ";\n";
  }
  out << "}\n";
  if (!out) throw std::runtime_error("error writing Graphviz file '" + path + "'");
}

/// The parsed options, or nothing when --help was printed.
std::optional<Options> parse(int argc, char** argv) {
  Options o;
  std::string seed = "1";
  po::options_description visible("decent-topo: build a topology and report its structure and spectral gap\n\n"
                                  "Usage: decent-topo --topology NAME --nodes N [options]\n\nOptions");
  visible.add_options()
    ("help,h", "print this help and exit")
    ("topology,t", po::value(&o.topology)->default_value(o.topology),
     "ring, torus[:RxC], exponential, one-peer-exponential, hypercube, complete, star, erdos-renyi[:P], "
     "random[:R], base[:K], file:PATH")
    ("nodes,n", po::value(&o.nodes)->default_value(o.nodes), "number of nodes (for file:PATH, defaults to the file's)")
    ("weights,w", po::value(&o.weights), "metropolis, uniform or max-degree (default: the graph's usual weights)")
    ("seed", po::value(&seed)->default_value(seed), "seed of the random graphs (erdos-renyi, random), 0 to 2^63 - 1")
    ("json", po::bool_switch(&o.json), "print one JSON object instead of text")
    ("dot", po::value(&o.dot), "also write the graph in Graphviz format to FILE")
    ("write", po::value(&o.write), "also write W in decent's topology file format to FILE (static graphs)");
  po::variables_map vm;
  // No prefix guessing: a misspelled option is an error, never silently another option.
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  po::store(driver::without_stray_words(po::command_line_parser(argc, argv).options(visible).style(style).run()), vm);
  if (vm.count("help")) {
    std::cout << visible << "\nSee docs/topologies.md for each graph's weights and spectral gap.\n";
    return std::nullopt;
  }
  po::notify(vm);
  const std::optional<std::uint64_t> seed_value = driver::parse_seed(seed);
  if (!seed_value)
    throw std::invalid_argument("--seed: '" + driver::detail::quotable(seed) + "' " + driver::seed_requirement);
  o.seed = *seed_value;
  o.nodes_given = !vm["nodes"].defaulted();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Environment environment(argc, argv);
  try {
    const std::optional<Options> parsed = parse(argc, argv);
    if (!parsed) return 0;
    const Options& o = *parsed;
    TopologyOptions topology_options;
    topology_options.seed = o.seed;
    if (!o.weights.empty()) topology_options.weights = parse_weight_scheme(o.weights);
    const bool from_file = o.topology.rfind("file:", 0) == 0;
    const int n = from_file && !o.nodes_given ? 0 : o.nodes;
    if (!from_file && n < 1) throw std::invalid_argument("--nodes must be >= 1, got " + std::to_string(n));
    const auto topology = make_topology(o.topology, n, topology_options);
    const Summary summary = summarize(*topology);
    // Files first: a run that cannot write what was asked prints nothing but the error.
    if (!o.dot.empty()) write_dot(o.dot, *topology, summary);
    if (!o.write.empty()) {
      if (topology->time_varying())
        throw std::invalid_argument("--write saves one static matrix, but '" + topology->name() +
                                    "' changes every round");
      write_topology_file(o.write, topology->mixing_matrix(0), "written by decent-topo --topology " + topology->name());
    }
    if (o.json) print_json(*topology, summary, topology->weights());
    else print_text(*topology, summary, topology->weights());
    return 0;
  } catch (const po::error& e) {
    std::cerr << "decent-topo: error: " << driver::error_message(e) << " (see decent-topo --help)\n";
  } catch (const std::exception& e) {
    std::cerr << "decent-topo: error: " << e.what() << "\n";
  }
  return exit_usage;
}
