#pragma once
/// @file Communicator with explicit ownership, typed nonblocking point-to-point and collectives.
#include <mpi.h>

#include <span>
#include <string>
#include <vector>

#include "decent/mpi/datatype.hpp"
#include "decent/mpi/error.hpp"
#include "decent/mpi/request.hpp"

namespace decent {

/// Reduction operations used by decent's collectives.
enum class ReduceOp { sum, min, max };

namespace detail {
/// The MPI_Op of a ReduceOp.
MPI_Op native(ReduceOp op) noexcept;
}

/// A communicator. Wrapping an existing MPI_Comm never frees it; communicators created by decent
/// (dup, split) are owned and freed on destruction. Move-only: copying is collective, so it is the
/// explicit dup(). Every call is checked and throws decent::mpi_error.
class Comm {
public:
  /// MPI_COMM_WORLD, not owned.
  static Comm world();
  /// MPI_COMM_SELF, not owned.
  static Comm self();
  /// Wraps a communicator owned by the caller (never freed here).
  static Comm wrap(MPI_Comm comm);

  Comm(Comm&& other) noexcept;
  Comm& operator=(Comm&& other) noexcept;
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;
  ~Comm();

  int rank() const { return rank_; }  ///< this process's rank in the communicator
  int size() const { return size_; }  ///< number of ranks
  MPI_Comm native() const noexcept { return comm_; }
  bool owned() const noexcept { return owned_; }

  /// A new owned communicator with the same group. Collective.
  Comm dup() const;
  /// Splits into owned sub-communicators by `color`, ordered by `key`. Collective.
  Comm split(int color, int key) const;

  /// MPI_Barrier. Collective.
  void barrier() const;

  /// In-place element-wise reduction over all ranks; every rank gets the result. Collective.
  template <class T>
  void allreduce(std::span<T> values, ReduceOp op) const {
    DECENT_MPI(MPI_Allreduce, MPI_IN_PLACE, values.data(), count(values.size()), mpi_datatype<T>(),
               detail::native(op), comm_);
  }
  /// Reduction of one value over all ranks. Collective.
  template <class T>
  T allreduce(T value, ReduceOp op) const {
    allreduce(std::span<T>(&value, 1), op);
    return value;
  }
  /// Broadcasts `values` from `root` to every rank (same size everywhere). Collective.
  template <class T>
  void broadcast(std::span<T> values, int root) const {
    DECENT_MPI(MPI_Bcast, values.data(), count(values.size()), mpi_datatype<T>(), root, comm_);
  }
  /// Gathers one value from every rank, in rank order, on every rank. Collective.
  template <class T>
  std::vector<T> allgather(T value) const {
    std::vector<T> all(static_cast<std::size_t>(size_));
    DECENT_MPI(MPI_Allgather, &value, 1, mpi_datatype<T>(), all.data(), 1, mpi_datatype<T>(), comm_);
    return all;
  }

  /// Concatenates every rank's `values` (sizes may differ) in rank order on `root`; other ranks get an
  /// empty vector. Collective.
  template <class T>
  std::vector<T> gatherv(std::span<const T> values, int root) const {
    const int mine = count(values.size());
    std::vector<int> counts(rank_ == root ? static_cast<std::size_t>(size_) : 0), offsets(counts.size());
    DECENT_MPI(MPI_Gather, &mine, 1, MPI_INT, counts.data(), 1, MPI_INT, root, comm_);
    std::vector<T> all;
    if (rank_ == root) {
      long total = 0;
      for (std::size_t r = 0; r < counts.size(); ++r) {
        offsets[r] = static_cast<int>(total);
        total += counts[r];
      }
      all.resize(static_cast<std::size_t>(total));
    }
    DECENT_MPI(MPI_Gatherv, values.data(), mine, mpi_datatype<T>(), all.data(), counts.data(), offsets.data(),
               mpi_datatype<T>(), root, comm_);
    return all;
  }

  /// Concatenates every rank's `values` (sizes may differ) in rank order on every rank. Collective.
  template <class T>
  std::vector<T> allgatherv(std::span<const T> values) const {
    const std::vector<int> counts = allgather(count(values.size()));
    std::vector<int> offsets(counts.size());
    long total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      offsets[r] = count(static_cast<std::size_t>(total));
      total += counts[r];
    }
    std::vector<T> all(static_cast<std::size_t>(total));
    DECENT_MPI(MPI_Allgatherv, values.data(), counts[static_cast<std::size_t>(rank_)], mpi_datatype<T>(), all.data(),
               counts.data(), offsets.data(), mpi_datatype<T>(), comm_);
    return all;
  }

  /// Starts sending `values` to `dest`; the buffer must stay alive and unchanged until completion.
  template <class T>
  [[nodiscard]] Request isend(std::span<const T> values, int dest, int tag) const {
    MPI_Request r;
    DECENT_MPI(MPI_Isend, values.data(), count(values.size()), mpi_datatype<T>(), dest, tag, comm_, &r);
    return Request(r);
  }
  /// Starts receiving exactly values.size() elements from `source` into `values`.
  template <class T>
  [[nodiscard]] Request irecv(std::span<T> values, int source, int tag) const {
    MPI_Request r;
    DECENT_MPI(MPI_Irecv, values.data(), count(values.size()), mpi_datatype<T>(), source, tag, comm_, &r);
    return Request(r);
  }
  /// Starts sending one element of a derived datatype `type` starting at `base` (no packing copy).
  [[nodiscard]] Request isend(const void* base, MPI_Datatype type, int dest, int tag) const;
  /// Blocking send / receive of a typed buffer.
  template <class T>
  void send(std::span<const T> values, int dest, int tag) const {
    DECENT_MPI(MPI_Send, values.data(), count(values.size()), mpi_datatype<T>(), dest, tag, comm_);
  }
  template <class T>
  void recv(std::span<T> values, int source, int tag) const {
    DECENT_MPI(MPI_Recv, values.data(), count(values.size()), mpi_datatype<T>(), source, tag, comm_,
               MPI_STATUS_IGNORE);
  }

private:
  Comm(MPI_Comm comm, bool owned);
  /// Element counts are int in MPI 3; larger messages are a usage error, not a silent wrap-around.
  static int count(std::size_t n);
  void free() noexcept;

  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owned_ = false;
  int rank_ = 0;
  int size_ = 0;
};

}  // namespace decent
