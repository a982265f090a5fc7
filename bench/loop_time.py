#!/usr/bin/python3
"""P3, the loop users run: seconds per training step of a whole decent-train process, as the difference of a long
and a short run divided by the step difference (start-up, data loading and the final evaluation cancel out).

    /usr/bin/python3 bench/loop_time.py [--short 200] [--long 3200] [--repeats 3] [--batch 64] -- DECENT_TRAIN ARGS...

DECENT_TRAIN ARGS must not set --steps or --out (this script does). The short and long runs alternate, so that
drifting load hits both alike; the line reports the median of the per-repeat differences.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", type=int, default=200)
    parser.add_argument("--long", type=int, default=3200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64, help="samples per step (for samples/s)")
    parser.add_argument("--label", default="decent_train_loop")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise SystemExit("loop_time.py: give the decent-train command after --")
    per_step = []
    with tempfile.TemporaryDirectory() as scratch:
        for r in range(args.repeats):
            took = {}
            for steps in (args.short, args.long):
                out = os.path.join(scratch, f"run-{r}-{steps}.h5")
                start = time.perf_counter()
                subprocess.run(command + ["--steps", str(steps), "--out", out], check=True, stdout=subprocess.DEVNULL)
                took[steps] = time.perf_counter() - start
            per_step.append((took[args.long] - took[args.short]) / (args.long - args.short))
    print(json.dumps({"bench": "P3", "case": args.label, "batch": args.batch, "short": args.short, "long": args.long,
                      "unit": "s", "median": statistics.median(per_step), "repeats": len(per_step), "samples": per_step}))
    step = statistics.median(per_step)
    print(f"P3 {args.label}: {1e3 * step:.3f} ms per step = {args.batch / step:.0f} samples/s", file=sys.stderr)


if __name__ == "__main__":
    main()
