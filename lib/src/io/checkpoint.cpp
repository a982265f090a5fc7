#include "decent/io/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "io/hdf5.hpp"
#include "io/on_root.hpp"

namespace decent {

namespace h5 = detail::h5;

namespace {

/// fsync of a file or directory, so a rename after it never exposes unwritten data after a crash.
void sync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw checkpoint_error("checkpoint: cannot open '" + path + "' to sync it: " + std::strerror(errno));
  const int status = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (status != 0) throw checkpoint_error("checkpoint: fsync '" + path + "': " + std::strerror(saved));
}

}  // namespace

struct CheckpointWriter::Impl {
  const Comm& comm;
  Placement placement;
  std::string path, temporary;
  h5::Id file;  // rank 0

  /// Runs `write` on rank 0 and turns any failure there into checkpoint_error on every rank.
  template <class Write>
  void on_root(Write&& write) {
    detail::on_root<checkpoint_error>(comm, [&] {
      try {
        write();
      } catch (const std::exception& e) {
        throw checkpoint_error("checkpoint '" + temporary + "': " + e.what());
      }
    });
  }
};

CheckpointWriter::CheckpointWriter(const Comm& comm, const Placement& placement, std::string path)
    : impl_(std::make_unique<Impl>(Impl{comm, placement, path, path + ".tmp", {}})) {
  if (placement.ranks() != comm.size())
    throw std::invalid_argument("checkpoint: placement is for " + std::to_string(placement.ranks()) + " ranks, not " +
                                std::to_string(comm.size()));
  impl_->on_root([&] { impl_->file = h5::create_file(impl_->temporary); });
}

CheckpointWriter::~CheckpointWriter() = default;

void CheckpointWriter::attribute(const std::string& name, const std::string& value) {
  impl_->on_root([&] { h5::write_attribute(impl_->file.get(), name, value); });
}

void CheckpointWriter::attribute(const std::string& name, std::int64_t value) {
  impl_->on_root([&] { h5::write_attribute(impl_->file.get(), name, value); });
}

void CheckpointWriter::attribute(const std::string& name, double value) {
  impl_->on_root([&] { h5::write_attribute(impl_->file.get(), name, value); });
}

template <class T>
void CheckpointWriter::node_rows(const std::string& name, std::size_t width, std::span<const T> local) {
  Impl& m = *impl_;
  const int rank = m.comm.rank(), ranks = m.comm.size();
  const auto count = static_cast<std::size_t>(m.placement.count(rank));
  if (local.size() != count * width)
    throw std::invalid_argument("checkpoint " + name + ": " + std::to_string(local.size()) + " values for " +
                                std::to_string(count) + " nodes of " + std::to_string(width));
  h5::Id dataset;
  m.on_root([&] {
    dataset = h5::create_dataset<T>(m.file.get(), name, {static_cast<hsize_t>(m.placement.nodes()), width});
  });
  // Round k gathers every rank's k-th node: rank 0 holds at most one row per rank at a time.
  int most = 0;
  for (int r = 0; r < ranks; ++r) most = std::max(most, m.placement.count(r));
  for (int k = 0; k < most; ++k) {
    const std::span<const T> row = static_cast<std::size_t>(k) < count ? local.subspan(static_cast<std::size_t>(k) * width, width)
                                                                        : std::span<const T>();
    const std::vector<T> rows = m.comm.gatherv(row, 0);
    m.on_root([&] {
      std::size_t offset = 0;
      for (int r = 0; r < ranks; ++r) {
        if (k >= m.placement.count(r)) continue;
        h5::write_rows<T>(dataset.get(), static_cast<hsize_t>(m.placement.first(r) + k),
                          std::span<const T>(rows).subspan(offset, width), 1);
        offset += width;
      }
    });
  }
}

template <class T>
void CheckpointWriter::shared(const std::string& name, std::span<const T> values) {
  impl_->on_root([&] {
    h5::Id dataset = h5::create_dataset<T>(impl_->file.get(), name, {values.size()});
    h5::write_rows<T>(dataset.get(), 0, values, values.size());
  });
}

void CheckpointWriter::commit() {
  Impl& m = *impl_;
  m.on_root([&] {
    h5::flush(m.file.get());
    m.file.close();
    sync_path(m.temporary);
    std::error_code ec;
    std::filesystem::rename(m.temporary, m.path, ec);
    if (ec) throw checkpoint_error("cannot rename it to '" + m.path + "': " + ec.message());
    const std::filesystem::path directory = std::filesystem::path(m.path).parent_path();
    sync_path(directory.empty() ? "." : directory.string());
  });
}

struct CheckpointReader::Impl {
  std::string path;
  int nodes = 0;
  h5::Id file;

