#include "decent/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <utility>
#include <vector>

namespace decent {
namespace {

using Bytes = std::vector<unsigned char>;

/// A file's content, decompressed if it was gzip; `gzip` makes messages say which offsets they count.
struct IdxFile {
  const std::string& path;
  Bytes bytes;
  bool gzip = false;

  [[noreturn]] void fail(std::uint64_t offset, const std::string& problem) const {
    throw data_error(path + ": byte " + std::to_string(offset) + (gzip ? " (uncompressed)" : "") + ": " + problem);
  }
  std::uint32_t u32(std::size_t offset) const {  // IDX integers are big-endian
    return (std::uint32_t{bytes[offset]} << 24) | (std::uint32_t{bytes[offset + 1]} << 16) |
           (std::uint32_t{bytes[offset + 2]} << 8) | std::uint32_t{bytes[offset + 3]};
  }
};

Bytes read_all(const std::string& path) {
  std::error_code ignored;
  // fopen opens a directory and then fails to read it: say what it is instead of "read error".
  if (std::filesystem::is_directory(path, ignored)) throw data_error(path + ": cannot open file: is a directory");
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw data_error(path + ": cannot open file: " + std::strerror(errno));
  Bytes bytes;
  unsigned char chunk[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof chunk, file)) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) throw data_error(path + ": byte " + std::to_string(bytes.size()) + ": read error");
  return bytes;
}

/// Inflates a whole gzip file (several concatenated members allowed, as gzip itself writes them).
/// Offsets in its messages count compressed bytes: the uncompressed stream stops at the problem.
Bytes gunzip(const std::string& path, const Bytes& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw data_error(path + ": cannot initialize zlib");
  struct End {
    z_stream& zs;
    ~End() { inflateEnd(&zs); }
  } end{zs};

  // avail_in/avail_out are 32-bit: feed inputs over 4 GiB in pieces.
  constexpr std::size_t max_chunk = std::size_t{1} << 30;
  Bytes out(std::max<std::size_t>(in.size() * 4, std::size_t{1} << 16));
  std::size_t in_pos = 0;
  std::size_t out_pos = 0;
  for (;;) {
    if (out_pos == out.size()) out.resize(out.size() * 2);
    const std::size_t in_chunk = std::min(in.size() - in_pos, max_chunk);
    zs.next_in = const_cast<Bytef*>(in.data() + in_pos);  // zlib's API is not const-correct
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = out.data() + out_pos;
    zs.avail_out = static_cast<uInt>(std::min(out.size() - out_pos, max_chunk));
    const int status = inflate(&zs, Z_NO_FLUSH);
    in_pos += in_chunk - zs.avail_in;
    out_pos = static_cast<std::size_t>(zs.next_out - out.data());
    if (status == Z_OK) continue;
    if (status == Z_STREAM_END) {
      if (in_pos == in.size()) break;
      if (in.size() - in_pos >= 2 && in[in_pos] == 0x1f && in[in_pos + 1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      throw data_error(path + ": compressed byte " + std::to_string(in_pos) +
                       ": expected the end of the file or another gzip member, found " +
                       std::to_string(in.size() - in_pos) + " more bytes");
    }
    // Z_BUF_ERROR: no progress possible; there is always output space here, so the input ran out.
    if (status == Z_BUF_ERROR && in_pos == in.size())
      throw data_error(path + ": compressed byte " + std::to_string(in_pos) +
                       ": gzip stream is truncated (expected more compressed data, found the end of the file "
                       "after " + std::to_string(out_pos) + " uncompressed bytes)");
    throw data_error(path + ": compressed byte " + std::to_string(in_pos) + ": corrupt gzip stream (zlib: " +
                     (zs.msg != nullptr ? zs.msg : "error " + std::to_string(status)) + ")");
  }
  out.resize(out_pos);
  return out;
}

IdxFile load(const std::string& path) {
  IdxFile file{path, read_all(path)};
  if (file.bytes.size() >= 2 && file.bytes[0] == 0x1f && file.bytes[1] == 0x8b) {
    file.bytes = gunzip(path, file.bytes);
    file.gzip = true;
  }
  return file;
}

std::string hex32(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08X", value);
  return text;
}

std::string type_name(unsigned char type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "16-bit integer";
    case 0x0C: return "32-bit integer";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
  }
}

/// Checks the magic number and reads the dimensions; `what` names each dimension in messages.
std::vector<std::uint32_t> read_header(const IdxFile& file, std::span<const char* const> what, const char* kind) {
  const auto ndims = static_cast<unsigned char>(what.size());
  const std::uint32_t magic = 0x0800u | ndims;
  const std::string expected = hex32(magic) + " (IDX " + kind + ": unsigned bytes, " + std::to_string(ndims) +
                               (ndims == 1 ? " dimension)" : " dimensions)");
  const Bytes& b = file.bytes;
  if (b.size() < 4)
    file.fail(0, "expected the 4-byte magic number " + expected + ", found a " + std::to_string(b.size()) +
                     "-byte file");
  if (b[0] != 0 || b[1] != 0)
    file.fail(0, "wrong magic number " + hex32(file.u32(0)) + ": expected " + expected);
  if (b[2] != 0x08)
    file.fail(2, "wrong data type byte 0x" + hex32(b[2]).substr(8) + " (" + type_name(b[2]) + "): expected 0x08 (" +
                     type_name(0x08) + ") for " + expected);
  if (b[3] != ndims)
    file.fail(3, "wrong dimension count " + std::to_string(b[3]) + " (magic " + hex32(file.u32(0)) +
                     "): expected " + expected);
  const std::size_t header = 4 + 4 * std::size_t{ndims};
  std::vector<std::uint32_t> dims(ndims);
  for (std::size_t k = 0; k < ndims; ++k) {
    const std::size_t at = 4 + 4 * k;
    if (b.size() < at + 4)
      file.fail(at, std::string("truncated header: expected ") + std::to_string(header) + " header bytes (the " +
                        what[k] + " at bytes " + std::to_string(at) + ".." + std::to_string(at + 3) + "), found " +
                        std::to_string(b.size()));
    dims[k] = file.u32(at);
    if (dims[k] == 0) file.fail(at, std::string("the ") + what[k] + " is 0: expected at least 1");
  }
  return dims;
}

/// Checks that the data after the header has exactly `expected` bytes.
void check_data_size(const IdxFile& file, std::size_t header, std::uint64_t expected, const std::string& shape) {
  const std::uint64_t found = file.bytes.size() - header;
  if (found < expected)
    file.fail(file.bytes.size(), "truncated data: expected " + std::to_string(expected) + " data bytes (" + shape +
                                     ") from byte " + std::to_string(header) + ", found " + std::to_string(found));
  if (found > expected)
    file.fail(header + expected, "expected the end of the file after " + std::to_string(expected) +
                                     " data bytes (" + shape + "), found " + std::to_string(found - expected) +
                                     " more bytes");
}

}  // namespace

