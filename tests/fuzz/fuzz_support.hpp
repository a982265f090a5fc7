#pragma once
// Shared by the fuzz targets: the readers take paths, so each input is written to a scratch file first;
// anything a reader must never do (throw an undocumented type, break a promise about its result) ends
// the process with a message, which libFuzzer (or the corpus replay) reports as a crash.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>

namespace decent::fuzz {

/// Ends the process: a reader broke its contract on this input.
[[noreturn]] inline void violation(const std::string& what) {
  std::fprintf(stderr, "fuzz: contract violation: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

/// Checks a promise about a successful result.
inline void expect(bool ok, const char* promise) {
  if (!ok) violation(std::string("broken promise: ") + promise);
}

/// A file private to this process, rewritten by every input and removed at exit.
class ScratchFile {
public:
  explicit ScratchFile(const std::string& stem) {
    std::error_code ec;
    // /dev/shm keeps the per-input write off the disk; fall back to the temp directory.
    std::filesystem::path dir = std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : std::filesystem::temp_directory_path();
    path_ = (dir / ("decent_fuzz_" + std::to_string(::getpid()) + "_" + stem)).string();
  }
  ~ScratchFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  /// Replaces the file's content with `size` bytes; returns its path.
  const std::string& write(const std::uint8_t* data, std::size_t size) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) violation("cannot write the scratch file " + path_);
    return path_;
  }
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

/// For a catch (const std::exception&) after the documented types: names what escaped and ends the process.
[[noreturn]] inline void undocumented(const std::exception& e) {
  violation(std::string("undocumented exception ") + typeid(e).name() + ": " + e.what());
}

}  // namespace decent::fuzz
