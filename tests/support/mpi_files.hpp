#pragma once
// Shared by the MPI tests: a scratch HDF5 path every rank agrees on, and a whole dataset read as doubles.
#include <hdf5.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "decent/mpi/comm.hpp"

namespace decent::test {

/// TMPDIR/decent_PREFIX_PID_NAME.h5 with rank 0's process id, so every rank names the same file. Collective.
inline std::string scratch_h5(const Comm& comm, const std::string& prefix, const std::string& name) {
  std::int64_t pid = ::getpid();
  comm.broadcast(std::span<std::int64_t>(&pid, 1), 0);
  return (std::filesystem::temp_directory_path() /
          ("decent_" + prefix + "_" + std::to_string(pid) + "_" + name + ".h5")).string();
}

/// Every value of dataset `name` in `path`, converted to double (the test fails if it cannot be opened).
inline std::vector<double> read_doubles(const std::string& path, const char* name) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  REQUIRE(d >= 0);
  const hid_t space = H5Dget_space(d);
  std::vector<double> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(file);
  return out;
}

}  // namespace decent::test
