#include "io/hdf5.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <utility>

namespace decent::detail::h5 {
namespace {

herr_t collect(unsigned n, const H5E_error2_t* e, void* data) {
  auto* text = static_cast<std::string*>(data);
  *text += "\n  #" + std::to_string(n) + " " + (e->func_name ? e->func_name : "?") + ": " +
           (e->desc ? e->desc : "");
  return 0;
}

/// HDF5's automatic error printing is replaced by our exceptions, once per process.
void silence_automatic_printing() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

}  // namespace

std::int64_t check(std::int64_t result, const char* call) {
  if (result >= 0) return result;
  std::string stack;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect, &stack);
  H5Eclear2(H5E_DEFAULT);
  throw error(std::string("HDF5 ") + call + " failed" + (stack.empty() ? "" : ":" + stack));
}

Id& Id::operator=(Id&& other) noexcept {
  if (this != &other) {
    close();
    id_ = other.release();
  }
  return *this;
}

void Id::close() noexcept {
  if (id_ < 0) return;
  herr_t status = -1;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: status = H5Fclose(id_); break;
    case H5I_GROUP: status = H5Gclose(id_); break;
    case H5I_DATASET: status = H5Dclose(id_); break;
    case H5I_DATASPACE: status = H5Sclose(id_); break;
    case H5I_DATATYPE: status = H5Tclose(id_); break;
    case H5I_ATTR: status = H5Aclose(id_); break;
    case H5I_GENPROP_LST: status = H5Pclose(id_); break;
    default: status = H5Idec_ref(id_); break;
  }
  if (status < 0) std::fprintf(stderr, "decent: closing HDF5 id %lld failed\n", static_cast<long long>(id_));
  id_ = H5I_INVALID_HID;
}

template <>
hid_t memory_type<float>() { return H5T_NATIVE_FLOAT; }
template <>
hid_t memory_type<double>() { return H5T_NATIVE_DOUBLE; }
template <>
hid_t memory_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <>
hid_t memory_type<std::uint64_t>() { return H5T_NATIVE_UINT64; }
template <>
hid_t memory_type<std::int32_t>() { return H5T_NATIVE_INT32; }

Id create_file(const std::string& path) {
  silence_automatic_printing();
  return Id(static_cast<hid_t>(check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                                     ("H5Fcreate('" + path + "')").c_str())));
}

namespace {

/// File access in memory only (HDF5's core driver without a backing store), grown 1 MiB at a time.
Id in_memory_access() {
  Id access(static_cast<hid_t>(check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate")));
  check(H5Pset_fapl_core(access.get(), std::size_t{1} << 20, 0), "H5Pset_fapl_core");
  return access;
}

std::string partial_path(const std::string& path) { return path + ".partial"; }

/// True for a file made by create_snapshot_file or open_snapshot_file.
bool is_snapshot(hid_t file) {
  Id access(static_cast<hid_t>(check(H5Fget_access_plist(file), "H5Fget_access_plist")));
  return H5Pget_driver(access.get()) == H5FD_CORE;
}

/// Writes the in-memory `file` whole to PATH.partial, then renames that to PATH (its name): the rename
/// replaces the previous snapshot at once, so PATH is always one complete flush, whenever the process dies.
void write_snapshot(hid_t file) {
  const auto name_size = static_cast<std::size_t>(check(H5Fget_name(file, nullptr, 0), "H5Fget_name"));
  std::string path(name_size, '\0');
  check(H5Fget_name(file, path.data(), name_size + 1), "H5Fget_name");
  const auto size = static_cast<std::size_t>(check(H5Fget_file_image(file, nullptr, 0), "H5Fget_file_image"));
  const std::unique_ptr<char[]> image(new char[size]);  // not zeroed: it is filled at once
  check(H5Fget_file_image(file, image.get(), size), "H5Fget_file_image");
  const std::string partial = partial_path(path);
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw error("cannot write '" + partial + "': " + std::strerror(errno));
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, image.get() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = n < 0 ? std::strerror(errno) : "nothing written";
      ::close(fd);
      throw error("cannot write '" + partial + "': " + reason);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw error("cannot write '" + partial + "': " + std::strerror(errno));
  if (std::rename(partial.c_str(), path.c_str()) != 0)
    throw error("cannot rename '" + partial + "' to '" + path + "': " + std::strerror(errno));
}

}  // namespace

Id create_snapshot_file(const std::string& path) {
  // Created on disk first (as PATH.partial, replaced by the first snapshot), so that a path that cannot
  // be written fails here, with HDF5's reason. An older file at PATH goes now, as a truncation would.
  create_file(partial_path(path)).close();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw error("cannot replace '" + path + "': " + std::strerror(errno));
  const Id access = in_memory_access();
  return Id(static_cast<hid_t>(check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()),
                                     ("H5Fcreate('" + path + "') in memory").c_str())));
}

