// Fuzz target: decent::read_libsvm (lib/include/decent/data/libsvm.hpp).
// Input layout: one option byte, then the file. Bit 0 of the option byte picks the task (0
// classification, 1 regression); bits 1..7 give LibsvmOptions::dim (0 = the largest index in the file).
// Contract: a Dataset that keeps the documented promises, or decent::data_error; nothing else.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "decent/data/libsvm.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using decent::fuzz::expect;
  static const decent::fuzz::ScratchFile file("libsvm");
  decent::LibsvmOptions options;
  if (size > 0) {
    options.task = (data[0] & 1) != 0 ? decent::LibsvmTask::regression : decent::LibsvmTask::classification;
    options.dim = data[0] >> 1;
    ++data;
    --size;
  }
  file.write(data, size);
  try {
    const decent::Dataset d = decent::read_libsvm(file.path(), "fuzz", options);
    expect(d.size() >= 1, "at least one sample");
    expect(options.dim == 0 || d.dim() == options.dim, "dim as given in the options");
    expect(d.features.allFinite(), "finite features");
    if (options.task == decent::LibsvmTask::regression) {
      expect(d.classes == 0 && d.labels.empty(), "regression data has no classes");
      expect(d.targets.size() == d.size() && d.targets.allFinite(), "one finite target per sample");
    } else {
      expect(d.targets.size() == 0, "classification data has no targets");
      expect(d.labels.size() == static_cast<std::size_t>(d.size()), "one label per sample");
      expect(d.classes >= 1 && d.classes <= d.size(), "between 1 and N classes");
      std::vector<bool> used(static_cast<std::size_t>(d.classes));
      for (const int label : d.labels) {
        expect(label >= 0 && label < d.classes, "labels in 0..classes-1");
        used[static_cast<std::size_t>(label)] = true;
      }
      expect(std::all_of(used.begin(), used.end(), [](bool u) { return u; }), "every class is some sample's label");
    }
  } catch (const decent::data_error&) {
  } catch (const std::exception& e) {
    decent::fuzz::undocumented(e);
  }
  return 0;
}
