#pragma once
/// @file What every benchmark in bench/ shares: timing, medians, peak memory, option parsing and the
/// machine-readable result lines that bench/run_all collects.
///
/// A result line is one JSON object on stdout, starting with `{"bench":`, for example
///   {"bench":"P1","case":"gossip_round","d":1000000,"unit":"s","median":0.0012,"repeats":7,"samples":[...]}
/// Everything else a benchmark prints is for people.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace decent::bench {

/// Seconds on a monotonic clock.
inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Mean seconds per call of `op` over k back-to-back calls.
template <class Op>
double mean_seconds(int k, Op&& op) {
  const double start = now();
  for (int i = 0; i < k; ++i) op();
  return (now() - start) / k;
}

/// The median of the samples (the mean of the middle two for an even count).
inline double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

/// Peak resident set size of this process in bytes (VmHWM of /proc/self/status), 0 if unknown.
inline double peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return 1024.0 * std::stod(line.substr(6));  // "VmHWM:  123456 kB"
  return 0;
}

/// Current resident set size of this process in bytes (VmRSS), 0 if unknown.
inline double current_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return 1024.0 * std::stod(line.substr(6));
  return 0;
}

/// Resets VmHWM to the current RSS (Linux: "5" to /proc/self/clear_refs); false if that is not possible.
inline bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

/// Command-line options of the form `--key value` after a sub-command; unknown keys are an error.
class Options {
public:
  Options(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      const std::string key = argv[i];
      if (key.rfind("--", 0) != 0 || i + 1 >= argc) throw std::invalid_argument("expected --key value, got '" + key + "'");
      values_[key.substr(2)] = argv[++i];
    }
  }
  std::string text(const std::string& key, const std::string& fallback) {
    used_.push_back(key);
    const auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }
  double number(const std::string& key, double fallback) {
    const std::string t = text(key, "");
    return t.empty() ? fallback : std::stod(t);
  }
  /// A comma list of numbers, e.g. "1e6,1e7".
  std::vector<double> numbers(const std::string& key, const std::string& fallback) {
    std::vector<double> out;
    std::stringstream in(text(key, fallback));
    std::string item;
    while (std::getline(in, item, ',')) out.push_back(std::stod(item));
    return out;
  }
  std::vector<std::string> words(const std::string& key, const std::string& fallback) {
    std::vector<std::string> out;
    std::stringstream in(text(key, fallback));
    std::string item;
    while (std::getline(in, item, ',')) out.push_back(item);
    return out;
  }
  /// Throws if an option was given that no text()/number() call asked for.
  void check_all_used() const {
    for (const auto& [key, value] : values_)
      if (std::find(used_.begin(), used_.end(), key) == used_.end())
        throw std::invalid_argument("unknown option --" + key);
  }

private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> used_;
};

/// Builds one result line: `Line("P1", "gossip_round").field("d", 1e6).samples("s", v).print()`.
class Line {
public:
  Line(const std::string& bench, const std::string& name) {
    text_ << "{\"bench\":\"" << bench << "\",\"case\":\"" << name << "\"";
  }
  Line& field(const std::string& key, double value) {
    text_ << ",\"" << key << "\":" << number(value);
    return *this;
  }
  Line& field(const std::string& key, const std::string& value) {
    text_ << ",\"" << key << "\":\"" << value << "\"";
    return *this;
  }
  /// The median of `values` under "median", their unit, count and every sample.
  Line& samples(const std::string& unit, const std::vector<double>& values) {
    text_ << ",\"unit\":\"" << unit << "\",\"median\":" << number(median(values)) << ",\"repeats\":" << values.size()
          << ",\"samples\":[";
    for (std::size_t i = 0; i < values.size(); ++i) text_ << (i ? "," : "") << number(values[i]);
    text_ << "]";
    return *this;
  }
  void print() {
    std::printf("%s}\n", text_.str().c_str());
    std::fflush(stdout);
  }

private:
  static std::string number(double v) {
    if (!std::isfinite(v)) return "null";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", v);
    return buffer;
  }
  std::ostringstream text_;
};

}  // namespace decent::bench
