#pragma once
/// @file Reader for the IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed.
#include <string>

#include "decent/data/dataset.hpp"

namespace decent {

/// Reads an IDX image file (magic 0x00000803: unsigned bytes, dims [n, rows, cols], big-endian) and
/// its IDX label file (magic 0x00000801: unsigned bytes, dims [n]). Either file may be gzip-compressed;
/// compression is detected by the gzip magic bytes 1f 8b, not by the file name.
/// The result has dim = rows * cols (row-major pixels, as stored), features = byte / 255 in [0, 1],
/// and classes = max label + 1.
/// Throws data_error naming the file and the byte offset (in the uncompressed stream) for: a missing or
/// unreadable file, a corrupt gzip stream, a wrong magic number, data type or dimension count, a zero
/// dimension, truncated data or trailing bytes, a label count that differs from the image count, and a
/// label of 255.
Dataset read_idx(const std::string& images, const std::string& labels, std::string name);

/// Loads Fashion-MNIST from `dir`: train-{images-idx3,labels-idx1}-ubyte.gz (60000 samples) if `train`,
/// else t10k-... (10000 samples); a missing .gz falls back to the uncompressed file of the same stem.
/// Named "fashion-mnist train" or "fashion-mnist test"; 784 features, 10 classes.
/// Throws data_error as read_idx, and also if the images are not 28 x 28 or the labels do not span
/// exactly 10 classes. (Debian's dataset-fashion-mnist installs the files in /usr/share/datasets/fashion-mnist.)
Dataset load_fashion_mnist(const std::string& dir, bool train);

}  // namespace decent
