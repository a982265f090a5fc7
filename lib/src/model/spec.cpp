#include "decent/model/spec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>

#include "decent/model/activation.hpp"
#include "decent/model/conv2d.hpp"
#include "decent/model/dense.hpp"
#include "decent/model/dropout.hpp"
#include "decent/model/flatten.hpp"
#include "decent/model/group_norm.hpp"
#include "decent/model/pooling.hpp"
#include "decent/model/residual.hpp"

namespace decent {

namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

std::string printable(char c) {
  if (std::isprint(static_cast<unsigned char>(c))) return std::string(1, c);
  static const char* hex = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  return std::string("\\x") + hex[u >> 4] + hex[u & 15];
}

[[noreturn]] void fail(const std::string& what, std::size_t position, const std::string& token) {
  throw spec_error(what, position, token);
}

std::string at(const std::string& token, std::size_t position) {
  return "'" + token + "' at position " + std::to_string(position);
}

/// A piece of text with its 1-based position in the whole spec.
struct Piece {
  std::string_view text;
  std::size_t position;
};

Piece trim(Piece p) {
  while (!p.text.empty() && space(p.text.front())) {
    p.text.remove_prefix(1);
    ++p.position;
  }
  while (!p.text.empty() && space(p.text.back())) p.text.remove_suffix(1);
  return p;
}

bool is_residual(std::string_view name) { return name == "residual" || name == "res"; }

std::vector<LayerSpec> parse_sequence(Piece in, std::optional<std::size_t>* features);

LayerSpec parse_arguments(LayerSpec layer, Piece inside) {
  // Split at commas outside brackets.
  std::vector<Piece> parts;
  std::size_t depth = 0, start = 0;
  for (std::size_t i = 0; i <= inside.text.size(); ++i) {
    const char c = i < inside.text.size() ? inside.text[i] : ',';
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(trim({inside.text.substr(start, i - start), inside.position + start}));
      start = i + 1;
    }
  }
  if (parts.size() == 1 && parts[0].text.empty()) parts.clear();  // name()
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const Piece& part = parts[k];
    if (part.text.empty()) fail(at(layer.text, layer.position) + " has an empty argument", layer.position, layer.text);
    if (k == 0 && is_residual(layer.name)) {
      layer.body = parse_sequence(part, nullptr);
      if (layer.body.empty()) fail(at(layer.text, layer.position) + " has no layers in its body", layer.position, layer.text);
      continue;
    }
    const std::size_t eq = part.text.find('=');
    if (eq == std::string_view::npos) {
      if (!layer.options.empty())
        fail(at(layer.text, layer.position) + ": positional argument '" + std::string(part.text) + "' after key=value ones",
             layer.position, layer.text);
      layer.arguments.emplace_back(part.text);
      continue;
    }
    const Piece key = trim({part.text.substr(0, eq), part.position}), value = trim({part.text.substr(eq + 1), part.position + eq + 1});
    if (key.text.empty() || value.text.empty())
      fail(at(layer.text, layer.position) + ": argument '" + std::string(part.text) + "' needs KEY=VALUE", layer.position,
           layer.text);
    for (const auto& [existing, v] : layer.options)
      if (existing == key.text)
        fail(at(layer.text, layer.position) + " sets '" + existing + "' twice", layer.position, layer.text);
    layer.options.emplace_back(std::string(key.text), std::string(value.text));
  }
  if (is_residual(layer.name) && layer.body.empty())
    fail(at(layer.text, layer.position) + " needs its body: residual(LAYERS)", layer.position, layer.text);
  return layer;
}

