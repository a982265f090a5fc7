#pragma once
/// @file Errors from MPI calls as exceptions, and the one macro every raw MPI call goes through.
#include <mpi.h>

#include <stdexcept>
#include <string>

namespace decent {

/// An MPI call that returned an error: carries the MPI function's name, its error code, MPI's own
/// error string and the calling rank in MPI_COMM_WORLD (-1 when MPI is not initialized).
class mpi_error : public std::runtime_error {
public:
  mpi_error(std::string function, int code);

  const std::string& function() const noexcept { return function_; }  ///< e.g. "MPI_Isend"
  int code() const noexcept { return code_; }                         ///< the MPI error code
  int rank() const noexcept { return rank_; }                         ///< world rank that failed

private:
  std::string function_;
  int code_;
  int rank_;
};

namespace detail {
/// Throws mpi_error when `code` is not MPI_SUCCESS.
inline void mpi_check(int code, const char* function) {
  if (code != MPI_SUCCESS) throw mpi_error(function, code);
}
}  // namespace detail

}  // namespace decent

/// Calls the MPI function `fn` with the given arguments and throws decent::mpi_error on failure.
#define DECENT_MPI(fn, ...) ::decent::detail::mpi_check(fn(__VA_ARGS__), #fn)
