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
/// Creates an HDF5 file for this process only that lives in memory: flush() writes it whole to
/// PATH.partial and renames that to PATH, so PATH always holds the last flush complete, even after kill -9
/// (docs/reliability.md, "Crash consistency"); what is not flushed when it is closed is lost.
Id create_snapshot_file(const std::string& path);
/// Reads the existing file PATH into memory, writable, as create_snapshot_file's files are.
Id open_snapshot_file(const std::string& path);
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
/// Flushes the whole file to disk (a snapshot file: writes it whole, then renames it into place).
void flush(hid_t file);

// ---- reading and reopening (checkpoints, resumed recorders) ----
/// Opens an existing file for this process only, read-only or read-write.
Id open_file(const std::string& path, bool writable);
/// True if `name` (a path relative to parent) exists, false otherwise (intermediate groups included).
bool exists(hid_t parent, const std::string& name);
Id open_group(hid_t parent, const std::string& name);
Id open_dataset(hid_t parent, const std::string& name);
/// Removes the link `name` (the object's space is not reclaimed).
void remove(hid_t parent, const std::string& name);
/// The shape of a dataset.
std::vector<hsize_t> shape(hid_t dataset);
/// Shrinks (or grows) an extendible dataset to `rows` rows.
void set_rows(hid_t dataset, hsize_t rows);
/// Reads rows [first, first + rows) of a dataset (row-major) as T; throws h5::error if they do not exist.
template <class T>
std::vector<T> read_rows(hid_t dataset, hsize_t first, hsize_t rows);
/// Writes rows [first, first + rows) of an existing fixed-size dataset.
template <class T>
void write_rows(hid_t dataset, hsize_t first, std::span<const T> values, hsize_t rows);
/// A fixed-size dataset of T, created empty (contents written later with write_rows).
template <class T>
Id create_dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& shape);
/// Scalar attributes; h5::error names the attribute if it is missing or of another kind.
std::string read_string_attribute(hid_t object, const std::string& name);
std::int64_t read_int_attribute(hid_t object, const std::string& name);
double read_double_attribute(hid_t object, const std::string& name);

}  // namespace decent::detail::h5
