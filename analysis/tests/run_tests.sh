#!/bin/bash
# Runs the tests of analysis/decent_report (unittest) from the repository root; usable by CTest:
#   analysis/tests/run_tests.sh REPO_ROOT
# Environment: DECENT_TRAIN (default /work/main/build/drivers/decent-train), MPIEXEC (default mpiexec).
# Exits non-zero when a test fails; prints unittest's summary.
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || { echo "run_tests.sh: cannot enter $root"; exit 1; }
export MPLBACKEND=Agg
exec /usr/bin/python3 -m unittest discover -s analysis/tests -t analysis/tests -v