Id open_snapshot_file(const std::string& path) {
  silence_automatic_printing();
  const Id access = in_memory_access();
  return Id(static_cast<hid_t>(
      check(H5Fopen(path.c_str(), H5F_ACC_RDWR, access.get()), ("H5Fopen('" + path + "') into memory").c_str())));
}

Id create_group(hid_t parent, const std::string& name) {
  return Id(static_cast<hid_t>(
      check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), ("H5Gcreate2 " + name).c_str())));
}

template <class T>
Id create_extendible(hid_t parent, const std::string& name, const std::vector<hsize_t>& inner, hsize_t chunk_rows) {
  std::vector<hsize_t> dims{0}, max_dims{H5S_UNLIMITED}, chunk{std::max<hsize_t>(1, chunk_rows)};
  for (hsize_t d : inner) {
    dims.push_back(d);
    max_dims.push_back(d);
    chunk.push_back(std::max<hsize_t>(1, d));
  }
  Id space(static_cast<hid_t>(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()),
                                    "H5Screate_simple")));
  Id properties(static_cast<hid_t>(check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate")));
  check(H5Pset_chunk(properties.get(), static_cast<int>(chunk.size()), chunk.data()), "H5Pset_chunk");
  if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) check(H5Pset_deflate(properties.get(), 1), "H5Pset_deflate");
  return Id(static_cast<hid_t>(check(H5Dcreate2(parent, name.c_str(), memory_type<T>(), space.get(), H5P_DEFAULT,
                                                properties.get(), H5P_DEFAULT),
                                     ("H5Dcreate2 " + name).c_str())));
}

template <class T>
void append_rows(hid_t dataset, std::span<const T> values, hsize_t rows) {
  if (rows == 0) return;
  Id space(static_cast<hid_t>(check(H5Dget_space(dataset), "H5Dget_space")));
  const int rank = static_cast<int>(check(H5Sget_simple_extent_ndims(space.get()), "H5Sget_simple_extent_ndims"));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), "H5Sget_simple_extent_dims");
  const hsize_t row_size = std::accumulate(dims.begin() + 1, dims.end(), hsize_t{1}, std::multiplies<>());
  if (values.size() != rows * row_size)
    throw std::invalid_argument("HDF5 append: " + std::to_string(values.size()) + " values for " +
                                std::to_string(rows) + " rows of " + std::to_string(row_size));
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = dims[0];
  count[0] = rows;
  dims[0] += rows;
  check(H5Dset_extent(dataset, dims.data()), "H5Dset_extent");
  Id file_space(static_cast<hid_t>(check(H5Dget_space(dataset), "H5Dget_space")));
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        "H5Sselect_hyperslab");
  Id memory_space(static_cast<hid_t>(check(H5Screate_simple(rank, count.data(), nullptr), "H5Screate_simple")));
  check(H5Dwrite(dataset, memory_type<T>(), memory_space.get(), file_space.get(), H5P_DEFAULT, values.data()),
        "H5Dwrite");
}

template <class T>
void write_dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& shape, std::span<const T> values) {
  Id space(static_cast<hid_t>(
      check(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), "H5Screate_simple")));
  Id dataset(static_cast<hid_t>(check(
      H5Dcreate2(parent, name.c_str(), memory_type<T>(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      ("H5Dcreate2 " + name).c_str())));
  if (!values.empty())
    check(H5Dwrite(dataset.get(), memory_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          ("H5Dwrite " + name).c_str());
}

namespace {
void write_scalar_attribute(hid_t object, const std::string& name, hid_t type, const void* value) {
  if (H5Aexists(object, name.c_str()) > 0) check(H5Adelete(object, name.c_str()), "H5Adelete");
  Id space(static_cast<hid_t>(check(H5Screate(H5S_SCALAR), "H5Screate")));
  Id attribute(static_cast<hid_t>(
      check(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), ("H5Acreate2 " + name).c_str())));
  check(H5Awrite(attribute.get(), type, value), ("H5Awrite " + name).c_str());
}
}  // namespace

void write_attribute(hid_t object, const std::string& name, const std::string& value) {
  Id type(static_cast<hid_t>(check(H5Tcopy(H5T_C_S1), "H5Tcopy")));
  check(H5Tset_size(type.get(), H5T_VARIABLE), "H5Tset_size");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "H5Tset_cset");
  const char* text = value.c_str();
  write_scalar_attribute(object, name, type.get(), &text);
}

