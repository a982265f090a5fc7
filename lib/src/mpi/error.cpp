#include "decent/mpi/error.hpp"

namespace decent {
namespace {

std::string error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "unknown MPI error";
  return std::string(text, static_cast<std::size_t>(length));
}

int world_rank() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  int rank = -1;
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

}  // namespace

mpi_error::mpi_error(std::string function, int code)
    : std::runtime_error(function + " failed on rank " + std::to_string(world_rank()) + " (code " +
                         std::to_string(code) + "): " + error_string(code)),
      function_(std::move(function)),
      code_(code),
      rank_(world_rank()) {}

}  // namespace decent
