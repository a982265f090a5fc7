#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/ (small valid and invalid
inputs; the input layouts are described at the top of each <target>_fuzz.cpp). The seeds are committed;
rerun this after changing it. libFuzzer adds the inputs it finds to its own working corpus in the
build directory, not here."""
import gzip
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "..")


def write(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


# ---- idx: 2-byte little-endian image-file length, image file, label file --------------------------
def images(n, rows, cols, pixels=None, magic=b"\x00\x00\x08\x03"):
    body = bytes((k * 7) % 256 for k in range(n * rows * cols)) if pixels is None else pixels
    return magic + struct.pack(">III", n, rows, cols) + body


def labels(values, count=None, magic=b"\x00\x00\x08\x01"):
    return magic + struct.pack(">I", len(values) if count is None else count) + bytes(values)


def idx(image_file, label_file):
    return struct.pack("<H", min(len(image_file), 0xFFFF)) + image_file + label_file


good_images, good_labels = images(3, 2, 2), labels([2, 0, 4])
write("idx", "valid_plain", idx(good_images, good_labels))
write("idx", "valid_gzip", idx(gz(good_images), gz(good_labels)))
write("idx", "valid_gzip_images_plain_labels", idx(gz(good_images), good_labels))
write("idx", "valid_two_gzip_members", idx(gz(good_images[:9]) + gz(good_images[9:]), good_labels))
write("idx", "valid_28x28", idx(gz(images(2, 28, 28)), labels([9, 1])))
write("idx", "lying_count_2_31", idx(images(1 << 31, 2, 2, pixels=bytes(84)), labels([0] * 3, count=1 << 31)))
write("idx", "lying_dims_huge", idx(images(0xFFFF, 0xFFFF, 0xFFFF, pixels=bytes(16)), good_labels))
write("idx", "lying_count_gzip", idx(gz(images(1 << 31, 28, 28, pixels=bytes(784))), gz(labels([1], count=1 << 31))))
write("idx", "zero_rows", idx(images(3, 0, 2, pixels=b""), good_labels))
write("idx", "truncated_header", idx(good_images[:10], good_labels))
write("idx", "truncated_data", idx(good_images[:-1], good_labels))
write("idx", "trailing_bytes", idx(good_images + b"\x00", good_labels))
write("idx", "wrong_magic", idx(images(3, 2, 2, magic=b"\x12\x34\x08\x03"), good_labels))
write("idx", "float_type", idx(images(3, 2, 2, magic=b"\x00\x00\x0d\x03"), good_labels))
write("idx", "labels_as_images", idx(good_labels, good_images))
write("idx", "label_255", idx(good_images, labels([1, 255, 0])))
write("idx", "label_count_mismatch", idx(good_images, labels([1, 2])))
write("idx", "truncated_gzip", idx(gz(good_images)[:-6], good_labels))
write("idx", "corrupt_gzip_crc", idx(gz(good_images)[:-8] + b"\xde\xad\xbe\xef" + gz(good_images)[-4:], good_labels))
write("idx", "gzip_then_garbage", idx(gz(good_images) + b"garbage", good_labels))
write("idx", "gzip_magic_only", idx(b"\x1f\x8b", good_labels))
write("idx", "empty", b"")
write("idx", "empty_files", idx(b"", b""))

# ---- libsvm: one option byte (bit 0 regression, bits 1..7 dim), then the file ---------------------
def svm(text, regression=False, dim=0):
    return bytes([(dim << 1) | int(regression)]) + text.encode()


write("libsvm", "valid_classification", svm("+1 1:0.5 3:-2\n-1 2:1e-3\n+1 1:1 2:2 3:3\n"))
write("libsvm", "valid_regression", svm("0.25 1:1\n-3.5 2:0.5 4:1\n", regression=True))
write("libsvm", "valid_dim_given", svm("1 1:1\n2 5:1\n3 2:0.5\n", dim=5))
write("libsvm", "valid_comments_crlf", svm("# header\r\n1 1:1 # trailing\r\n\r\n0 2:-1\r\n"))
write("libsvm", "valid_label_only", svm("1\n0\n"))
write("libsvm", "index_zero", svm("1 0:1\n"))
write("libsvm", "index_negative", svm("1 -3:1\n"))
write("libsvm", "index_decreasing", svm("1 3:1 2:1\n"))
write("libsvm", "index_repeated", svm("1 2:1 2:1\n"))
write("libsvm", "index_huge", svm("1 99999999999999999999:1\n"))
write("libsvm", "index_max", svm("1 2147483647:1\n"))
write("libsvm", "index_above_dim", svm("1 1:1 9:1\n", dim=4))
write("libsvm", "no_colon", svm("1 1:1 2\n"))
write("libsvm", "value_nan", svm("1 1:nan\n"))
write("libsvm", "value_inf", svm("1 1:inf\n"))
write("libsvm", "value_float_overflow", svm("1 1:1e39\n"))
write("libsvm", "label_text", svm("yes 1:1\n"))
write("libsvm", "label_double_plus", svm("++1 1:1\n"))
write("libsvm", "target_float_overflow", svm("1e300 1:1\n", regression=True))
write("libsvm", "empty", svm(""))
write("libsvm", "comments_only", svm("# nothing\n\n"))
write("libsvm", "binary", bytes([0]) + bytes(range(256)))

# ---- topology_file: the file as it is ----------------------------------------------------------------
with open(os.path.join(root, "topologies", "petersen.txt"), "rb") as f:
    write("topology_file", "valid_petersen", f.read())
with open(os.path.join(root, "topologies", "ring-8-lazy.txt"), "rb") as f:
    write("topology_file", "valid_ring_8_lazy", f.read())
write("topology_file", "valid_path_weighted", "# lazy path\nnodes 3\n0 1 0.25\n1 2 0.25\n1 1 0.5\n")
write("topology_file", "valid_directed", "directed\n0 1 0.5\n1 2 0.5\n2 0 0.5\n")
write("topology_file", "valid_isolated", "nodes 5\n0 1\n")
write("topology_file", "valid_crlf_tabs", "nodes 2\r\n0\t1\r\n")
write("topology_file", "empty", "")
write("topology_file", "comments_only", "# nothing\n\n")
write("topology_file", "unknown_keyword", "vertices 3\n0 1\n")
write("topology_file", "nodes_twice", "nodes 3\nnodes 3\n0 1\n")
write("topology_file", "nodes_after_edge", "0 1\nnodes 3\n")
write("topology_file", "nodes_zero", "nodes 0\n")
write("topology_file", "nodes_huge", "nodes 2000000000\n0 1\n")
write("topology_file", "nodes_at_cap", "nodes 1048575\n0 1 0.5\n")
write("topology_file", "nodes_above_cap", "nodes 16777215\n0 1 0.5\n")
write("topology_file", "id_out_of_range", "nodes 3\n0 3\n")
write("topology_file", "id_negative", "0 -1\n")
write("topology_file", "id_fraction", "0 1.5\n")
write("topology_file", "self_loop_unweighted", "0 0\n")
write("topology_file", "duplicate_edge", "0 1\n1 0\n")
write("topology_file", "mixed_weights", "0 1 0.5\n1 2\n")
write("topology_file", "weight_zero", "0 1 0\n")
write("topology_file", "weight_nan", "0 1 nan\n")
write("topology_file", "weight_above_one", "0 1 1.5\n")
write("topology_file", "row_overfull", "0 1 0.6\n0 2 0.6\n")
write("topology_file", "self_weight_wrong_sum", "0 1 0.5\n0 0 0.3\n")
write("topology_file", "directed_twice", "directed\ndirected\n0 1\n")
write("topology_file", "too_many_tokens", "0 1 0.5 0.5\n")

# ---- train_config: the INI file of decent-train --config ----------------------------------------------
write("train_config", "valid_small", "# a small run\nnodes = 4\nsteps = 60\ndataset = synthetic\nmodel = softmax\n"
      "topology = exponential\nlr = 0.1\n")
write("train_config", "valid_many_keys",
      "nodes = 8\nsteps = 100\nseed = 3\nout = run.h5\neval-every = 10\nalgorithm = dpsgd\ntopology = random:0.5\n"
      "budget-profile = late-switch\nbudget-point = 0.8\nr-end = 2\nmodel = mlp\nhidden = 64,32\n"
      "lr-schedule = step\nlr-milestones = 50,80\nmomentum = 0\nfinal-merge = false\npost-merge-rounds = 3\n"
      "partition = shards\nshards-per-node = 3\nplane = nodes:0,1,2\nprobe-nodes = 0,3\n")
write("train_config", "valid_random_with_r", "topology = random\nr = 1.5\n")
write("train_config", "valid_empty", "")
write("train_config", "unknown_key", "topolgy = ring\n")
write("train_config", "section", "[train]\nsteps = 10\n")
write("train_config", "no_equals", "steps 10\n")
write("train_config", "repeated_key", "steps = 10\nsteps = 20\n")
write("train_config", "bad_number", "steps = ten\n")
write("train_config", "overflow", "steps = 99999999999999999999999\n")
write("train_config", "negative_nodes", "nodes = -3\n")
write("train_config", "bad_enum", "algorithm = fedavg\n")
write("train_config", "bad_hidden", "hidden = 64,,32\n")
write("train_config", "hidden_on_softmax", "model = softmax\nhidden = 8\n")
write("train_config", "r_conflict", "topology = random:0.2\nr = 0.5\n")
write("train_config", "bad_random_budget", "topology = random:abc\n")
write("train_config", "bad_milestones", "lr-schedule = step\nlr-milestones = 10,x\n")
write("train_config", "bad_bool", "final-merge = maybe\n")
write("train_config", "lr_nan", "lr = nan\n")
write("train_config", "help_key", "help = 1\n")
write("train_config", "binary", bytes(range(256)))
print("seeds written under", os.path.join(here, "corpus"))
