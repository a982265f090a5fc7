// Fuzz target: decent::read_idx (lib/include/decent/data/idx.hpp) on an image file and a label file.
// Input layout: a 2-byte little-endian length L, then L bytes of the image file (fewer if the input is
// shorter), then the label file. Either part may be gzip (the reader detects the magic bytes 1f 8b).
// Contract: a Dataset that keeps the header's promises, or decent::data_error; nothing else.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "decent/data/idx.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using decent::fuzz::expect;
  static const decent::fuzz::ScratchFile images("idx_images"), labels("idx_labels");
  const std::size_t declared = size >= 2 ? std::size_t{data[0]} | (std::size_t{data[1]} << 8) : 0;
  const std::size_t body = size >= 2 ? 2 : size;
  const std::size_t image_size = std::min(declared, size - body);
  images.write(data + body, image_size);
  labels.write(data + body + image_size, size - body - image_size);
  try {
    const decent::Dataset d = decent::read_idx(images.path(), labels.path(), "fuzz");
    expect(d.size() >= 1 && d.dim() >= 1, "at least one sample of at least one pixel");
    expect(d.labels.size() == static_cast<std::size_t>(d.size()), "one label per image");
    expect(d.targets.size() == 0, "classification data has no targets");
    expect(d.classes >= 1 && d.classes <= 255, "classes = max label + 1, labels 0..254");
    int max_label = 0;
    for (const int label : d.labels) {
      expect(label >= 0 && label < d.classes, "labels in 0..classes-1");
      max_label = std::max(max_label, label);
    }
    expect(max_label + 1 == d.classes, "classes = max label + 1");
    expect(d.features.allFinite() && d.features.minCoeff() >= 0 && d.features.maxCoeff() <= 1,
           "features = byte / 255 in [0, 1]");
  } catch (const decent::data_error&) {
  } catch (const std::exception& e) {
    decent::fuzz::undocumented(e);
  }
  return 0;
}
