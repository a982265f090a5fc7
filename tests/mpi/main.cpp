// Catch2 main for tests run under mpiexec: every rank runs every test; only rank 0's report and
// the reports of ranks with failures are printed, so a passing run reads like a serial one.
#define CATCH_CONFIG_RUNNER
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "decent/mpi/comm.hpp"
#include "decent/mpi/environment.hpp"

int main(int argc, char** argv) {
  decent::Environment environment(argc, argv);
  const decent::Comm world = decent::Comm::world();

  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  const auto report = std::filesystem::temp_directory_path() /
                      ("decent_mpi_test_" + std::to_string(::getpid()) + "_rank" + std::to_string(world.rank()) + ".txt");
  session.configData().outputFilename = report.string();
  session.configData().useColour = Catch::UseColour::No;
  const int failed = session.run();

  const int any_failed = world.allreduce(failed, decent::ReduceOp::max);
  for (int r = 0; r < world.size(); ++r) {
    world.barrier();
    if (r != world.rank() || (r != 0 && failed == 0)) continue;
    std::ifstream in(report);
    std::ostringstream text;
    text << in.rdbuf();
    std::cout << "---- rank " << r << " of " << world.size() << (failed ? " (FAILED)" : "") << " ----\n"
              << text.str() << std::flush;
  }
  std::filesystem::remove(report);
  return any_failed == 0 ? 0 : 1;
}
