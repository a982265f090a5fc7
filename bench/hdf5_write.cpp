// Gathered (decent::Recorder: MPI_Gatherv to rank 0, serial HDF5 there) against collective parallel HDF5
// (MPI-IO; every rank writes its own nodes' columns) for the records a training run writes: per-step
// losses [T, n] plus per-eval rows, flushed at every eval. Run under mpiexec; prints medians and the ratio.
//   mpiexec -n 4 bench/decent-bench-hdf5 [nodes] [steps] [eval_every] [repeats]
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "decent/io/recorder.hpp"
#include "decent/mpi/environment.hpp"

using namespace decent;

namespace {

void check(long long status, const char* what) {
  if (status < 0) throw std::runtime_error(std::string("HDF5 call failed: ") + what);
}

double gathered(const Comm& comm, const Placement& p, const std::string& path, int steps, int eval_every) {
  comm.barrier();
  const double start = MPI_Wtime();
  {
    Recorder recorder(comm, p, path, {"", "bench", 1});
    const int count = p.count(comm.rank());
    std::vector<float> loss(static_cast<std::size_t>(count), 0.5f);
    std::vector<double> local(static_cast<std::size_t>(count), 0.25);
    for (int t = 0; t < steps; ++t) {
      recorder.record_step(t, 0.1, loss, 1000, 0.01 * t);
      if ((t + 1) % eval_every == 0) recorder.record_eval({t, 0.5, 0.9, local, local, 1.0, local});
    }
    std::vector<float> params(1000, 1.0f);
    recorder.finish(params);
  }
  comm.barrier();
  return MPI_Wtime() - start;
}

/// The same records with collective parallel HDF5: every rank writes its column block of each row batch.
double parallel(const Comm& comm, const Placement& p, const std::string& path, int steps, int eval_every) {
  comm.barrier();
  const double start = MPI_Wtime();
  const hsize_t n = static_cast<hsize_t>(p.nodes());
  const hsize_t first = static_cast<hsize_t>(p.first(comm.rank())), count = static_cast<hsize_t>(p.count(comm.rank()));
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  check(H5Pset_fapl_mpio(fapl, comm.native(), MPI_INFO_NULL), "fapl_mpio");
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  check(file, "H5Fcreate");
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  check(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE), "dxpl_mpio");
  // Two extendible datasets stand for all: the [T, n] losses and the [E, n] per-node eval rows; the 1-D
  // series (step, lr, bytes, wall, merged metrics) are written by every rank with the same values.
  auto make = [&](const char* name, hsize_t chunk_rows) {
    hsize_t dims[2] = {0, n}, max[2] = {H5S_UNLIMITED, n}, chunk[2] = {chunk_rows, n};
    hid_t space = H5Screate_simple(2, dims, max);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    hid_t d = H5Dcreate2(file, name, H5T_NATIVE_FLOAT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    check(d, name);
    H5Pclose(dcpl);
    H5Sclose(space);
    return d;
  };
  auto make1 = [&](const char* name) {
    hsize_t dims[1] = {0}, max[1] = {H5S_UNLIMITED}, chunk[1] = {1024};
    hid_t space = H5Screate_simple(1, dims, max);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, chunk);
    hid_t d = H5Dcreate2(file, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    check(d, name);
    H5Pclose(dcpl);
    H5Sclose(space);
    return d;
  };
  hid_t losses = make("loss", std::max<hsize_t>(1, 4096 / n)), evals = make("local_acc", 64);
  std::vector<hid_t> series;
  for (const char* name : {"step", "lr", "bytes_sent", "wall_s", "eval_step", "merged_acc", "consensus"})
    series.push_back(make1(name));
  auto append = [&](hid_t d, hsize_t rows, const std::vector<float>& block) {
    hid_t space = H5Dget_space(d);
    hsize_t dims[2];
    H5Sget_simple_extent_dims(space, dims, nullptr);
    H5Sclose(space);
    const hsize_t at = dims[0];
    dims[0] += rows;
    check(H5Dset_extent(d, dims), "set_extent");
    hid_t file_space = H5Dget_space(d);
    hsize_t offset[2] = {at, first}, size[2] = {rows, count};
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, offset, nullptr, size, nullptr);
    hid_t memory = H5Screate_simple(2, size, nullptr);
    check(H5Dwrite(d, H5T_NATIVE_FLOAT, memory, file_space, dxpl, block.data()), "write");
    H5Sclose(memory);
    H5Sclose(file_space);
  };
  auto append1 = [&](hid_t d, hsize_t rows) {
    hid_t space = H5Dget_space(d);
    hsize_t dims[1];
    H5Sget_simple_extent_dims(space, dims, nullptr);
    H5Sclose(space);
    const hsize_t at = dims[0];
    dims[0] += rows;
    check(H5Dset_extent(d, dims), "set_extent");
    hid_t file_space = H5Dget_space(d);
    hsize_t offset[1] = {at}, size[1] = {rows};
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, offset, nullptr, size, nullptr);
    hid_t memory = H5Screate_simple(1, size, nullptr);
    std::vector<double> values(rows, 1.0);
    check(H5Dwrite(d, H5T_NATIVE_DOUBLE, memory, file_space, dxpl, values.data()), "write1");
    H5Sclose(memory);
    H5Sclose(file_space);
  };
  std::vector<float> buffered;
  int rows = 0;
  for (int t = 0; t < steps; ++t) {
    buffered.insert(buffered.end(), count, 0.5f);  // row-major: rows x count
    ++rows;
    if ((t + 1) % eval_every == 0) {
      append(losses, static_cast<hsize_t>(rows), buffered);
      for (int s = 0; s < 4; ++s) append1(series[static_cast<std::size_t>(s)], static_cast<hsize_t>(rows));
      append(evals, 1, std::vector<float>(count, 0.25f));
      for (int s = 4; s < 7; ++s) append1(series[static_cast<std::size_t>(s)], 1);
      check(H5Fflush(file, H5F_SCOPE_GLOBAL), "flush");
      buffered.clear();
      rows = 0;
    }
  }
  for (hid_t d : series) H5Dclose(d);
  H5Dclose(losses);
  H5Dclose(evals);
  H5Pclose(dxpl);
  H5Fclose(file);
  H5Pclose(fapl);
  comm.barrier();
  return MPI_Wtime() - start;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Environment environment(argc, argv);
  const Comm world = Comm::world();
  const int nodes = argc > 1 ? std::stoi(argv[1]) : 64;
  const int steps = argc > 2 ? std::stoi(argv[2]) : 5000;
  const int eval_every = argc > 3 ? std::stoi(argv[3]) : 100;
  const int repeats = argc > 4 ? std::stoi(argv[4]) : 5;
  const Placement placement(nodes, world.size());
  std::int64_t pid = ::getpid();
  world.broadcast(std::span<std::int64_t>(&pid, 1), 0);
  const std::string path = (std::filesystem::temp_directory_path() / ("decent_bench_" + std::to_string(pid) + ".h5")).string();
  std::vector<double> a, b;
  for (int r = 0; r < repeats; ++r) {  // alternate, so drifting machine load hits both alike
    a.push_back(gathered(world, placement, path, steps, eval_every));
    b.push_back(parallel(world, placement, path, steps, eval_every));
  }
  if (world.rank() == 0) {
    std::printf("ranks %d, nodes %d, steps %d, eval every %d (%d flushes), %d repeats\n", world.size(), nodes, steps,
                eval_every, steps / eval_every, repeats);
    std::printf("gathered (rank 0 writes):   median %.4f s\n", median(a));
    std::printf("parallel (collective MPI-IO): median %.4f s\n", median(b));
    std::printf("parallel / gathered = %.2f\n", median(b) / median(a));
    std::filesystem::remove(path);
  }
  return 0;
}
