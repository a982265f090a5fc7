# Shared by the end-to-end test scripts (sourced): a scratch directory removed on exit, pass/fail
# counters, and the closing "N passed, M failed" line whose status is the script's exit code.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
passes=0
pass() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
finish() {
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}
