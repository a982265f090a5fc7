#pragma once
/// @file Checkpoints: one HDF5 file with a run's complete state, written atomically (docs/reliability.md).
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "decent/core/error.hpp"
#include "decent/mpi/comm.hpp"
#include "decent/placement/placement.hpp"

namespace decent {

/// A checkpoint cannot be written, read or used; what() names the file and the problem.
class checkpoint_error : public input_error {
public:
  using input_error::input_error;
};

/// Writes a checkpoint to `path` + ".tmp" and renames it to `path` on commit(), so `path` always holds
/// a complete checkpoint (the previous one until the rename). Per-node arrays are gathered to rank 0 a
/// few rows at a time (memory: ranks x row), which writes them with the serial HDF5 driver. Every call
/// is collective over `comm`; a failure on rank 0 throws checkpoint_error on every rank.
class CheckpointWriter {
public:
  CheckpointWriter(const Comm& comm, const Placement& placement, std::string path);
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  /// Root attributes; rank 0's value is written.
  void attribute(const std::string& name, const std::string& value);
  void attribute(const std::string& name, std::int64_t value);
  void attribute(const std::string& name, double value);
  /// Dataset `name` of shape [nodes, width]: `local` holds this rank's nodes' rows, node-major.
  template <class T>
  void node_rows(const std::string& name, std::size_t width, std::span<const T> local);
  /// Dataset `name` holding `values`, which are the same on every rank (rank 0's are written).
  template <class T>
  void shared(const std::string& name, std::span<const T> values);
  /// Flushes and syncs the file, then renames it to the final path.
  void commit();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads a checkpoint on every rank that constructs one (read-only, serial HDF5: concurrent readers are
/// safe). Throws checkpoint_error, naming the file, if it cannot be opened or an item is missing or has
/// another shape.
class CheckpointReader {
public:
  CheckpointReader(std::string path, int nodes);
  ~CheckpointReader();
  CheckpointReader(const CheckpointReader&) = delete;
  CheckpointReader& operator=(const CheckpointReader&) = delete;

  const std::string& path() const noexcept;
  bool has(const std::string& name) const;
  std::string string_attribute(const std::string& name) const;
  std::int64_t int_attribute(const std::string& name) const;
  double double_attribute(const std::string& name) const;
  /// Row `node` of the [nodes, width] dataset `name`; `width` must match the file.
  template <class T>
  std::vector<T> node_row(const std::string& name, int node, std::size_t width) const;
  /// The whole dataset `name` written by CheckpointWriter::shared.
  template <class T>
  std::vector<T> shared(const std::string& name) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace decent
