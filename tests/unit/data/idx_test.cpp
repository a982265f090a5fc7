#include "decent/data/idx.hpp"

#include "support/error_of.hpp"
#include "support/scratch_dir.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "decent/data/partition.hpp"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;
using Catch::Matchers::Contains;
using decent::data_error;
using decent::read_idx;

using decent::test::ScratchDir;

/// Writes `bytes` as they are into `dir`.
std::string plain(const ScratchDir& dir, const std::string& name, const Bytes& bytes) {
  const std::string p = dir.path(name);
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                           static_cast<std::streamsize>(bytes.size()));
  return p;
}

/// Writes `bytes` gzip-compressed into `dir`.
std::string gzip(const ScratchDir& dir, const std::string& name, const Bytes& bytes) {
  const std::string p = dir.path(name);
  gzFile file = gzopen(p.c_str(), "wb");
  REQUIRE(file != nullptr);
  if (!bytes.empty()) REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) > 0);
  REQUIRE(gzclose(file) == Z_OK);
  return p;
}

void put32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<unsigned char>(v >> shift));
}

/// An IDX image file: n images of rows x cols, pixel k of the file = (k * 7) % 256.
Bytes images_bytes(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  Bytes b{0, 0, 0x08, 0x03};
  put32(b, n);
  put32(b, rows);
  put32(b, cols);
  for (std::uint64_t k = 0; k < std::uint64_t{n} * rows * cols; ++k) b.push_back(static_cast<unsigned char>(k * 7 % 256));
  return b;
}

Bytes labels_bytes(const std::vector<unsigned char>& labels) {
  Bytes b{0, 0, 0x08, 0x01};
  put32(b, static_cast<std::uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

std::string error_of(const std::function<void()>& f) { return decent::test::error_of<data_error>(f); }

}  // namespace

TEST_CASE("read_idx reads plain and gzip files alike", "[data][idx]") {
  ScratchDir dir("decent_idx_test");
  const Bytes images = images_bytes(3, 2, 2);
  const Bytes labels = labels_bytes({2, 0, 4});
  const auto check = [&](const std::string& ipath, const std::string& lpath) {
    const decent::Dataset d = read_idx(ipath, lpath, "tiny");
    CHECK(d.name == "tiny");
    REQUIRE(d.size() == 3);
    REQUIRE(d.dim() == 4);
    CHECK(d.classes == 5);
    CHECK(d.classification());
    CHECK(d.labels == std::vector<int>{2, 0, 4});
    CHECK(d.targets.size() == 0);
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) CHECK(d.features(k, j) == static_cast<float>(images[16 + 4 * j + k]) / 255.0f);
  };
  SECTION("plain") { check(plain(dir, "i", images), plain(dir, "l", labels)); }
  SECTION("gzip") { check(gzip(dir, "i.gz", images), gzip(dir, "l.gz", labels)); }
  SECTION("mixed") { check(gzip(dir, "i.gz", images), plain(dir, "l", labels)); }
  SECTION("compression is detected by content, not by name") {
    check(gzip(dir, "images-no-suffix", images), plain(dir, "labels.gz", labels));
  }
  SECTION("concatenated gzip members") {
    const Bytes first(images.begin(), images.begin() + 10);
    const Bytes second(images.begin() + 10, images.end());
    const std::string a = gzip(dir, "a.gz", first);
    const std::string b = gzip(dir, "b.gz", second);
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    std::ofstream out(dir.path("ab.gz"), std::ios::binary);
    out << fa.rdbuf() << fb.rdbuf();
    out.close();
    check(dir.path("ab.gz"), plain(dir, "l", labels));
  }
}

TEST_CASE("read_idx scales pixel bytes to [0, 1]", "[data][idx]") {
  ScratchDir dir("decent_idx_test");
  Bytes images{0, 0, 0x08, 0x03};
  put32(images, 1);
  put32(images, 1);
  put32(images, 3);
  images.insert(images.end(), {0, 51, 255});
  const decent::Dataset d = read_idx(plain(dir, "i", images), plain(dir, "l", labels_bytes({0})), "x");
  CHECK(d.features(0, 0) == 0.0f);
  CHECK(d.features(1, 0) == Approx(0.2f));
  CHECK(d.features(2, 0) == 1.0f);
  CHECK(d.classes == 1);
}

