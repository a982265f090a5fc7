// The recorder on real ranks, read back with the HDF5 C API (independently of the writer).
#include "decent/io/recorder.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "decent/topology/topology.hpp"

using namespace decent;

namespace {

std::string scratch_file(const Comm& comm, const std::string& name) {
  // One name for all ranks: rank 0's pid, broadcast.
  std::int64_t pid = ::getpid();
  comm.broadcast(std::span<std::int64_t>(&pid, 1), 0);
  return (std::filesystem::temp_directory_path() / ("decent_rec_" + std::to_string(pid) + "_" + name + ".h5")).string();
}

template <class T>
std::vector<T> read_all(hid_t file, const char* name, hid_t type, std::vector<hsize_t>* shape = nullptr) {
  const hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  REQUIRE(d >= 0);
  const hid_t space = H5Dget_space(d);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  hsize_t total = 1;
  for (hsize_t v : dims) total *= v;
  std::vector<T> out(total);
  if (total) REQUIRE(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
  H5Sclose(space);
  H5Dclose(d);
  if (shape) *shape = dims;
  return out;
}

std::int64_t int_attribute(hid_t file, const char* name) {
  const hid_t a = H5Aopen(file, name, H5P_DEFAULT);
  REQUIRE(a >= 0);
  std::int64_t v = -1;
  H5Aread(a, H5T_NATIVE_INT64, &v);
  H5Aclose(a);
  return v;
}

/// Node i's loss at step s is 100 s + i, so the table's layout is checkable cell by cell.
void record_run(Recorder& recorder, const Placement& placement, int rank, int steps, int eval_every) {
  const int first = placement.first(rank), count = placement.count(rank);
  for (int s = 0; s < steps; ++s) {
    std::vector<float> loss;
    for (int k = 0; k < count; ++k) loss.push_back(100.0f * s + static_cast<float>(first + k));
    recorder.record_step(s, 0.1 / (s + 1), loss, 1000u * static_cast<unsigned>(s), 0.5 * s);
    if ((s + 1) % eval_every == 0) {
      std::vector<double> local_loss, local_acc, distance;
      for (int k = 0; k < count; ++k) {
        local_loss.push_back(s + 0.25 * (first + k));
        local_acc.push_back(0.5 + 0.01 * (first + k));
        distance.push_back(1.0 / (first + k + 1));
      }
      recorder.record_eval({s, 0.5 * s, 0.9, local_loss, local_acc, 2.0 * s, distance});
    }
  }
}

}  // namespace

TEST_CASE("a recorded run reads back with every value in place", "[io]") {
  const Comm world = Comm::world();
  const int n = 7, steps = 10;
  const Placement placement(n, world.size());
  const std::string path = scratch_file(world, "complete");
  {
    Recorder recorder(world, placement, path, {"nodes = 7\n", "decent-train --nodes 7", 42});
    recorder.write_topology(*make_topology("ring", n));
    const std::vector<std::int64_t> comm_steps{0, 1, 2};
    const std::vector<std::int32_t> rounds{1, 1, 2};
    const std::vector<std::int64_t> merges{9};
    recorder.write_schedule(comm_steps, rounds, merges, "test schedule");
    record_run(recorder, placement, world.rank(), steps, 4);
    const std::vector<float> merged{1.5f, -2.5f};
    recorder.finish(merged);
  }
  world.barrier();
  if (world.rank() == 0) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(file >= 0);
    CHECK(int_attribute(file, "finished") == 1);
    CHECK(int_attribute(file, "n_nodes") == n);
    CHECK(int_attribute(file, "n_ranks") == world.size());
    CHECK(int_attribute(file, "seed") == 42);
    std::vector<hsize_t> shape;
    const auto loss = read_all<float>(file, "/train/loss", H5T_NATIVE_FLOAT, &shape);
    REQUIRE(shape == std::vector<hsize_t>{steps, n});
    for (int s = 0; s < steps; ++s)
      for (int i = 0; i < n; ++i) CHECK(loss[static_cast<std::size_t>(s * n + i)] == 100.0f * s + i);
    CHECK(read_all<std::int64_t>(file, "/train/step", H5T_NATIVE_INT64) == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(read_all<double>(file, "/train/lr", H5T_NATIVE_DOUBLE)[3] == Approx(0.025));
    CHECK(read_all<std::uint64_t>(file, "/train/bytes_sent", H5T_NATIVE_UINT64)[9] == 9000u);
    CHECK(read_all<std::int64_t>(file, "/eval/step", H5T_NATIVE_INT64) == std::vector<std::int64_t>{3, 7});
    const auto local = read_all<double>(file, "/eval/local_loss", H5T_NATIVE_DOUBLE, &shape);
    REQUIRE(shape == std::vector<hsize_t>{2, n});
    CHECK(local[static_cast<std::size_t>(n + 6)] == Approx(7 + 0.25 * 6));
    CHECK(read_all<double>(file, "/eval/consensus_distance", H5T_NATIVE_DOUBLE) == std::vector<double>{6.0, 14.0});
    CHECK(read_all<double>(file, "/eval/distance_to_mean", H5T_NATIVE_DOUBLE)[static_cast<std::size_t>(n + 3)] == Approx(0.25));
    CHECK(read_all<float>(file, "/final/merged_params", H5T_NATIVE_FLOAT) == std::vector<float>{1.5f, -2.5f});
    const auto edges = read_all<std::int64_t>(file, "/topology/edges", H5T_NATIVE_INT64, &shape);
    CHECK(shape == std::vector<hsize_t>{3 * n, 2});  // ring: self + 2 neighbours per node
    CHECK(read_all<std::int32_t>(file, "/schedule/comm_rounds", H5T_NATIVE_INT32) == std::vector<std::int32_t>{1, 1, 2});
    H5Fclose(file);
    std::filesystem::remove(path);
  }
}

TEST_CASE("an interrupted run is readable up to its last eval and says finished = 0", "[io]") {
  const Comm world = Comm::world();
  const int n = 5;
  const Placement placement(n, world.size());
  const std::string path = scratch_file(world, "unfinished");
  {
    Recorder recorder(world, placement, path, {"", "", 1});
    recorder.set_write_budget(0);  // every eval reaches the disk
    record_run(recorder, placement, world.rank(), 6, 4);  // eval after step 3; steps 4, 5 stay buffered
  }
  world.barrier();
  if (world.rank() == 0) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(file >= 0);
    CHECK(int_attribute(file, "finished") == 0);
    CHECK(read_all<std::int64_t>(file, "/train/step", H5T_NATIVE_INT64).size() == 4);
    H5Fclose(file);
    std::filesystem::remove(path);
  }
}

TEST_CASE("a file that cannot be created fails on every rank with HDF5's reason", "[io]") {
  const Comm world = Comm::world();
  CHECK_THROWS_WITH(Recorder(world, Placement(world.size(), world.size()), "/nonexistent-dir/run.h5", {"", "", 1}),
                    Catch::Contains("/nonexistent-dir/run.h5") && Catch::Contains("H5Fcreate"));
}