std::vector<LayerSpec> parse_sequence(Piece in, std::optional<std::size_t>* features) {
  std::vector<LayerSpec> layers;
  const std::string_view s = in.text;
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && space(s[i])) ++i;
    if (i == s.size()) break;
    const std::size_t begin = i, position = in.position + i;
    if (!std::isalpha(static_cast<unsigned char>(s[i])))
      fail("unexpected character '" + printable(s[i]) + "' at position " + std::to_string(position) +
               " (a layer name starts with a letter)",
           position, printable(s[i]));
    while (i < s.size() && name_char(s[i])) ++i;
    LayerSpec layer;
    layer.name = std::string(s.substr(begin, i - begin));
    layer.position = position;
    std::optional<Piece> inside;
    if (i < s.size() && s[i] == '(') {
      std::size_t depth = 0, j = i;
      for (; j < s.size(); ++j) {
        if (s[j] == '(') ++depth;
        if (s[j] == ')' && --depth == 0) break;
      }
      if (j == s.size())
        fail("'(' of " + at(layer.name, position) + " is never closed", position, std::string(s.substr(begin)));
      inside = Piece{s.substr(i + 1, j - i - 1), in.position + i + 1};
      i = j + 1;
    }
    layer.text = std::string(s.substr(begin, i - begin));
    if (i < s.size() && !space(s[i]))
      fail("expected a space after " + at(layer.text, position) + ", found '" + printable(s[i]) + "'", position,
           layer.text);
    if (layer.name == "features") {
      if (!features) fail("'features' at position " + std::to_string(position) + " may only mark a top-level layer", position, layer.text);
      if (inside) fail(at(layer.text, position) + ": the features marker takes no arguments", position, layer.text);
      if (features->has_value()) fail("a second 'features' marker at position " + std::to_string(position), position, layer.text);
      *features = layers.size();
      continue;
    }
    layers.push_back(inside ? parse_arguments(std::move(layer), *inside) : std::move(layer));
  }
  return layers;
}

// ---- arguments of one layer ----------------------------------------------------------------

/// The arguments a layer takes: names in positional order, of which the first `required` must be given.
struct Signature {
  std::vector<std::string> names;
  std::size_t required = 0;
  std::size_t positional = 0;  // how many may be given by position
};

class Arguments {
public:
  Arguments(const LayerSpec& layer, const Signature& signature) : layer_(layer) {
    const std::size_t given = layer.arguments.size();
    if (given > signature.positional || given < std::min(signature.required, signature.positional))
      bad(describe_arity(signature, given));
    for (std::size_t k = 0; k < given; ++k) values_[signature.names[k]] = layer.arguments[k];
    for (const auto& [key, value] : layer.options) {
      if (std::find(signature.names.begin(), signature.names.end(), key) == signature.names.end())
        bad("unknown option '" + key + "' (" + layer.name + " takes " + list(signature.names) + ")");
      if (values_.count(key)) bad("sets '" + key + "' twice (by position and by name)");
      values_[key] = value;
    }
    for (std::size_t k = 0; k < signature.required; ++k)
      if (!values_.count(signature.names[k])) bad("needs " + signature.names[k]);
  }

  bool has(const std::string& name) const { return values_.count(name) > 0; }

  Eigen::Index integer(const std::string& name, Eigen::Index fallback) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    long long v = 0;
    const std::string& text = it->second;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0 || v > (1ll << 40))
      bad(name + " must be a whole number >= 0, got '" + text + "'");
    return static_cast<Eigen::Index>(v);
  }

  double real(const std::string& name, double fallback) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    const std::string& text = it->second;
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
      bad(name + " must be a number, got '" + text + "'");
    return v;
  }

  bool flag(const std::string& name, bool fallback) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    if (it->second == "1" || it->second == "true") return true;
    if (it->second == "0" || it->second == "false") return false;
    bad(name + " must be 0 or 1, got '" + it->second + "'");
  }

  std::string word(const std::string& name, const std::string& fallback) const {
    const auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }

  [[noreturn]] void bad(const std::string& what) const {
    fail(at(layer_.text, layer_.position) + ": " + what, layer_.position, layer_.text);
  }

