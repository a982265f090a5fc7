#pragma once
// Test support: a fresh directory per test case, removed afterwards, so parallel test runs never share files.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace decent::test {

class ScratchDir {
public:
  /// A new empty directory named after `prefix`, the process id and a per-process counter.
  explicit ScratchDir(const std::string& prefix = "decent_test") {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  /// The path of `name` inside the directory (the file need not exist).
  std::string path(const std::string& name) const { return (path_ / name).string(); }
  /// Writes `text` byte for byte to `name` and returns its path.
  std::string file(const std::string& name, const std::string& text) const {
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

private:
  std::filesystem::path path_;
};

}  // namespace decent::test
