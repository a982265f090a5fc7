"""Compares two decent-train HDF5 files for the end-to-end tests: every dataset bit for bit except wall-clock
times (names ending in wall_s); B must say finished = 1 and resumes = RESUMES. With the flag --ranks, the eval
means summed over the ranks' parts of the test set (eval/merged_loss, eval/consensus_distance, eval/local_loss)
may differ by float rounding (relative 1e-6). Prints what differs (or how many datasets agree); exit 1 if any.
Usage: same_records.py A B RESUMES [--ranks]"""
import sys

import h5py
import numpy as np

a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
resumes = int(sys.argv[3])
rounding = {"eval/merged_loss", "eval/consensus_distance", "eval/local_loss"} if "--ranks" in sys.argv[4:] else set()


def names(f):
    out = []
    f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
    return set(out)


problems = []
if names(a) != names(b):
    problems.append(f"datasets differ: {sorted(names(a) ^ names(b))}")
for n in sorted(names(a) & names(b)):
    if n.endswith("wall_s"):
        continue
    x, y = a[n][()], b[n][()]
    if x.shape == y.shape and x.tobytes() == y.tobytes():
        continue
    if n in rounding and x.shape == y.shape and np.allclose(x, y, rtol=1e-6, atol=0, equal_nan=True):
        continue
    problems.append(f"{n} differs")
if b.attrs["finished"] != 1:
    problems.append("finished != 1")
if int(b.attrs.get("resumes", 0)) != resumes:
    problems.append(f"resumes = {b.attrs.get('resumes')}")
print("; ".join(problems) if problems else f"{len(names(a))} datasets identical")
sys.exit(1 if problems else 0)