private:
  static std::string list(const std::vector<std::string>& names) {
    if (names.empty()) return "no arguments";
    std::string text;
    for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
    return text;
  }
  std::string describe_arity(const Signature& s, std::size_t given) const {
    std::string positional;
    for (std::size_t k = 0; k < s.positional; ++k) positional += (k ? ", " : "") + s.names[k];
    const std::string range = s.required == s.positional ? std::to_string(s.positional)
                                                         : std::to_string(std::min(s.required, s.positional)) + " to " +
                                                               std::to_string(s.positional);
    return layer_.name + " takes " + range + " positional argument" + (s.positional == 1 ? "" : "s") +
           (positional.empty() ? "" : " (" + positional + ")") + ", got " + std::to_string(given);
  }

  const LayerSpec& layer_;
  std::map<std::string, std::string> values_;
};

template <class T>
std::unique_ptr<BasicLayer<T>> make_layer(const LayerSpec& layer) {
  const std::string& n = layer.name;
  try {
    if (n == "dense") {
      const Arguments a(layer, {{"outputs", "bias"}, 1, 1});
      return std::make_unique<Dense<T>>(a.integer("outputs", 0), a.flag("bias", true));
    }
    if (n == "conv") {
      const Arguments a(layer, {{"channels", "kernel", "stride", "pad", "bias"}, 2, 4});
      Conv2dOptions o;
      o.out_channels = a.integer("channels", 0);
      o.kernel = a.integer("kernel", 0);
      o.stride = a.integer("stride", 1);
      o.pad = a.integer("pad", 0);
      o.bias = a.flag("bias", true);
      return std::make_unique<Conv2d<T>>(o);
    }
    if (n == "maxpool" || n == "avgpool") {
      const Arguments a(layer, {{"kernel", "stride"}, 1, 2});
      const Eigen::Index k = a.integer("kernel", 0);
      return std::make_unique<Pool2d<T>>(n == "maxpool" ? PoolKind::max : PoolKind::average, k, a.integer("stride", k));
    }
    if (n == "gap" || n == "globalavgpool") {
      const Arguments a(layer, {{}, 0, 0});
      return std::make_unique<GlobalAvgPool<T>>();
    }
    if (n == "flatten") {
      const Arguments a(layer, {{}, 0, 0});
      return std::make_unique<Flatten<T>>();
    }
    if (n == "relu" || n == "tanh" || n == "gelu") {
      const Arguments a(layer, {{}, 0, 0});
      return std::make_unique<Activation<T>>(n == "relu"   ? ActivationKind::relu
                                             : n == "tanh" ? ActivationKind::tanh
                                                           : ActivationKind::gelu);
    }
    if (n == "groupnorm" || n == "gn") {
      const Arguments a(layer, {{"groups", "eps"}, 0, 1});
      return std::make_unique<GroupNorm<T>>(a.integer("groups", 8), a.real("eps", 1e-5));
    }
    if (n == "dropout") {
      const Arguments a(layer, {{"p"}, 1, 1});
      return std::make_unique<Dropout<T>>(a.real("p", 0));
    }
    if (is_residual(n)) {
      const Arguments a(layer, {{"shortcut"}, 0, 0});
      const std::string s = a.word("shortcut", "auto");
      if (s != "auto" && s != "identity" && s != "proj") a.bad("shortcut must be auto, identity or proj, got '" + s + "'");
      Sequence<T> body;
      for (const LayerSpec& inner : layer.body) body.add(make_layer<T>(inner));
      return std::make_unique<Residual<T>>(std::move(body), s == "auto"       ? Shortcut::automatic
                                                            : s == "identity" ? Shortcut::identity
                                                                              : Shortcut::projection);
    }
  } catch (const spec_error&) {
    throw;
  } catch (const std::invalid_argument& e) {
    fail(at(layer.text, layer.position) + ": " + e.what(), layer.position, layer.text);
  }
  fail("unknown layer " + at(layer.text, layer.position) +
           " (layers: dense, conv, maxpool, avgpool, gap, flatten, relu, tanh, gelu, groupnorm, dropout, residual; "
           "marker: features)",
       layer.position, layer.text);
}

