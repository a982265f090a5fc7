#pragma once
// Private: run a write on rank 0 and make its failure every rank's failure (recorder, checkpoints).
#include <span>
#include <stdexcept>
#include <string>

#include "decent/mpi/comm.hpp"

namespace decent::detail {

/// Runs `write` on rank 0; if it throws, every rank throws Error with its message, so no rank carries on
/// alone. Collective over `comm`.
template <class Error = std::runtime_error, class Write>
void on_root(const Comm& comm, Write&& write) {
  std::string failure;
  if (comm.rank() == 0) {
    try {
      write();
    } catch (const std::exception& e) {
      failure = e.what();
      if (failure.empty()) failure = "unknown error";
    }
  }
  int length = static_cast<int>(failure.size());
  comm.broadcast(std::span<int>(&length, 1), 0);
  if (length == 0) return;
  failure.resize(static_cast<std::size_t>(length));
  comm.broadcast(std::span<char>(failure.data(), failure.size()), 0);
  throw Error(failure);
}

}  // namespace decent::detail
