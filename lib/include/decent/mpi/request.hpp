#pragma once
/// @file A nonblocking operation in flight, owned and completed exactly once.
#include <mpi.h>

#include <span>
#include <vector>

namespace decent {

/// Owns one MPI_Request. Move-only. A request still pending at destruction is waited for
/// (or, while an exception unwinds, freed so that the unwinding cannot hang).
class Request {
public:
  Request() = default;
  explicit Request(MPI_Request request) noexcept : request_(request) {}
  Request(Request&& other) noexcept;
  Request& operator=(Request&& other) noexcept;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  ~Request();

  /// Blocks until the operation completes.
  void wait();
  /// True once the operation has completed (it is then released).
  bool test();
  /// True while the operation is pending.
  bool active() const noexcept { return request_ != MPI_REQUEST_NULL; }
  /// The raw handle (stays owned by this object).
  MPI_Request& native() noexcept { return request_; }

private:
  void release() noexcept;
  MPI_Request request_ = MPI_REQUEST_NULL;
};

/// Waits for every request in `requests` (MPI_Waitall).
void wait_all(std::span<Request> requests);

}  // namespace decent
