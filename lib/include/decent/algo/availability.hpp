#pragma once
/// @file When each federated client is online (`availability = FILE`, docs/federated.md#availability): per
/// client a set of disjoint on-intervals [start, end) in virtual time; a client the trace does not name is
/// always online. A round offers its model only to clients online at its start, and a client that goes
/// offline before its job ends does not return.
#include <istream>
#include <limits>
#include <string>
#include <vector>

namespace decent {

/// An on-interval [start, end) of one client, in virtual time; end may be +infinity.
struct OnInterval {
  double start = 0;
  double end = std::numeric_limits<double>::infinity();
};

/// The on-intervals of every client (empty: no trace, every client always online).
class Availability {
public:
  /// No trace: everyone is always online.
  Availability() = default;
  /// One list per client, each sorted by start and disjoint (touching is allowed); an empty list means the
  /// client is always online. Throws std::invalid_argument for unsorted, overlapping or invalid intervals.
  explicit Availability(std::vector<std::vector<OnInterval>> intervals);

  /// True if there is no trace (every client always online).
  bool always() const noexcept { return intervals_.empty(); }
  /// Number of clients the trace covers (0 without a trace).
  int clients() const noexcept { return static_cast<int>(intervals_.size()); }
  /// True if client i is online at time t.
  bool online(int client, double t) const;
  /// True if client i is online during all of [t0, t1] (a job started at t0 that ends at t1 returns).
  bool online_throughout(int client, double t0, double t1) const;
  /// The earliest time >= t at which client i is online (+infinity if never again).
  double next_online(int client, double t) const;
  /// The clients online at time t, ascending (0..clients-1 for `clients` without a trace).
  std::vector<int> online_at(int clients, double t) const;
  /// The file it was read from ("" if built from lists), for messages and run headers.
  const std::string& source() const noexcept { return source_; }
  /// Records the file it was read from.
  void set_source(std::string path) { source_ = std::move(path); }
  /// Each client's intervals.
  const std::vector<std::vector<OnInterval>>& intervals() const noexcept { return intervals_; }

private:
  const OnInterval* interval_at(int client, double t) const;

  std::vector<std::vector<OnInterval>> intervals_;
  std::string source_;
};

/// One phrase for run headers: "FILE: on-intervals of K of the N clients (the others always online)", or
/// "every client always online" without a trace.
std::string describe(const Availability& availability);

/// Reads a trace for `clients` clients: one on-interval per line, `CLIENT START END` (END may be `inf`),
/// '#' starts a comment, lines in any order. decent::input_error "FILE:LINE: ..." for a malformed line, an
/// unknown client, a negative or empty interval, or two intervals of a client that overlap.
Availability read_availability(const std::string& path, int clients);
/// The same from a stream; `name` stands for the file in messages.
Availability parse_availability(std::istream& in, const std::string& name, int clients);

}  // namespace decent