void write_attribute(hid_t object, const std::string& name, std::int64_t value) {
  write_scalar_attribute(object, name, H5T_NATIVE_INT64, &value);
}

void write_attribute(hid_t object, const std::string& name, double value) {
  write_scalar_attribute(object, name, H5T_NATIVE_DOUBLE, &value);
}

void flush(hid_t file) {
  check(H5Fflush(file, H5F_SCOPE_GLOBAL), "H5Fflush");
  if (is_snapshot(file)) write_snapshot(file);
}

Id open_file(const std::string& path, bool writable) {
  silence_automatic_printing();
  return Id(static_cast<hid_t>(check(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT),
                                     ("H5Fopen('" + path + "')").c_str())));
}

bool exists(hid_t parent, const std::string& name) {
  // H5Lexists needs every intermediate group to exist: walk the path one link at a time.
  std::string prefix;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t slash = name.find('/', start);
    prefix = name.substr(0, slash);
    if (H5Lexists(parent, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

Id open_group(hid_t parent, const std::string& name) {
  return Id(static_cast<hid_t>(check(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), ("H5Gopen2 " + name).c_str())));
}

Id open_dataset(hid_t parent, const std::string& name) {
  return Id(static_cast<hid_t>(check(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), ("H5Dopen2 " + name).c_str())));
}

void remove(hid_t parent, const std::string& name) {
  check(H5Ldelete(parent, name.c_str(), H5P_DEFAULT), ("H5Ldelete " + name).c_str());
}

std::vector<hsize_t> shape(hid_t dataset) {
  Id space(static_cast<hid_t>(check(H5Dget_space(dataset), "H5Dget_space")));
  const int rank = static_cast<int>(check(H5Sget_simple_extent_ndims(space.get()), "H5Sget_simple_extent_ndims"));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), "H5Sget_simple_extent_dims");
  return dims;
}

void set_rows(hid_t dataset, hsize_t rows) {
  std::vector<hsize_t> dims = shape(dataset);
  dims.at(0) = rows;
  check(H5Dset_extent(dataset, dims.data()), "H5Dset_extent");
}

namespace {
/// The file and memory spaces of rows [first, first + rows) of `dataset`; `values` must fill them.
std::pair<Id, Id> row_spaces(hid_t dataset, hsize_t first, hsize_t rows, std::size_t values) {
  const std::vector<hsize_t> dims = shape(dataset);
  if (dims.empty() || first + rows > dims[0])
    throw error("HDF5: rows " + std::to_string(first) + ".." + std::to_string(first + rows) + " are outside a dataset of " +
                std::to_string(dims.empty() ? 0 : dims[0]) + " rows");
  const hsize_t row_size = std::accumulate(dims.begin() + 1, dims.end(), hsize_t{1}, std::multiplies<>());
  if (values != rows * row_size)
    throw std::invalid_argument("HDF5 rows: " + std::to_string(values) + " values for " + std::to_string(rows) +
                                " rows of " + std::to_string(row_size));
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = first;
  count[0] = rows;
  Id file_space(static_cast<hid_t>(check(H5Dget_space(dataset), "H5Dget_space")));
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        "H5Sselect_hyperslab");
  Id memory_space(static_cast<hid_t>(
      check(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), "H5Screate_simple")));
  return {std::move(file_space), std::move(memory_space)};
}
}  // namespace

template <class T>
std::vector<T> read_rows(hid_t dataset, hsize_t first, hsize_t rows) {
  const std::vector<hsize_t> dims = shape(dataset);
  const hsize_t row_size = std::accumulate(dims.begin() + (dims.empty() ? 0 : 1), dims.end(), hsize_t{1},
                                           std::multiplies<>());
  std::vector<T> values(static_cast<std::size_t>(rows * row_size));
  if (rows == 0) return values;
  auto [file_space, memory_space] = row_spaces(dataset, first, rows, values.size());
  check(H5Dread(dataset, memory_type<T>(), memory_space.get(), file_space.get(), H5P_DEFAULT, values.data()), "H5Dread");
  return values;
}

template <class T>
void write_rows(hid_t dataset, hsize_t first, std::span<const T> values, hsize_t rows) {
  if (rows == 0) return;
  auto [file_space, memory_space] = row_spaces(dataset, first, rows, values.size());
  check(H5Dwrite(dataset, memory_type<T>(), memory_space.get(), file_space.get(), H5P_DEFAULT, values.data()),
        "H5Dwrite");
}

