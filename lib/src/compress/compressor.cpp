#include "decent/compress/compressor.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "decent/compress/fp16.hpp"
#include "decent/compress/identity.hpp"
#include "decent/compress/low_rank.hpp"
#include "decent/compress/natural.hpp"
#include "decent/compress/qsgd.hpp"
#include "decent/compress/random_k.hpp"
#include "decent/compress/scaled_sign.hpp"
#include "decent/compress/top_k.hpp"
#include "decent/compress/wire.hpp"

namespace decent {

namespace {

void check_dimension(const std::string& name, Eigen::Index d) {
  if (d < 1 || static_cast<std::uint64_t>(d) > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("compressor " + name + ": dimension must be in [1, 2^32 - 1], got " +
                                std::to_string(d));
}

}  // namespace

void Compressor::encode(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, Message& out) {
  const Eigen::Index d = x.size();
  check_dimension(name_, d);
  out.bytes.resize(message_bytes(d));
  store_u32(out.bytes.data(), static_cast<std::uint32_t>(d));
  encode_impl(x, rng, std::span<std::uint8_t>(out.bytes).subspan(message_header_bytes));
}

void Compressor::check_length(const Message& in, std::uint32_t d) const {
  const std::size_t expected = message_bytes(d);  // throws for d = 0
  if (in.bytes.size() != expected)
    throw std::invalid_argument("compressor " + name_ + ": message for dimension " + std::to_string(d) + " has " +
                                std::to_string(in.bytes.size()) + " bytes, expected " + std::to_string(expected));
}

void Compressor::decode(const Message& in, Eigen::Ref<Eigen::VectorXf> out) const {
  const std::uint32_t d = message_dimension(in);
  if (static_cast<Eigen::Index>(d) != out.size())
    throw std::invalid_argument("compressor " + name_ + ": message is for dimension " + std::to_string(d) +
                                ", the output has size " + std::to_string(out.size()));
  check_length(in, d);
  try {
    decode_impl(std::span<const std::uint8_t>(in.bytes).subspan(message_header_bytes), out);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("compressor " + name_ + ": corrupt message: " + e.what());
  }
}

Eigen::VectorXf Compressor::decode(const Message& in) const {
  const std::uint32_t d = message_dimension(in);
  check_length(in, d);  // before allocating d floats on the word of a header
  Eigen::VectorXf out(static_cast<Eigen::Index>(d));
  decode(in, out);
  return out;
}

std::size_t Compressor::message_bytes(Eigen::Index d) const {
  check_dimension(name_, d);
  return message_header_bytes + payload_bytes_impl(d);
}

double Compressor::omega(Eigen::Index d) const {
  if (!unbiased_) throw std::logic_error("compressor " + name_ + " is biased: it has a delta, not an omega");
  check_dimension(name_, d);
  return omega_impl(d);
}

double Compressor::delta(Eigen::Index d) const {
  check_dimension(name_, d);
  return unbiased_ ? 1 / (1 + omega_impl(d)) : delta_impl(d);
}

double Compressor::delta_impl(Eigen::Index) const {
  throw std::logic_error("compressor " + name_ + " does not define delta_impl");
}

double Compressor::omega_impl(Eigen::Index) const {
  throw std::logic_error("compressor " + name_ + " does not define omega_impl");
}

// ---- factory -----------------------------------------------------------------------------------

namespace {

const char* const allowed_specs =
    "none, topk:F, topk:K, randk:F, randk:K, randk-unbiased:F, randk-unbiased:K, qsgd:S, sign, fp16, natural, "
    "lowrank:R (F a fraction in (0, 1] written with '.' or 'e', K, S and R positive integers)";

/// A malformed spec, already described in full (told apart by type from the sparsity's own refusals).
class spec_problem : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

[[noreturn]] void bad_spec(std::string_view spec, const std::string& problem) {
  throw spec_problem("compressor spec '" + std::string(spec) + "': " + problem + "; allowed: " +
                              allowed_specs);
}

template <class T>
T parse_number(std::string_view spec, std::string_view text, const char* what) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    bad_spec(spec, std::string(what) + " '" + std::string(text) + "' is not a number");
  return value;
}

Sparsity parse_sparsity(std::string_view spec, std::string_view text) {
  try {
    if (text.find_first_of(".eE") != std::string_view::npos)
      return Sparsity::fraction(parse_number<double>(spec, text, "fraction F"));
    return Sparsity::count(parse_number<std::int64_t>(spec, text, "count K"));
  } catch (const spec_problem&) {
    throw;
  } catch (const std::invalid_argument& e) {
    bad_spec(spec, e.what());
  }
}

// The layout is null for the overload without one; `syntax_only` checks a lowrank spec without one and
// returns nullptr for it.
std::unique_ptr<Compressor> build(std::string_view spec, const std::span<const MatrixBlock>* layout,
                                  bool syntax_only = false) {
  const auto colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  const bool has_param = colon != std::string_view::npos;
  const std::string_view param = has_param ? spec.substr(colon + 1) : std::string_view{};

  const bool takes_param =
      kind == "topk" || kind == "randk" || kind == "randk-unbiased" || kind == "qsgd" || kind == "lowrank";
  const bool known = takes_param || kind == "none" || kind == "sign" || kind == "fp16" || kind == "natural";
  if (!known) bad_spec(spec, "unknown compressor '" + std::string(kind) + "'");
  if (takes_param && !has_param) bad_spec(spec, std::string(kind) + " needs a parameter");
  if (!takes_param && has_param) bad_spec(spec, std::string(kind) + " takes no parameter");

  if (kind == "none") return std::make_unique<Identity>();
  if (kind == "sign") return std::make_unique<ScaledSign>();
  if (kind == "fp16") return std::make_unique<Fp16>();
  if (kind == "natural") return std::make_unique<NaturalCompression>();
  if (kind == "topk") return std::make_unique<TopK>(parse_sparsity(spec, param));
  if (kind == "randk") return std::make_unique<RandomK>(parse_sparsity(spec, param), false);
  if (kind == "randk-unbiased") return std::make_unique<RandomK>(parse_sparsity(spec, param), true);
  if (kind == "lowrank") {
    const auto rank = parse_number<std::int64_t>(spec, param, "rank R");
    if (rank < 1) bad_spec(spec, "rank R must be >= 1");
    if (layout == nullptr && syntax_only) return nullptr;
    if (layout == nullptr)
      bad_spec(spec, "lowrank needs the model's matrix layout: call make_compressor(spec, model.matrix_blocks())");
    try {
      return std::make_unique<LowRank>(rank, std::vector<MatrixBlock>(layout->begin(), layout->end()));
    } catch (const std::invalid_argument& e) {  // the layout, not the spec: no list of allowed specs
      throw std::invalid_argument("compressor spec '" + std::string(spec) + "': " + e.what());
    }
  }
  // qsgd
  const auto s = parse_number<std::int64_t>(spec, param, "level count S");
  if (s < 1 || s > 65535) bad_spec(spec, "level count S must be in [1, 65535]");
  return std::make_unique<Qsgd>(static_cast<int>(s));
}

}  // namespace

std::unique_ptr<Compressor> make_compressor(std::string_view spec) { return build(spec, nullptr); }

void check_compressor_spec(std::string_view spec) { build(spec, nullptr, true); }

std::unique_ptr<Compressor> make_compressor(std::string_view spec, std::span<const MatrixBlock> layout) {
  return build(spec, &layout);
}

std::vector<std::string> compressor_names() {
  return {"none", "topk:F", "topk:K", "randk:F", "randk:K", "randk-unbiased:F", "randk-unbiased:K",
          "qsgd:S", "sign",   "fp16",   "natural", "lowrank:R"};
}

}  // namespace decent
