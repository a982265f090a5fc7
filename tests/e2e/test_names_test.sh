#!/usr/bin/env bash
# CTest's test discovery splits Catch test names at ';' and leaves lists unsplit inside an unbalanced '[': such a
# name silently merges the test cases around it into one CTest entry whose filter matches nothing, so they never
# run. This test refuses such names. Usage: test_names_test.sh UNIT_TEST_BINARY
set -u
bad=$("$1" --list-test-names-only | /usr/bin/python3 -c '
import sys
for name in sys.stdin:
    name = name.rstrip("\n")
    if ";" in name or name.count("[") != name.count("]"):
        print(name)')
if [ -n "$bad" ]; then
  echo "test names that CTest cannot register (a ';' or an unbalanced '['):" >&2
  echo "$bad" >&2
  exit 1
fi
echo "test names: $("$1" --list-test-names-only | grep -c .) unit test cases, all registrable"
