"""decent_report RUN.h5 [RUN2.h5 ...] -o DIR [--title TEXT]: figures and report.md for decent runs.

Exit codes: 0 written; 2 bad input (a missing file, not HDF5, not a decent run, an unwritable
output directory), with one line on stderr naming the file and the problem.
"""
import argparse
import os
import sys

from .run import RunError, load_runs

PROG = "decent_report"


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=PROG, description="Figures and a Markdown report (report.md) for decent-train run files.")
    parser.add_argument("runs", nargs="+", metavar="RUN.h5", help="decent-train HDF5 run files")
    parser.add_argument("-o", "--out", required=True, metavar="DIR", help="output directory (created)")
    parser.add_argument("--title", help="the report's title")
    return parser.parse_args(argv)


def fail(message):
    print(f"{PROG}: {message}", file=sys.stderr)
    return 2


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        runs = load_runs(args.runs)
    except RunError as error:
        return fail(str(error))
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as error:
        return fail(f"{args.out}: cannot create the output directory ({error.strerror or error})")
    if not os.access(args.out, os.W_OK):
        return fail(f"{args.out}: output directory is not writable")

    from . import figures  # matplotlib is imported only once the inputs are known to be good
    from .report import write_report

    made, skipped = [], []
    reasons = {
        "train_loss": "train_loss.png: no run has a recorded training step yet.",
        "accuracy": "accuracy.png: no run has an eval yet.",
        "consensus": "consensus.png: no run has an eval yet.",
        "bytes_sent": "bytes.png: no run has a recorded training step yet.",
        "interpolation": "interpolation.png: no run has /landscape interpolation probes.",
        "landscape": "landscape.png: no run has a /landscape loss plane.",
    }
    for figure in figures.ALL:
        try:
            result = figure(runs, args.out)
        except Exception as error:  # a figure that cannot be drawn must not cost the rest of the report
            message = f"{figure.__name__} could not be drawn ({type(error).__name__}: {error})"
            print(f"{PROG}: warning: {message}", file=sys.stderr)
            skipped.append(f"Not drawn: {message}.")
            continue
        if result is None:
            skipped.append("Not drawn: " + reasons.get(figure.__name__, figure.__name__))
        else:
            made.append(result)
    path = write_report(runs, made, skipped, args.out, args.title)
    print(f"{PROG}: wrote {path} and {len(made)} figures ({', '.join(f for f, _ in made)})")
    return 0