TEST_CASE("read_idx names the file and byte offset of every problem", "[data][idx]") {
  ScratchDir dir("decent_idx_test");
  const Bytes good_images = images_bytes(3, 2, 2);  // 16 header bytes + 12 pixels
  const Bytes good_labels = labels_bytes({1, 0, 1});
  const std::string images = plain(dir, "images", good_images);
  const std::string labels = plain(dir, "labels", good_labels);

  // Broken image files, read with the good labels.
  const auto image_error = [&](const Bytes& bytes, bool gz = false) {
    const std::string p = gz ? gzip(dir, "bad-images.gz", bytes) : plain(dir, "bad-images", bytes);
    return std::make_pair(p, error_of([&] { read_idx(p, labels, "x"); }));
  };
  const auto label_error = [&](const Bytes& bytes) {
    const std::string p = plain(dir, "bad-labels", bytes);
    return std::make_pair(p, error_of([&] { read_idx(images, p, "x"); }));
  };
  const auto with = [](Bytes b, std::size_t at, unsigned char v) {
    b[at] = v;
    return b;
  };
  const auto cut = [](const Bytes& b, std::size_t size) { return Bytes(b.begin(), b.begin() + static_cast<long>(size)); };

  SECTION("missing image file") {
    const std::string p = dir.path("nowhere");
    const std::string m = error_of([&] { read_idx(p, labels, "x"); });
    CHECK_THAT(m, Contains(p) && Contains("cannot open"));
  }
  SECTION("missing label file") {
    const std::string p = dir.path("nowhere-labels");
    const std::string m = error_of([&] { read_idx(images, p, "x"); });
    CHECK_THAT(m, Contains(p) && Contains("cannot open"));
  }
  SECTION("empty file") {
    const auto [p, m] = image_error({});
    CHECK_THAT(m, Contains(p + ": byte 0:") && Contains("0-byte file"));
  }
  SECTION("shorter than the magic") {
    const auto [p, m] = image_error({0, 0, 8});
    CHECK_THAT(m, Contains(p + ": byte 0:") && Contains("3-byte file"));
  }
  SECTION("wrong magic") {
    const auto [p, m] = image_error(with(with(good_images, 0, 0x12), 1, 0x34));
    CHECK_THAT(m, Contains(p + ": byte 0:") && Contains("0x12340803") && Contains("0x00000803"));
  }
  SECTION("wrong data type byte") {
    const auto [p, m] = image_error(with(good_images, 2, 0x0D));
    CHECK_THAT(m, Contains(p + ": byte 2:") && Contains("0x0D (float)") && Contains("expected 0x08"));
  }
  SECTION("a label file given as images: wrong dimension count") {
    const auto [p, m] = image_error(good_labels);
    CHECK_THAT(m, Contains(p + ": byte 3:") && Contains("dimension count 1"));
  }
  SECTION("truncated header") {
    const auto [p, m] = image_error(cut(good_images, 10));
    CHECK_THAT(m, Contains(p + ": byte 8:") && Contains("expected 16 header bytes") && Contains("found 10"));
  }
  SECTION("zero images") {
    const auto [p, m] = image_error(images_bytes(0, 2, 2));
    CHECK_THAT(m, Contains(p + ": byte 4:") && Contains("image count is 0"));
  }
  SECTION("zero rows") {
    const auto [p, m] = image_error(images_bytes(3, 0, 2));
    CHECK_THAT(m, Contains(p + ": byte 8:") && Contains("row count is 0"));
  }
  SECTION("zero columns") {
    const auto [p, m] = image_error(images_bytes(3, 2, 0));
    CHECK_THAT(m, Contains(p + ": byte 12:") && Contains("column count is 0"));
  }
  SECTION("truncated pixels") {
    const auto [p, m] = image_error(cut(good_images, 26));
    CHECK_THAT(m, Contains(p + ": byte 26:") && Contains("expected 12 data bytes") && Contains("found 10"));
  }
  SECTION("a header that claims 2^31 images in a 100-byte file is refused before any allocation") {
    Bytes b{0, 0, 0x08, 0x03};
    put32(b, 1u << 31);
    put32(b, 28);
    put32(b, 28);
    b.resize(100, 7);
    const auto [p, m] = image_error(b);
    CHECK_THAT(m, Contains(p + ": byte 100:") && Contains("expected 1683627180032 data bytes") && Contains("found 84"));
  }
  SECTION("trailing bytes") {
    Bytes b = good_images;
    b.insert(b.end(), {1, 2, 3});
    const auto [p, m] = image_error(b);
    CHECK_THAT(m, Contains(p + ": byte 28:") && Contains("found 3 more bytes"));
  }
  SECTION("truncated pixels in a gzip file count uncompressed bytes") {
    const auto [p, m] = image_error(cut(good_images, 20), true);
    CHECK_THAT(m, Contains(p + ": byte 20 (uncompressed):") && Contains("expected 12 data bytes") &&
                      Contains("found 4"));
  }
  SECTION("corrupt gzip stream") {
    const std::string gz = gzip(dir, "images.gz", images_bytes(20, 8, 8));
    std::ifstream in(gz, std::ios::binary);
    Bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(b.size() > 40);
    for (std::size_t k = 12; k < 30; ++k) b[k] = static_cast<unsigned char>(b[k] ^ 0xA5);
    const std::string p = plain(dir, "corrupt.gz", b);
    const std::string m = error_of([&] { read_idx(p, labels, "x"); });
    CHECK_THAT(m, Contains(p + ": compressed byte ") && Contains("gzip"));
  }
  SECTION("truncated gzip file") {
    const std::string gz = gzip(dir, "images.gz", good_images);
    std::ifstream in(gz, std::ios::binary);
    Bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string p = plain(dir, "cut.gz", cut(b, b.size() - 6));
    const std::string m = error_of([&] { read_idx(p, labels, "x"); });
    CHECK_THAT(m, Contains(p + ": compressed byte " + std::to_string(b.size() - 6)) && Contains("truncated"));
  }
  SECTION("garbage after the gzip stream") {
    const std::string gz = gzip(dir, "images.gz", good_images);
    std::ifstream in(gz, std::ios::binary);
    Bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t end = b.size();
    b.insert(b.end(), {'x', 'y'});
    const std::string p = plain(dir, "trailing.gz", b);
    const std::string m = error_of([&] { read_idx(p, labels, "x"); });
    CHECK_THAT(m, Contains(p + ": compressed byte " + std::to_string(end)) && Contains("found 2 more bytes"));
  }
  SECTION("labels: wrong magic") {
    const auto [p, m] = label_error(good_images);
    CHECK_THAT(m, Contains(p + ": byte 3:") && Contains("0x00000801"));
  }
  SECTION("labels: wrong data type") {
    const auto [p, m] = label_error(with(good_labels, 2, 0x0C));
    CHECK_THAT(m, Contains(p + ": byte 2:") && Contains("32-bit integer"));
  }
  SECTION("labels: count differs from the image count") {
    const auto [p, m] = label_error(labels_bytes({1, 0}));
    CHECK_THAT(m, Contains(p + ": byte 4:") && Contains("label count 2") && Contains("3 images"));
  }
  SECTION("labels: truncated") {
    const auto [p, m] = label_error(cut(good_labels, 10));
    CHECK_THAT(m, Contains(p + ": byte 10:") && Contains("expected 3 data bytes") && Contains("found 2"));
  }
  SECTION("labels: 255 is not a class") {
    const auto [p, m] = label_error(labels_bytes({1, 0, 255}));
    CHECK_THAT(m, Contains(p + ": byte 10:") && Contains("label 255"));
  }
  SECTION("labels: zero count") {
    const auto [p, m] = label_error(labels_bytes({}));
    CHECK_THAT(m, Contains(p + ": byte 4:") && Contains("label count is 0"));
  }
}

