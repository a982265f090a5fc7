// P4: compressors' encode on one vector against memcpy of the same vector, in one process, interleaved.
//
//   decent-bench-compress [--d 1e7] [--k 1e5] [--qsgd 4,16] [--repeats 7] [--target-seconds 0.1]
//
// Cases: top_k_indices (the exact selection alone), the full top-k encode (selection, values and packed
// indices: "topk:K"), QSGD encodes, the scaled-sign encode, and memcpy of the d floats. Input: d standard
// normal floats (seeded), like a gradient. Bytes touched: memcpy reads and writes 4d bytes (8d); an encode
// reads 4d bytes and writes its message. One JSON line per case (see measure.hpp).
#include <cstring>
#include <functional>
#include <iostream>

#include "decent/compress/compressor.hpp"
#include "decent/compress/top_k.hpp"
#include "measure.hpp"

using namespace decent;
using bench::Line;

namespace {

struct Case {
  Case(std::string case_name, std::function<void()> operation, double bytes)
      : name(std::move(case_name)), op(std::move(operation)), bytes_touched(bytes) {}
  std::string name;
  std::function<void()> op;
  double bytes_touched = 0;
  int k = 1;
  std::vector<double> samples;
};

double timed(int k, const std::function<void()>& op) {
  const double start = bench::now();
  for (int i = 0; i < k; ++i) op();
  return (bench::now() - start) / k;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bench::Options options(argc, argv, 1);
    const auto d = static_cast<Eigen::Index>(options.number("d", 1e7));
    const auto k = static_cast<Eigen::Index>(options.number("k", 1e5));
    const auto levels = options.numbers("qsgd", "4,16");
    const int repeats = static_cast<int>(options.number("repeats", 7));
    const double seconds = options.number("target-seconds", 0.1);
    options.check_all_used();

    Eigen::VectorXf x(d), copy(d);
    Rng data_rng(derive_seed(4, {0}));
    for (Eigen::Index i = 0; i < d; ++i) x[i] = static_cast<float>(data_rng.normal());
    Rng rng(derive_seed(4, {1}));
    const auto bytes = static_cast<double>(d) * sizeof(float);

    std::vector<std::uint32_t> indices;
    std::vector<float> scratch;
    std::vector<std::unique_ptr<Compressor>> compressors;
    std::vector<Message> messages;
    std::vector<Case> cases;
    cases.emplace_back("top_k_indices", [&] { top_k_indices(x, k, indices, scratch); }, bytes + 4.0 * static_cast<double>(k));
    std::vector<std::string> specs{"topk:" + std::to_string(k)};
    for (double s : levels) specs.push_back("qsgd:" + std::to_string(static_cast<int>(s)));
    specs.push_back("sign");
    messages.resize(specs.size());
    for (std::size_t c = 0; c < specs.size(); ++c) {
      compressors.push_back(make_compressor(specs[c]));
      Compressor& compressor = *compressors.back();
      Message& message = messages[c];
      cases.emplace_back("encode_" + specs[c], [&compressor, &message, &x, &rng] { compressor.encode(x, rng, message); },
                       bytes + static_cast<double>(compressor.message_bytes(d)));
    }
    cases.emplace_back("memcpy", [&] { std::memcpy(copy.data(), x.data(), static_cast<std::size_t>(bytes)); }, 2 * bytes);

    for (auto& c : cases) {
      c.op();  // warm-up: first touch of scratch and message buffers
      c.k = std::max(1, static_cast<int>(std::lround(seconds / std::max(timed(1, c.op), 1e-9))));
    }
    for (int r = 0; r < repeats; ++r)
      for (auto& c : cases) c.samples.push_back(timed(c.k, c.op));

    const double memcpy_rate = cases.back().bytes_touched / bench::median(cases.back().samples);
    for (auto& c : cases) {
      Line("P4", c.name).field("d", static_cast<double>(d)).field("k", static_cast<double>(k))
          .field("bytes_touched", c.bytes_touched).field("inner", c.k).samples("s", c.samples).print();
      const double t = bench::median(c.samples);
      std::fprintf(stderr, "P4 %-16s %9.3f ms  %6.2f GB/s touched (%.2fx memcpy)\n", c.name.c_str(), 1e3 * t,
                   c.bytes_touched / t / 1e9, c.bytes_touched / t / memcpy_rate);
    }
  } catch (const std::exception& e) {
    std::cerr << "decent-bench-compress: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
