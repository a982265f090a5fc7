#pragma once
// Private RAII layer over the HDF5 C API: owned ids, errors as exceptions with the HDF5 error stack,
// and the few operations the recorder needs (extendible chunked datasets, attributes).
#include <hdf5.h>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace decent::detail::h5 {

/// An HDF5 call failed; what() holds the call and the HDF5 error stack, innermost first.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Throws h5::error for a negative HDF5 return value (herr_t or hid_t).
std::int64_t check(std::int64_t result, const char* call);

/// An owned HDF5 id, closed with the matching H5?close on destruction (never throws; logs instead).
/// Move-only: one owner per id.
class Id {
public:
  Id() = default;
  explicit Id(hid_t id) : id_(id) {}
  Id(Id&& other) noexcept : id_(other.release()) {}
  Id& operator=(Id&& other) noexcept;
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() { close(); }
  hid_t get() const noexcept { return id_; }
  hid_t release() noexcept {
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }
  void close() noexcept;

private:
  hid_t id_ = H5I_INVALID_HID;
};

/// Element types the recorder stores.
template <class T>
hid_t memory_type();

/// Creates (truncating) an HDF5 file for this process only (serial driver).
Id create_file(const std::string& path);
Id create_group(hid_t parent, const std::string& name);
/// A chunked dataset of T with shape [0, cols...] that grows along the first dimension
/// (`inner` empty = 1-D), compressed with deflate level 1 when the filter is available.
template <class T>
Id create_extendible(hid_t parent, const std::string& name, const std::vector<hsize_t>& inner, hsize_t chunk_rows);
/// Appends `rows` rows (row-major, rows x prod(inner) values) at the end of an extendible dataset.
template <class T>
void append_rows(hid_t dataset, std::span<const T> values, hsize_t rows);
/// A fixed-size dataset written at once; `shape` row-major.
template <class T>
void write_dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& shape, std::span<const T> values);
/// Scalar attributes; strings are variable-length UTF-8.
void write_attribute(hid_t object, const std::string& name, const std::string& value);
void write_attribute(hid_t object, const std::string& name, std::int64_t value);
void write_attribute(hid_t object, const std::string& name, double value);
/// Flushes the whole file to disk.
void flush(hid_t file);

}  // namespace decent::detail::h5
