#include "decent/algo/availability.hpp"
#include "core/number_text.hpp"
#include "core/text_lines.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "decent/core/error.hpp"

namespace decent {

using detail::number_text;
using detail::shown;

namespace {

/// The interval's text as a message quotes it: "[2, 7)".
std::string interval_text(const OnInterval& on) {
  return "[" + number_text(on.start) + ", " + number_text(on.end) + ")";
}

/// A time token: a finite number >= 0, or (for an end) `inf`.
double parse_time(std::string_view token, bool may_be_infinite, const detail::FileLine<input_error>& at,
                  const char* what) {
  if (may_be_infinite && (token == "inf" || token == "infinity")) return std::numeric_limits<double>::infinity();
  double value = 0;
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  if (ec != std::errc{} || ptr != end || !std::isfinite(value))
    at.fail(std::string(what) + " '" + shown(token) + "' is not a finite number" + (may_be_infinite ? " or inf" : ""));
  if (value < 0) at.fail(std::string(what) + " " + number_text(value) + " is negative (virtual time starts at 0)");
  return value;
}

}  // namespace

Availability::Availability(std::vector<std::vector<OnInterval>> intervals) : intervals_(std::move(intervals)) {
  for (std::size_t i = 0; i < intervals_.size(); ++i) {
    const std::vector<OnInterval>& list = intervals_[i];
    for (std::size_t j = 0; j < list.size(); ++j) {
      const OnInterval& on = list[j];
      if (!(on.start >= 0 && std::isfinite(on.start) && on.end > on.start))
        throw std::invalid_argument("availability: client " + std::to_string(i) + "'s interval " +
                                    interval_text(on) + " is not a non-empty interval in [0, inf)");
      if (j > 0 && on.start < list[j - 1].end)
        throw std::invalid_argument("availability: client " + std::to_string(i) + "'s intervals " +
                                    interval_text(list[j - 1]) + " and " + interval_text(on) +
                                    " overlap or are not sorted");
    }
  }
}

const OnInterval* Availability::interval_at(int client, double t) const {
  const std::vector<OnInterval>& list = intervals_.at(static_cast<std::size_t>(client));
  // The last interval starting at or before t.
  const auto after = std::upper_bound(list.begin(), list.end(), t,
                                      [](double time, const OnInterval& on) { return time < on.start; });
  if (after == list.begin()) return nullptr;
  const OnInterval& on = *(after - 1);
  return t < on.end ? &on : nullptr;
}

bool Availability::online(int client, double t) const {
  if (always() || intervals_.at(static_cast<std::size_t>(client)).empty()) return true;
  return interval_at(client, t) != nullptr;
}

bool Availability::online_throughout(int client, double t0, double t1) const {
  if (always() || intervals_.at(static_cast<std::size_t>(client)).empty()) return true;
  const OnInterval* on = interval_at(client, t0);
  return on != nullptr && t1 <= on->end;
}

double Availability::next_online(int client, double t) const {
  if (online(client, t)) return t;
  for (const OnInterval& on : intervals_.at(static_cast<std::size_t>(client)))
    if (on.start > t) return on.start;
  return std::numeric_limits<double>::infinity();
}

std::vector<int> Availability::online_at(int clients, double t) const {
  std::vector<int> out;
  for (int i = 0; i < clients; ++i)
    if (online(i, t)) out.push_back(i);
  return out;
}

std::string describe(const Availability& a) {
  if (a.always()) return "every client always online";
  int traced = 0;
  for (const std::vector<OnInterval>& on : a.intervals()) traced += on.empty() ? 0 : 1;
  return (a.source().empty() ? std::string("a trace") : a.source()) + ": on-intervals of " + std::to_string(traced) +
         " of the " + std::to_string(a.clients()) + " clients (the others always online)";
}

Availability parse_availability(std::istream& in, const std::string& name, int clients) {
  if (clients < 1) throw input_error("availability: needs at least one client");
  std::vector<std::vector<OnInterval>> intervals(static_cast<std::size_t>(clients));
  std::vector<std::vector<long long>> lines(static_cast<std::size_t>(clients));  // where each interval was
  std::vector<std::string_view> tokens;
  std::string text;
  detail::FileLine<input_error> at{name, 0};
  long long entries = 0;
  while (std::getline(in, text)) {
    ++at.line;
    detail::split_tokens(text, tokens);
    if (tokens.empty()) continue;
    if (tokens.size() != 3)
      at.fail("expected 'CLIENT START END' (an on-interval [START, END) of a client), got " +
              std::to_string(tokens.size()) + " fields");
    long long client = 0;
    const char* end = tokens[0].data() + tokens[0].size();
    const auto [ptr, ec] = std::from_chars(tokens[0].data(), end, client);
    if (ec != std::errc{} || ptr != end) at.fail("client '" + shown(tokens[0]) + "' is not an integer");
    if (client < 0 || client >= clients)
      at.fail("client " + std::to_string(client) + " is not one of the run's clients 0.." +
              std::to_string(clients - 1));
    OnInterval on;
    on.start = parse_time(tokens[1], false, at, "start");
    on.end = parse_time(tokens[2], true, at, "end");
    if (!(on.end > on.start))
      at.fail("interval " + interval_text(on) + " is empty: END must be larger than START");
    intervals[static_cast<std::size_t>(client)].push_back(on);
    lines[static_cast<std::size_t>(client)].push_back(at.line);
    ++entries;
  }
  if (in.bad()) throw input_error(name + ":" + std::to_string(at.line + 1) + ": read error");
  if (entries == 0) throw input_error(name + ": holds no interval (expected lines 'CLIENT START END')");
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    std::vector<std::size_t> order(intervals[i].size());
    for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return intervals[i][a].start < intervals[i][b].start; });
    std::vector<OnInterval> sorted;
    for (std::size_t j = 0; j < order.size(); ++j) {
      const OnInterval& on = intervals[i][order[j]];
      if (j > 0 && on.start < sorted.back().end) {
        const detail::FileLine<input_error> here{name, lines[i][order[j]]};
        here.fail("client " + std::to_string(i) + "'s interval " + interval_text(on) + " overlaps its interval " +
                  interval_text(sorted.back()) + " of line " + std::to_string(lines[i][order[j - 1]]));
      }
      sorted.push_back(on);
    }
    intervals[i] = std::move(sorted);
  }
  Availability result(std::move(intervals));
  result.set_source(name);
  return result;
}

Availability read_availability(const std::string& path, int clients) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored))
    throw input_error("availability: " + path + ": cannot open file: is a directory");
  std::ifstream in(path);
  if (!in) throw input_error("availability: " + path + ": cannot open file: " + std::strerror(errno));
  return parse_availability(in, path, clients);
}

}  // namespace decent