template <class T>
Id create_dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& shape) {
  Id space(static_cast<hid_t>(
      check(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), "H5Screate_simple")));
  return Id(static_cast<hid_t>(check(
      H5Dcreate2(parent, name.c_str(), memory_type<T>(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      ("H5Dcreate2 " + name).c_str())));
}

namespace {
Id open_attribute(hid_t object, const std::string& name, H5T_class_t expected, const char* kind) {
  if (H5Aexists(object, name.c_str()) <= 0) throw error("HDF5: attribute '" + name + "' is missing");
  Id attribute(static_cast<hid_t>(check(H5Aopen(object, name.c_str(), H5P_DEFAULT), ("H5Aopen " + name).c_str())));
  Id type(static_cast<hid_t>(check(H5Aget_type(attribute.get()), "H5Aget_type")));
  if (H5Tget_class(type.get()) != expected) throw error("HDF5: attribute '" + name + "' is not " + kind);
  return attribute;
}
}  // namespace

std::string read_string_attribute(hid_t object, const std::string& name) {
  Id attribute = open_attribute(object, name, H5T_STRING, "a string");
  Id type(static_cast<hid_t>(check(H5Aget_type(attribute.get()), "H5Aget_type")));
  if (H5Tis_variable_str(type.get()) <= 0) throw error("HDF5: attribute '" + name + "' is not a variable-length string");
  Id memory(static_cast<hid_t>(check(H5Tcopy(H5T_C_S1), "H5Tcopy")));
  check(H5Tset_size(memory.get(), H5T_VARIABLE), "H5Tset_size");
  check(H5Tset_cset(memory.get(), H5Tget_cset(type.get())), "H5Tset_cset");
  char* text = nullptr;
  check(H5Aread(attribute.get(), memory.get(), &text), ("H5Aread " + name).c_str());
  std::string value = text ? text : "";
  H5free_memory(text);
  return value;
}

std::int64_t read_int_attribute(hid_t object, const std::string& name) {
  Id attribute = open_attribute(object, name, H5T_INTEGER, "an integer");
  std::int64_t value = 0;
  check(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value), ("H5Aread " + name).c_str());
  return value;
}

double read_double_attribute(hid_t object, const std::string& name) {
  Id attribute = open_attribute(object, name, H5T_FLOAT, "a float");
  double value = 0;
  check(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value), ("H5Aread " + name).c_str());
  return value;
}

template std::vector<float> read_rows<float>(hid_t, hsize_t, hsize_t);
template std::vector<double> read_rows<double>(hid_t, hsize_t, hsize_t);
template std::vector<std::int64_t> read_rows<std::int64_t>(hid_t, hsize_t, hsize_t);
template std::vector<std::uint64_t> read_rows<std::uint64_t>(hid_t, hsize_t, hsize_t);
template void write_rows<float>(hid_t, hsize_t, std::span<const float>, hsize_t);
template void write_rows<double>(hid_t, hsize_t, std::span<const double>, hsize_t);
template void write_rows<std::int64_t>(hid_t, hsize_t, std::span<const std::int64_t>, hsize_t);
template void write_rows<std::uint64_t>(hid_t, hsize_t, std::span<const std::uint64_t>, hsize_t);
template Id create_dataset<float>(hid_t, const std::string&, const std::vector<hsize_t>&);
template Id create_dataset<double>(hid_t, const std::string&, const std::vector<hsize_t>&);
template Id create_dataset<std::int64_t>(hid_t, const std::string&, const std::vector<hsize_t>&);
template Id create_dataset<std::uint64_t>(hid_t, const std::string&, const std::vector<hsize_t>&);

template Id create_extendible<float>(hid_t, const std::string&, const std::vector<hsize_t>&, hsize_t);
template Id create_extendible<double>(hid_t, const std::string&, const std::vector<hsize_t>&, hsize_t);
template Id create_extendible<std::int64_t>(hid_t, const std::string&, const std::vector<hsize_t>&, hsize_t);
template Id create_extendible<std::uint64_t>(hid_t, const std::string&, const std::vector<hsize_t>&, hsize_t);
template void append_rows<float>(hid_t, std::span<const float>, hsize_t);
template void append_rows<double>(hid_t, std::span<const double>, hsize_t);
template void append_rows<std::int64_t>(hid_t, std::span<const std::int64_t>, hsize_t);
template void append_rows<std::uint64_t>(hid_t, std::span<const std::uint64_t>, hsize_t);
template void write_dataset<float>(hid_t, const std::string&, const std::vector<hsize_t>&, std::span<const float>);
template void write_dataset<double>(hid_t, const std::string&, const std::vector<hsize_t>&, std::span<const double>);
template void write_dataset<std::int64_t>(hid_t, const std::string&, const std::vector<hsize_t>&, std::span<const std::int64_t>);
template void write_dataset<std::int32_t>(hid_t, const std::string&, const std::vector<hsize_t>&, std::span<const std::int32_t>);

}  // namespace decent::detail::h5
