#pragma once
// How the MPI drivers end after an error (docs/reliability.md). Bad configuration or input is the same
// on every rank, so normally every rank fails alike and rank 0 alone prints one line (exit 2). A rank
// that fails alone must not leave the others waiting in a collective: it prints and ends the job.
#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <thread>

#include "decent/mpi/comm.hpp"
#include "decent/mpi/environment.hpp"
#include "decent/mpi/error.hpp"

namespace decent::driver {

/// Exit code for bad configuration or input.
inline constexpr int exit_bad_input = 2;
/// How long a rank that failed on bad input waits for the others to fail alike.
inline constexpr double agree_seconds = 5.0;

/// Waits up to `seconds` for every rank of `errors` to call this too; `errors` must be a communicator
/// used for nothing else, so a rank blocked in a collective elsewhere is told apart from one that
/// arrived. True if all ranks arrived. Collective on `errors` (with a deadline).
inline bool all_ranks_arrive(const Comm& errors, double seconds) {
  MPI_Request request = MPI_REQUEST_NULL;
  DECENT_MPI(MPI_Ibarrier, errors.native(), &request);
  const double start = MPI_Wtime();
  for (int done = 0;;) {
    DECENT_MPI(MPI_Test, &request, &done, MPI_STATUS_IGNORE);
    if (done) return true;
    if (MPI_Wtime() - start > seconds) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

/// After bad configuration or input on this rank: if every rank failed alike, rank 0 prints
/// "TOOL: error: WHAT" and exit_bad_input is returned; otherwise this rank prints its own line and ends
/// the job with MPI_Abort(exit_bad_input).
inline int bad_input(const std::string& tool, const std::exception& e, const Comm& errors) {
  if (all_ranks_arrive(errors, agree_seconds)) {
    if (errors.rank() == 0) std::cerr << tool << ": error: " << e.what() << "\n";
    return exit_bad_input;
  }
  std::cerr << tool << ": error on rank " << errors.rank() << " only: " << e.what() << "\n";
  Environment::abort(exit_bad_input);
}

/// Any other error is this rank's own while the others may wait in a collective: print one line naming
/// the rank and end the job with MPI_Abort(1).
[[noreturn]] inline void rank_failure(const std::string& tool, const std::exception& e, int rank) {
  std::cerr << tool << ": error on rank " << rank << ": " << e.what() << "\n";
  Environment::abort(1);
}

}  // namespace decent::driver
