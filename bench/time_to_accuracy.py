#!/usr/bin/python3
"""Time to a test accuracy of decent-train runs, from their HDF5 files (docs/hdf5.md), for bench/run_all (P5).

    /usr/bin/python3 bench/time_to_accuracy.py --target 0.85 RUN.h5 [RUN.h5 ...]

For each run: the first eval whose merged accuracy (the mean model, what a final merge gives) reaches the
target, and the training wall time at that step with the eval time taken out, as the PyTorch baseline
stops its clock for evals. /train/wall_s[t] is recorded after step t and before the eval that follows it,
so an eval after step t shows up in wall_s[t + 1] - wall_s[t]; its cost is that difference minus the
median step time. Prints one JSON line (median over runs) like the C++ benchmarks.
"""
import argparse
import json
import statistics
import sys

import h5py
import numpy as np


def time_to_accuracy(path, target):
    with h5py.File(path, "r") as f:
        wall = f["train/wall_s"][:]
        eval_steps = f["eval/step"][:]
        merged = f["eval/merged_acc"][:]
    hits = np.nonzero(merged >= target)[0]
    if len(hits) == 0:
        return None, None, float(merged.max()), None, None
    e = int(hits[0])
    t = int(eval_steps[e])
    steps = np.diff(wall)
    typical = float(np.median(steps))
    eval_cost = sum(max(0.0, float(wall[s + 1] - wall[s]) - typical) for s in eval_steps[:e] if s + 1 < len(wall))
    return float(wall[t]) - eval_cost, t + 1, float(merged[e]), eval_cost, typical


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=float, default=0.85)
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()
    seconds, steps, step_times = [], [], []
    for path in args.runs:
        value, step, accuracy, eval_cost, typical = time_to_accuracy(path, args.target)
        print(f"P5 decent {path}: {'missed' if value is None else f'{value:.3f} s'} at step {step} "
              f"(accuracy {accuracy:.4f}, eval time taken out {eval_cost})", file=sys.stderr)
        if value is not None:
            seconds.append(value)
            steps.append(step)
            step_times.append(typical)
    line = {"bench": "P5", "case": "decent_time_to_accuracy", "target": args.target, "runs": len(args.runs),
            "reached": len(seconds), "steps_to_target": steps,
            "median_step_s": statistics.median(step_times) if step_times else None, "unit": "s",
            "median": statistics.median(seconds) if seconds else None, "repeats": len(seconds), "samples": seconds}
    print(json.dumps(line), flush=True)
    return 0 if len(seconds) == len(args.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