/// Binds a copy of every layer in order to find the first that cannot take its input (a residual's body is
/// checked layer by layer first), and names it; returns the output shape.
template <class T>
TensorShape check_shapes(const std::vector<LayerSpec>& layers, TensorShape shape) {
  for (const LayerSpec& layer : layers) {
    if (is_residual(layer.name)) check_shapes<T>(layer.body, shape);
    const auto built = make_layer<T>(layer);
    try {
      shape = built->bind(shape, Gain::linear);
    } catch (const shape_error& e) {
      fail(at(layer.text, layer.position) + ", input " + shape.to_string() + ": " + e.what(), layer.position, layer.text);
    }
  }
  return shape;
}

}  // namespace

ModelSpec parse_model_spec(std::string_view text) {
  ModelSpec spec;
  spec.text = std::string(text);
  spec.layers = parse_sequence({text, 1}, &spec.features);
  if (spec.layers.empty()) throw spec_error("the spec has no layers", 0, "");
  return spec;
}

template <class T>
Network<T> build_network(const ModelSpec& spec, TensorShape input, int classes, T label_smoothing) {
  if (spec.layers.empty()) throw spec_error("the spec has no layers", 0, "");
  const TensorShape out = check_shapes<T>(spec.layers, input);
  const LayerSpec& last = spec.layers.back();
  if (out != TensorShape{classes, 1, 1})
    fail("the spec ends with " + at(last.text, last.position) + ", output " + out.to_string() +
             " values per sample, but the data has " + std::to_string(classes) + " classes (end with dense(" +
             std::to_string(classes) + "))",
         last.position, last.text);
  Sequence<T> layers;
  for (const LayerSpec& layer : spec.layers) layers.add(make_layer<T>(layer));
  return Network<T>(std::move(layers), input, classes, spec.features, label_smoothing);
}

template Network<float> build_network<float>(const ModelSpec&, TensorShape, int, float);
template Network<double> build_network<double>(const ModelSpec&, TensorShape, int, double);

std::string preset_names() { return "softmax, mlp, lenet5, cnn-small, resnet8-gn"; }

std::string preset_spec(std::string_view name, int classes, const std::vector<int>& hidden) {
  const std::string c = std::to_string(classes);
  if (name == "softmax") return "flatten dense(" + c + ")";
  if (name == "mlp") {
    std::string text = "flatten";
    for (int h : hidden) text += " dense(" + std::to_string(h) + ") relu";
    return text + " dense(" + c + ")";
  }
  if (name == "lenet5")
    return "conv(6,5,pad=2) relu maxpool(2) conv(16,5) relu maxpool(2) flatten dense(120) relu dense(84) relu dense(" + c + ")";
  if (name == "cnn-small") return "conv(16,5) relu maxpool(2) conv(32,5) relu maxpool(2) flatten dense(128) relu dense(" + c + ")";
  if (name == "resnet8-gn") {
    const auto block = [](int ch, bool down) {
      const std::string w = std::to_string(ch);
      return "residual(conv(" + w + ",3," + (down ? "stride=2," : "") + "pad=1,bias=0) gn(8) relu conv(" + w +
             ",3,pad=1,bias=0) gn(8)) relu ";
    };
    return "conv(16,3,pad=1,bias=0) gn(8) relu " + block(16, false) + block(32, true) + block(64, true) + "gap dense(" + c + ")";
  }
  throw std::invalid_argument("unknown preset '" + std::string(name) + "' (presets: " + preset_names() + ")");
}

TensorShape parse_tensor_shape(std::string_view text) {
  std::vector<Eigen::Index> dims;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t x = std::min(text.find('x', start), text.size());
    long long v = 0;
    const auto [end, ec] = std::from_chars(text.data() + start, text.data() + x, v);
    if (ec != std::errc() || end != text.data() + x || v < 1 || v > (1ll << 31))
      throw std::invalid_argument("input-shape: '" + std::string(text) + "' is not CxHxW or N (positive whole numbers)");
    dims.push_back(static_cast<Eigen::Index>(v));
    start = x + 1;
  }
  if (dims.size() == 1) return {dims[0], 1, 1};
  if (dims.size() == 3) return {dims[0], dims[1], dims[2]};
  throw std::invalid_argument("input-shape: '" + std::string(text) + "' is not CxHxW or N");
}

}  // namespace decent
