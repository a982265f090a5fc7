// Private: how the ranks of a training loop agree to stop on a signal (a stop flag set asynchronously,
// e.g. by a SIGTERM handler), without a blocking collective at every step.
#pragma once

#include <csignal>
#include <optional>

#include <mpi.h>

#include "decent/mpi/comm.hpp"

namespace decent::detail {

/// A non-blocking agreement: each call completes the previous all-reduce of the ranks' flags and posts the
/// next, so a flag set on any rank stops every rank at the same call. Without a flag it never agrees.
class StopAgreement {
public:
  /// Watches `flag` (nullptr: never stop) on a duplicate of `comm`. Collective when flag is set.
  StopAgreement(const Comm& comm, const volatile std::sig_atomic_t* flag) : flag_(flag) {
    if (flag_) comm_ = comm.dup();
  }
  /// An agreement still in flight (an exception left the loop) is completed: every rank posted it.
  ~StopAgreement() { finish(); }
  StopAgreement(const StopAgreement&) = delete;
  StopAgreement& operator=(const StopAgreement&) = delete;

  /// Collective (when a flag is watched): true if some rank's flag was set when the previous agreement was
  /// posted; posts the next one otherwise. Every rank must call it at the same points.
  bool agreed() {
    if (!flag_) return false;
    if (request_ != MPI_REQUEST_NULL) {
      DECENT_MPI(MPI_Wait, &request_, MPI_STATUS_IGNORE);
      if (any_ != 0) return true;
    }
    mine_ = *flag_ != 0 ? 1 : 0;
    DECENT_MPI(MPI_Iallreduce, &mine_, &any_, 1, MPI_INT, MPI_MAX, comm_->native(), &request_);
    return false;
  }
  /// Completes an agreement in flight (at the end of a run).
  void finish() noexcept {
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }

private:
  const volatile std::sig_atomic_t* flag_;
  std::optional<Comm> comm_;
  MPI_Request request_ = MPI_REQUEST_NULL;
  int mine_ = 0, any_ = 0;
};

}  // namespace decent::detail
