#!/usr/bin/python3
"""Writes the Fashion-MNIST-shaped data directories of the bad-input corpus (tests/bad_inputs/idx/<case>/,
each with train-* and t10k-* IDX files, gzip-compressed as the dataset ships them). Every case is a valid
directory with one thing broken. The files are committed; rerun this after changing it."""
import gzip
import os
import shutil
import struct

here = os.path.dirname(os.path.abspath(__file__))
base = os.path.join(here, "idx")

def images(n, rows=28, cols=28, count=None, magic=0x803, data=None):
    body = bytes(((k * 37) // 7) % 256 for k in range(n * rows * cols)) if data is None else data
    return struct.pack(">IIII", magic, n if count is None else count, rows, cols) + body

def labels(values, count=None, magic=0x801):
    return struct.pack(">II", magic, len(values) if count is None else count) + bytes(values)

def gz(data):
    return gzip.compress(data, mtime=0)

TEN = list(range(10))
good = {
    "train-images-idx3-ubyte.gz": gz(images(10)),
    "train-labels-idx1-ubyte.gz": gz(labels(TEN)),
    "t10k-images-idx3-ubyte.gz": gz(images(10)),
    "t10k-labels-idx1-ubyte.gz": gz(labels(TEN)),
}

def case(name, **files):
    d = os.path.join(base, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for f, data in {**good, **{k.replace("_", "-") + ".gz": v for k, v in files.items()}}.items():
        with open(os.path.join(d, f), "wb") as out:
            out.write(data)

good_images = good["train-images-idx3-ubyte.gz"]
case("truncated_gzip", train_images_idx3_ubyte=good_images[: len(good_images) // 2])
corrupt = bytearray(good_images)
for k in range(20, 40):
    corrupt[k] ^= 0x5A
case("corrupt_gzip", train_images_idx3_ubyte=bytes(corrupt))
case("labels_as_images", train_images_idx3_ubyte=good["train-labels-idx1-ubyte.gz"])
case("lying_count", train_images_idx3_ubyte=gz(images(1, count=1 << 31, data=bytes(84))))
case("truncated_data", train_images_idx3_ubyte=gz(images(10)[:-100]))
case("trailing_bytes", train_images_idx3_ubyte=gz(images(10) + b"\0" * 7))
case("label_count_mismatch", train_labels_idx1_ubyte=gz(labels(TEN[:9])))
case("label_255", train_labels_idx1_ubyte=gz(labels(TEN[:5] + [255] + TEN[6:])))
case("not_28x28", train_images_idx3_ubyte=gz(images(10, rows=10, cols=10)))
case("eleven_classes", train_labels_idx1_ubyte=gz(labels(TEN[:9] + [10])))
case("empty_file", train_images_idx3_ubyte=b"")
case("float_pixels", train_images_idx3_ubyte=gz(images(10, magic=0xD03)))
case("bad_test_set", t10k_images_idx3_ubyte=gz(images(10)[:-1]))
print("wrote", base)