TEST_CASE("load_fashion_mnist checks the Fashion-MNIST shape", "[data][idx]") {
  ScratchDir dir("decent_idx_test");
  SECTION("missing directory") {
    const std::string m = error_of([&] { decent::load_fashion_mnist(dir.path("none"), false); });
    CHECK_THAT(m, Contains(dir.path("none") + "/t10k-images-idx3-ubyte.gz") && Contains("cannot open"));
  }
  SECTION("wrong image size") {
    gzip(dir, "t10k-images-idx3-ubyte.gz", images_bytes(2, 2, 2));
    gzip(dir, "t10k-labels-idx1-ubyte.gz", labels_bytes({0, 9}));
    const std::string m = error_of([&] { decent::load_fashion_mnist(dir.path(""), false); });
    CHECK_THAT(m, Contains("t10k-images-idx3-ubyte.gz: byte 8:") && Contains("28 x 28"));
  }
  SECTION("wrong class count; uncompressed files are used when there is no .gz") {
    plain(dir, "train-images-idx3-ubyte", images_bytes(2, 28, 28));
    plain(dir, "train-labels-idx1-ubyte", labels_bytes({0, 4}));
    const std::string m = error_of([&] { decent::load_fashion_mnist(dir.path(""), true); });
    CHECK_THAT(m, Contains("train-labels-idx1-ubyte: byte 8:") && Contains("10 Fashion-MNIST classes"));
  }
  SECTION("a well-formed small set loads") {
    plain(dir, "train-images-idx3-ubyte", images_bytes(2, 28, 28));
    plain(dir, "train-labels-idx1-ubyte", labels_bytes({0, 9}));
    const decent::Dataset d = decent::load_fashion_mnist(dir.path(""), true);
    CHECK(d.name == "fashion-mnist train");
    CHECK(d.size() == 2);
    CHECK(d.classes == 10);
  }
}

TEST_CASE("the installed Fashion-MNIST test set loads", "[data][idx][fashion-mnist]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    WARN("skipped: " << dir << " is missing (Debian package dataset-fashion-mnist)");
    return;
  }
  const decent::Dataset d = decent::load_fashion_mnist(dir, false);
  CHECK(d.name == "fashion-mnist test");
  REQUIRE(d.size() == 10000);
  REQUIRE(d.dim() == 784);
  REQUIRE(d.classes == 10);
  CHECK(d.features.minCoeff() == 0.0f);
  CHECK(d.features.maxCoeff() == 1.0f);
  std::vector<Eigen::Index> all(10000);
  for (Eigen::Index k = 0; k < 10000; ++k) all[static_cast<std::size_t>(k)] = k;
  CHECK(decent::class_counts(d.labels, all, 10) == std::vector<int>(10, 1000));
  // Images are not blank: the mean pixel of Fashion-MNIST is about 0.29.
  CHECK(d.features.mean() == Approx(0.29).margin(0.03));
}
