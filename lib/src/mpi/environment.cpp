#include "decent/mpi/environment.hpp"

#include <cstdlib>

#include "decent/mpi/error.hpp"

namespace decent {

Environment::Environment(int& argc, char**& argv, ThreadLevel level) { init(&argc, &argv, level); }

Environment::Environment(ThreadLevel level) { init(nullptr, nullptr, level); }

void Environment::init(int* argc, char*** argv, ThreadLevel level) {
  int initialized = 0;
  DECENT_MPI(MPI_Initialized, &initialized);
  int provided = 0;
  if (initialized) {
    DECENT_MPI(MPI_Query_thread, &provided);
  } else {
    // MPI_Init_thread cannot report through an error handler yet: MPI aborts by itself on failure.
    DECENT_MPI(MPI_Init_thread, argc, argv, static_cast<int>(level), &provided);
    owns_ = true;
  }
  provided_ = static_cast<ThreadLevel>(provided);
  DECENT_MPI(MPI_Comm_set_errhandler, MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  DECENT_MPI(MPI_Comm_set_errhandler, MPI_COMM_SELF, MPI_ERRORS_RETURN);
}

Environment::~Environment() {
  if (owns_ && active()) MPI_Finalize();  // never throws: a failing finalize has nobody to tell
}

bool Environment::active() noexcept {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

void Environment::abort(int code) noexcept {
  if (active()) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace decent
