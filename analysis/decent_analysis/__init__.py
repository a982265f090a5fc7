"""decent_analysis: read decent-train HDF5 run files (docs/hdf5.md) and report on them.

    from decent_analysis import load_runs
    runs = load_runs(["a.h5", "b.h5"])      # Run objects, labelled by the config keys that differ
    runs[0].merged_acc, runs[0].config["topology"], runs[0].finished

The command line is analysis/decent_report (decent_analysis.cli.main).
"""
from .run import Landscape, Run, RunError, label_runs, load_runs, parse_config

__all__ = ["Landscape", "Run", "RunError", "label_runs", "load_runs", "parse_config"]
