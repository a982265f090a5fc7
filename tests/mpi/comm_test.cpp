#include "decent/mpi/comm.hpp"

#include <catch2/catch.hpp>
#include <numeric>
#include <vector>

using namespace decent;

TEST_CASE("world and self report rank and size", "[mpi]") {
  const Comm world = Comm::world();
  int rank = -1, size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  CHECK(world.rank() == rank);
  CHECK(world.size() == size);
  CHECK_FALSE(world.owned());
  CHECK(Comm::self().size() == 1);
}

TEST_CASE("collectives compute the right values", "[mpi]") {
  const Comm world = Comm::world();
  const int p = world.size(), r = world.rank();
  CHECK(world.allreduce(r, ReduceOp::sum) == p * (p - 1) / 2);
  CHECK(world.allreduce(r, ReduceOp::max) == p - 1);
  CHECK(world.allreduce(static_cast<double>(r) + 0.5, ReduceOp::min) == 0.5);
  std::vector<std::int64_t> v{r, 2L * r, 1};
  world.allreduce(std::span<std::int64_t>(v), ReduceOp::sum);
  CHECK(v == std::vector<std::int64_t>{p * (p - 1) / 2, p * (p - 1), p});
  std::vector<float> b(3, static_cast<float>(r));
  if (r == p - 1) b = {1.5f, 2.5f, 3.5f};
  world.broadcast(std::span<float>(b), p - 1);
  CHECK(b == std::vector<float>{1.5f, 2.5f, 3.5f});
  std::vector<int> expected(static_cast<std::size_t>(p));
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(world.allgather(r) == expected);
}

TEST_CASE("nonblocking ring exchange delivers each neighbour's data", "[mpi]") {
  const Comm world = Comm::world();
  const int p = world.size(), r = world.rank();
  std::vector<double> out(1000), in(1000, -1.0);
  std::iota(out.begin(), out.end(), 1000.0 * r);
  std::vector<Request> requests;
  requests.push_back(world.irecv(std::span<double>(in), (r - 1 + p) % p, 3));
  requests.push_back(world.isend(std::span<const double>(out), (r + 1) % p, 3));
  wait_all(requests);
  CHECK_FALSE(requests[0].active());
  CHECK(in.front() == 1000.0 * ((r - 1 + p) % p));
  CHECK(in.back() == 1000.0 * ((r - 1 + p) % p) + 999);
}

TEST_CASE("dup and split make owned communicators, and wrap never frees", "[mpi]") {
  const Comm world = Comm::world();
  Comm copy = world.dup();
  CHECK(copy.owned());
  CHECK(copy.size() == world.size());
  Comm half = world.split(world.rank() % 2, world.rank());
  CHECK(half.owned());
  CHECK(half.size() == (world.size() + 1 - world.rank() % 2) / 2);
  CHECK(half.rank() == world.rank() / 2);

  Comm moved = std::move(copy);
  CHECK(copy.native() == MPI_COMM_NULL);  // NOLINT: checking the moved-from state on purpose
  CHECK(moved.size() == world.size());

  MPI_Comm raw;
  MPI_Comm_dup(MPI_COMM_WORLD, &raw);
  { const Comm wrapped = Comm::wrap(raw); CHECK(wrapped.size() == world.size()); }
  CHECK(MPI_Comm_free(&raw) == MPI_SUCCESS);  // would fail had the wrapper freed it
}

TEST_CASE("a failing MPI call throws mpi_error with function, code and MPI's text", "[mpi]") {
  const Comm self = Comm::self();
  std::vector<int> data(4, 0);
  try {
    auto request = self.isend(std::span<const int>(data), /*dest=*/5, 0);  // self has only rank 0
    FAIL("no exception");
  } catch (const mpi_error& e) {
    CHECK(e.function() == "MPI_Isend");
    CHECK(e.code() != MPI_SUCCESS);
    CHECK(e.rank() == Comm::world().rank());
    CHECK_THAT(e.what(), Catch::Contains("MPI_Isend failed on rank") && Catch::Contains("rank"));
  }
}

TEST_CASE("gatherv concatenates ranks' varying-length data in rank order on the root", "[mpi]") {
  const Comm world = Comm::world();
  const int p = world.size(), r = world.rank();
  std::vector<double> mine(static_cast<std::size_t>(r + 1), r + 0.5);  // rank r sends r+1 values
  const int root = p - 1;
  const std::vector<double> all = world.gatherv(std::span<const double>(mine), root);
  if (r == root) {
    std::vector<double> expected;
    for (int q = 0; q < p; ++q) expected.insert(expected.end(), static_cast<std::size_t>(q + 1), q + 0.5);
    CHECK(all == expected);
  } else {
    CHECK(all.empty());
  }
}

TEST_CASE("allgatherv gives every rank all ranks' varying-length data in rank order", "[mpi]") {
  const Comm world = Comm::world();
  const int p = world.size(), r = world.rank();
  std::vector<float> mine(static_cast<std::size_t>(2 * r), static_cast<float>(r));  // rank 0 sends nothing
  std::vector<float> expected;
  for (int q = 0; q < p; ++q) expected.insert(expected.end(), static_cast<std::size_t>(2 * q), static_cast<float>(q));
  CHECK(world.allgatherv(std::span<const float>(mine)) == expected);
}