  [[noreturn]] void fail(const std::string& what) const { throw checkpoint_error("checkpoint '" + path + "': " + what); }

  h5::Id dataset(const std::string& name) const {
    if (!h5::exists(file.get(), name)) fail("it has no '" + name + "' (written by another version, or not a checkpoint)");
    return h5::open_dataset(file.get(), name);
  }
};

CheckpointReader::CheckpointReader(std::string path, int nodes) : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(path);
  impl_->nodes = nodes;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(impl_->path, ec)) impl_->fail("no such file");
  try {
    impl_->file = h5::open_file(impl_->path, false);
  } catch (const h5::error&) {
    impl_->fail("not an HDF5 file, or damaged");
  }
}

CheckpointReader::~CheckpointReader() = default;

const std::string& CheckpointReader::path() const noexcept { return impl_->path; }

bool CheckpointReader::has(const std::string& name) const {
  return h5::exists(impl_->file.get(), name) || H5Aexists(impl_->file.get(), name.c_str()) > 0;
}

std::string CheckpointReader::string_attribute(const std::string& name) const {
  try {
    return h5::read_string_attribute(impl_->file.get(), name);
  } catch (const h5::error& e) {
    impl_->fail(e.what());
  }
}

std::int64_t CheckpointReader::int_attribute(const std::string& name) const {
  try {
    return h5::read_int_attribute(impl_->file.get(), name);
  } catch (const h5::error& e) {
    impl_->fail(e.what());
  }
}

double CheckpointReader::double_attribute(const std::string& name) const {
  try {
    return h5::read_double_attribute(impl_->file.get(), name);
  } catch (const h5::error& e) {
    impl_->fail(e.what());
  }
}

template <class T>
std::vector<T> CheckpointReader::node_row(const std::string& name, int node, std::size_t width) const {
  const Impl& m = *impl_;
  h5::Id dataset = m.dataset(name);
  const std::vector<hsize_t> dims = h5::shape(dataset.get());
  if (dims.size() != 2 || dims[0] != static_cast<hsize_t>(m.nodes) || dims[1] != width)
    m.fail("'" + name + "' is not [" + std::to_string(m.nodes) + ", " + std::to_string(width) + "]");
  if (node < 0 || node >= m.nodes) m.fail("no node " + std::to_string(node) + " in '" + name + "'");
  try {
    return h5::read_rows<T>(dataset.get(), static_cast<hsize_t>(node), 1);
  } catch (const h5::error& e) {
    m.fail(e.what());
  }
}

template <class T>
std::vector<T> CheckpointReader::shared(const std::string& name) const {
  const Impl& m = *impl_;
  h5::Id dataset = m.dataset(name);
  const std::vector<hsize_t> dims = h5::shape(dataset.get());
  if (dims.size() != 1) m.fail("'" + name + "' is not a vector");
  try {
    return h5::read_rows<T>(dataset.get(), 0, dims[0]);
  } catch (const h5::error& e) {
    m.fail(e.what());
  }
}

template void CheckpointWriter::node_rows<float>(const std::string&, std::size_t, std::span<const float>);
template void CheckpointWriter::node_rows<double>(const std::string&, std::size_t, std::span<const double>);
template void CheckpointWriter::node_rows<std::int64_t>(const std::string&, std::size_t, std::span<const std::int64_t>);
template void CheckpointWriter::node_rows<std::uint64_t>(const std::string&, std::size_t, std::span<const std::uint64_t>);
template void CheckpointWriter::shared<float>(const std::string&, std::span<const float>);
template void CheckpointWriter::shared<double>(const std::string&, std::span<const double>);
template void CheckpointWriter::shared<std::int64_t>(const std::string&, std::span<const std::int64_t>);
template void CheckpointWriter::shared<std::uint64_t>(const std::string&, std::span<const std::uint64_t>);
template std::vector<float> CheckpointReader::node_row<float>(const std::string&, int, std::size_t) const;
template std::vector<double> CheckpointReader::node_row<double>(const std::string&, int, std::size_t) const;
template std::vector<std::int64_t> CheckpointReader::node_row<std::int64_t>(const std::string&, int, std::size_t) const;
template std::vector<std::uint64_t> CheckpointReader::node_row<std::uint64_t>(const std::string&, int, std::size_t) const;
template std::vector<float> CheckpointReader::shared<float>(const std::string&) const;
template std::vector<double> CheckpointReader::shared<double>(const std::string&) const;
template std::vector<std::int64_t> CheckpointReader::shared<std::int64_t>(const std::string&) const;
template std::vector<std::uint64_t> CheckpointReader::shared<std::uint64_t>(const std::string&) const;

}  // namespace decent
