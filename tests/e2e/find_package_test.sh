#!/usr/bin/env bash
# Installs decent from the build tree into a scratch prefix, builds examples/consumer against it with
# find_package(decent), and runs it under mpiexec -n 2.
# Usage: find_package_test.sh BUILD_DIR SOURCE_DIR CMAKE MPIEXEC
set -eu
build=$1
src=$2
cmake=$3
mpiexec=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cmake" --install "$build" --prefix "$work/prefix" >"$work/install.log"
test -f "$work/prefix/lib/cmake/decent/decentConfig.cmake"
test -f "$work/prefix/include/decent/gossip/gossip.hpp"
"$cmake" -S "$src/examples/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
"$cmake" --build "$work/consumer" -j2 >"$work/build.log" || { cat "$work/build.log"; exit 1; }
"$mpiexec" -n 2 --oversubscribe "$work/consumer/consensus" one-peer-exponential 16 4
"$mpiexec" -n 2 --oversubscribe "$work/consumer/consensus" ring 9 300
"$mpiexec" -n 2 --oversubscribe "$work/consumer/custom_model" "$work/custom_model.h5"
test -s "$work/custom_model.h5"
"$mpiexec" -n 2 --oversubscribe "$work/consumer/layers"
"$mpiexec" -n 2 --oversubscribe "$work/consumer/solver" "$work/solver.h5"
/usr/bin/python3 -c 'import h5py, sys; f = h5py.File(sys.argv[1]); assert f.attrs["finished"] == 1 and f["train/loss"].shape == (1000, 8)' "$work/solver.h5"
echo "find_package consumer: built against the installed package and ran on 2 ranks"
