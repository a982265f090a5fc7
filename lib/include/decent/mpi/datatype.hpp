#pragma once
/// @file The MPI datatype of a C++ arithmetic type, resolved at compile time.
#include <mpi.h>

#include <cstdint>
#include <type_traits>

namespace decent {

/// True for the types decent's typed communication accepts.
template <class T>
inline constexpr bool is_mpi_type_v =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, char> ||
    std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t> ||
    std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::uint32_t> ||
    std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t>;

/// MPI_Datatype for T (float -> MPI_FLOAT, std::int64_t -> MPI_INT64_T, ...).
template <class T>
MPI_Datatype mpi_datatype() {
  static_assert(is_mpi_type_v<T>, "decent: no MPI datatype for this type");
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, char>) return MPI_CHAR;
  else if constexpr (std::is_same_v<T, std::int8_t>) return MPI_INT8_T;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return MPI_UINT8_T;
  else if constexpr (std::is_same_v<T, std::int32_t>) return MPI_INT32_T;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return MPI_UINT32_T;
  else if constexpr (std::is_same_v<T, std::int64_t>) return MPI_INT64_T;
  else return MPI_UINT64_T;
}

}  // namespace decent
