#include "decent/mpi/comm.hpp"

#include <climits>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <utility>

namespace decent {

MPI_Op detail::native(ReduceOp op) noexcept {
  switch (op) {
    case ReduceOp::sum: return MPI_SUM;
    case ReduceOp::min: return MPI_MIN;
    case ReduceOp::max: return MPI_MAX;
  }
  return MPI_OP_NULL;
}

// ---- Request ------------------------------------------------------------------------------

Request::Request(Request&& other) noexcept : request_(std::exchange(other.request_, MPI_REQUEST_NULL)) {}

Request& Request::operator=(Request&& other) noexcept {
  if (this != &other) {
    release();
    request_ = std::exchange(other.request_, MPI_REQUEST_NULL);
  }
  return *this;
}

Request::~Request() { release(); }

void Request::release() noexcept {
  if (request_ == MPI_REQUEST_NULL) return;
  if (std::uncaught_exceptions() > 0) {
    MPI_Request_free(&request_);  // the job is failing; waiting here could hang it
  } else if (MPI_Wait(&request_, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
    std::fprintf(stderr, "decent: MPI_Wait failed in ~Request\n");
  }
  request_ = MPI_REQUEST_NULL;
}

void Request::wait() {
  if (request_ != MPI_REQUEST_NULL) DECENT_MPI(MPI_Wait, &request_, MPI_STATUS_IGNORE);
}

bool Request::test() {
  if (request_ == MPI_REQUEST_NULL) return true;
  int done = 0;
  DECENT_MPI(MPI_Test, &request_, &done, MPI_STATUS_IGNORE);
  return done != 0;
}

void wait_all(std::span<Request> requests) {
  // Request is a single MPI_Request, so the span can be handed to MPI_Waitall as an array.
  static_assert(sizeof(Request) == sizeof(MPI_Request));
  if (requests.empty()) return;
  DECENT_MPI(MPI_Waitall, static_cast<int>(requests.size()), &requests.front().native(),
             MPI_STATUSES_IGNORE);
}

// ---- Comm ---------------------------------------------------------------------------------

Comm::Comm(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
  if (comm_ == MPI_COMM_NULL) throw std::invalid_argument("decent::Comm: MPI_COMM_NULL given");
  DECENT_MPI(MPI_Comm_rank, comm_, &rank_);
  DECENT_MPI(MPI_Comm_size, comm_, &size_);
}

Comm Comm::world() { return Comm(MPI_COMM_WORLD, false); }
Comm Comm::self() { return Comm(MPI_COMM_SELF, false); }
Comm Comm::wrap(MPI_Comm comm) { return Comm(comm, false); }

Comm::Comm(Comm&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)),
      owned_(std::exchange(other.owned_, false)),
      rank_(other.rank_),
      size_(other.size_) {}

Comm& Comm::operator=(Comm&& other) noexcept {
  if (this != &other) {
    free();
    comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
    owned_ = std::exchange(other.owned_, false);
    rank_ = other.rank_;
    size_ = other.size_;
  }
  return *this;
}

Comm::~Comm() { free(); }

void Comm::free() noexcept {
  // Only communicators we created are freed, and never the predefined ones.
  if (owned_ && comm_ != MPI_COMM_NULL && comm_ != MPI_COMM_WORLD && comm_ != MPI_COMM_SELF) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && MPI_Comm_free(&comm_) != MPI_SUCCESS)
      std::fprintf(stderr, "decent: MPI_Comm_free failed in ~Comm\n");
  }
  comm_ = MPI_COMM_NULL;
  owned_ = false;
}

Comm Comm::dup() const {
  MPI_Comm out;
  DECENT_MPI(MPI_Comm_dup, comm_, &out);
  return Comm(out, true);
}

Comm Comm::split(int color, int key) const {
  MPI_Comm out;
  DECENT_MPI(MPI_Comm_split, comm_, color, key, &out);
  if (out == MPI_COMM_NULL)
    throw std::invalid_argument("decent::Comm::split: MPI_UNDEFINED color gives no communicator");
  return Comm(out, true);
}

void Comm::barrier() const { DECENT_MPI(MPI_Barrier, comm_); }

Request Comm::isend(const void* base, MPI_Datatype type, int dest, int tag) const {
  MPI_Request r;
  DECENT_MPI(MPI_Isend, base, 1, type, dest, tag, comm_, &r);
  return Request(r);
}

int Comm::count(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX))
    throw std::length_error("decent: message of " + std::to_string(n) +
                            " elements exceeds MPI's int count limit");
  return static_cast<int>(n);
}

}  // namespace decent
