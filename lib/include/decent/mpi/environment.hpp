#pragma once
/// @file The MPI environment as an RAII object: the first thing in every driver's main.
#include <mpi.h>

namespace decent {

/// Thread support requested from MPI_Init_thread.
enum class ThreadLevel { single = MPI_THREAD_SINGLE, funneled = MPI_THREAD_FUNNELED,
                         serialized = MPI_THREAD_SERIALIZED, multiple = MPI_THREAD_MULTIPLE };

/// Initializes MPI on construction and finalizes it on destruction, unless MPI was already
/// initialized by the caller (decent inside someone else's solver), in which case it does neither.
/// Sets MPI_ERRORS_RETURN on MPI_COMM_WORLD and MPI_COMM_SELF so failures become decent::mpi_error.
/// Collective over MPI_COMM_WORLD.
class Environment {
public:
  Environment(int& argc, char**& argv, ThreadLevel level = ThreadLevel::single);
  /// Initializes without command-line arguments.
  explicit Environment(ThreadLevel level = ThreadLevel::single);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  /// The thread level MPI actually provides.
  ThreadLevel provided() const noexcept { return provided_; }
  /// True while MPI is initialized and not yet finalized.
  static bool active() noexcept;
  /// Calls MPI_Abort on MPI_COMM_WORLD with `code`: ends every rank of the job.
  [[noreturn]] static void abort(int code) noexcept;

private:
  void init(int* argc, char*** argv, ThreadLevel level);
  bool owns_ = false;
  ThreadLevel provided_ = ThreadLevel::single;
};

}  // namespace decent
