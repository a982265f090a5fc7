#!/usr/bin/env bash
# End-to-end checks of decent-gossip under mpiexec: reports, merge, rank-count independence, and
# exit code 2 with one message (from rank 0 only) for bad input.
# Usage: decent_gossip_test.sh PATH/TO/decent-gossip MPIEXEC
set -u
gossip=$1
mpiexec=$2
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run() { "$mpiexec" -n "$1" --oversubscribe "$gossip" "${@:2}"; }

# A run with a merge ends at consensus distance exactly 0.
if out=$(run 2 --topology ring --nodes 8 --dim 1000 --rounds 20 --merge 2>"$tmp/err"); then
  grep -q "after merge: consensus distance 0.000e+00" <<<"$out" && pass || fail "merge did not reach 0: $out"
  [ "$(grep -cE '^ +[0-9]+ ' <<<"$out")" -eq 11 ] && pass || fail "expected 11 report rows: $out"
else
  fail "ring run failed: $(cat "$tmp/err")"
fi

# The consensus distance after 30 rounds is the same on 1, 2 and 4 ranks (bitwise-identical gossip).
for p in 1 2 4; do
  run "$p" --topology base:2 --nodes 12 --dim 500 --rounds 7 --every 7 2>"$tmp/err" | awk '$1 == 7 {print $2}' >"$tmp/d$p" ||
    fail "base:2 run on $p ranks failed: $(cat "$tmp/err")"
done
if [ -s "$tmp/d1" ] && cmp -s "$tmp/d1" "$tmp/d2" && cmp -s "$tmp/d1" "$tmp/d4"; then pass
else fail "consensus distance differs across rank counts: $(cat "$tmp/d1" "$tmp/d2" "$tmp/d4" 2>/dev/null | tr '\n' ' ')"; fi

# Bad input: exit code 2, one line on stderr naming the problem.
expect_error() {
  local what=$1 pattern=$2
  shift 2
  run 2 "$@" >"$tmp/out" 2>"$tmp/err"
  local code=$?
  local lines
  lines=$(grep -c 'decent-gossip' "$tmp/err")
  if [ "$code" -eq 0 ]; then fail "$what: exit code 0"
  elif ! grep -Eq -- "$pattern" "$tmp/err"; then fail "$what: message does not match '$pattern': $(cat "$tmp/err")"
  elif [ "$lines" -ne 1 ]; then fail "$what: expected one decent-gossip message, got $lines: $(cat "$tmp/err")"
  else pass; fi
}
expect_error "fewer nodes than ranks" "1 nodes cannot be placed on 2 ranks" --nodes 1
expect_error "unknown topology" "unknown topology name 'tree'" --topology tree
expect_error "bad dim" "--dim must be >= 1" --dim 0
expect_error "unknown option" "unrecognised option '--round'" --round 3

finish