Dataset read_idx(const std::string& images, const std::string& labels, std::string name) {
  const IdxFile image_file = load(images);
  static constexpr const char* image_dims[] = {"image count", "row count", "column count"};
  const auto idims = read_header(image_file, image_dims, "images");
  const std::uint64_t count = idims[0];
  const std::uint64_t pixels = std::uint64_t{idims[1]} * idims[2];  // < 2^64: both factors are < 2^32
  if (count > std::numeric_limits<std::uint64_t>::max() / pixels)
    image_file.fail(4, "dimensions " + std::to_string(count) + " x " + std::to_string(idims[1]) + " x " +
                           std::to_string(idims[2]) + " are too large");
  check_data_size(image_file, 16, count * pixels,
                  std::to_string(count) + " images x " + std::to_string(idims[1]) + " x " + std::to_string(idims[2]));

  const IdxFile label_file = load(labels);
  static constexpr const char* label_dims[] = {"label count"};
  const auto ldims = read_header(label_file, label_dims, "labels");
  if (ldims[0] != count)
    label_file.fail(4, "label count " + std::to_string(ldims[0]) + " does not match the " + std::to_string(count) +
                           " images of " + images + ": expected " + std::to_string(count));
  check_data_size(label_file, 8, count, std::to_string(count) + " labels");

  Dataset data;
  data.name = std::move(name);
  data.sample_shape = {1, static_cast<Eigen::Index>(idims[1]), static_cast<Eigen::Index>(idims[2])};
  data.features.resize(static_cast<Eigen::Index>(pixels), static_cast<Eigen::Index>(count));
  // An image's row-major pixels are contiguous in the file, as a column is in the matrix.
  const unsigned char* pixel = image_file.bytes.data() + 16;
  float* feature = data.features.data();
  const std::uint64_t total = count * pixels;
  for (std::uint64_t k = 0; k < total; ++k) feature[k] = static_cast<float>(pixel[k]) / 255.0f;

  data.labels.resize(count);
  int max_label = 0;
  for (std::uint64_t k = 0; k < count; ++k) {
    const unsigned char label = label_file.bytes[8 + k];
    if (label == 255)
      label_file.fail(8 + k, "label 255 of sample " + std::to_string(k) + ": expected a class id 0..254");
    data.labels[k] = label;
    max_label = std::max<int>(max_label, label);
  }
  data.classes = max_label + 1;
  return data;
}

Dataset load_fashion_mnist(const std::string& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  // Prefer the .gz files the dataset ships; fall back to ones somebody has gunzipped.
  const auto pick = [&](const std::string& stem) {
    const std::filesystem::path plain = std::filesystem::path(dir) / stem;
    std::filesystem::path gz = plain;
    gz += ".gz";
    std::error_code ec;
    return (!std::filesystem::exists(gz, ec) && std::filesystem::exists(plain, ec) ? plain : gz).string();
  };
  const std::string images = pick(prefix + "-images-idx3-ubyte");
  const std::string labels = pick(prefix + "-labels-idx1-ubyte");
  Dataset data = read_idx(images, labels, train ? "fashion-mnist train" : "fashion-mnist test");
  if (data.dim() != 28 * 28)
    throw data_error(images + ": byte 8: expected 28 x 28 Fashion-MNIST images, found " +
                     std::to_string(data.dim()) + " pixels per image");
  if (data.classes != 10)
    throw data_error(labels + ": byte 8: expected the 10 Fashion-MNIST classes 0..9, found labels up to " +
                     std::to_string(data.classes - 1));
  return data;
}

}  // namespace decent
