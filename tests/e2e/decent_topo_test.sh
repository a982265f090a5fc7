#!/usr/bin/env bash
# End-to-end checks of decent-topo: outputs, files it writes, and exit code 2 with one clear message
# for every bad input. Usage: decent_topo_test.sh PATH/TO/decent-topo SOURCE_DIR
set -u
topo=$1
src=$2
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# expect_ok "description" "expected text (grep -E)" args...
expect_ok() {
  local what=$1 pattern=$2
  shift 2
  local out code=0
  out=$("$topo" "$@" 2>"$tmp/err") || code=$?
  if [ "$code" -ne 0 ]; then
    fail "$what: exit $code ($(cat "$tmp/err"))"
  elif ! grep -Eq -- "$pattern" <<<"$out"; then
    fail "$what: output does not match '$pattern':"$'\n'"$out"
  else
    pass
  fi
}

# expect_error "description" "expected message (grep -E)" args...
expect_error() {
  local what=$1 pattern=$2
  shift 2
  "$topo" "$@" >"$tmp/out" 2>"$tmp/err"
  local code=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [ "$code" -ne 2 ]; then
    fail "$what: exit code $code, expected 2 (stderr: $(cat "$tmp/err"))"
  elif ! grep -Eq -- "$pattern" "$tmp/err"; then
    fail "$what: message '$(cat "$tmp/err")' does not match '$pattern'"
  elif [ "$lines" -ne 1 ]; then
    fail "$what: expected one line of error, got $lines: $(cat "$tmp/err")"
  elif [ -s "$tmp/out" ]; then
    fail "$what: printed output despite the error: $(cat "$tmp/out")"
  else
    pass
  fi
}

# --- outputs ------------------------------------------------------------------------------------
expect_ok "ring text" "spectral gap +0.0507" --topology ring --nodes 16
expect_ok "ring diameter" "diameter +8" --topology ring --nodes 16
expect_ok "ring default weights" "weights +uniform" --topology ring --nodes 16
expect_ok "star default weights" "weights +metropolis" --topology star --nodes 16
expect_ok "torus default shape" "edges +64 \(undirected\)" --topology torus --nodes 32
expect_ok "torus 4x8 gap" '"spectral_gap": 0.1171' --topology torus:4x8 --nodes 32 --json
expect_ok "exponential directed" '"directed": true' --topology exponential --nodes 12 --json
expect_ok "exponential gap" '"spectral_gap": 0.(4000000|3999999)' --topology exponential --nodes 16 --json
expect_ok "one-peer product" "spectral gap +1 \(product over one period\)" --topology one-peer-exponential --nodes 16
expect_ok "base any n" '"spectral_gap": (1|0.99999999)' --topology base:2 --nodes 23 --json
expect_ok "random has no period" "period +none" --topology random:0.5 --nodes 10
expect_ok "random not doubly stochastic" '"doubly_stochastic": false' --topology random:1 --nodes 10 --json
expect_ok "hypercube" '"diameter": 5' --topology hypercube --nodes 32 --json
expect_ok "star metropolis" "spectral gap +0.1$" --topology star --nodes 10
expect_ok "erdos-renyi seeded" '"nodes": 20' --topology erdos-renyi:0.3 --nodes 20 --seed 4 --json
expect_ok "complete" "spectral gap +1$" --topology complete --nodes 7
expect_ok "file nodes from file" '"nodes": 10, "edges": 15' --topology "file:$src/topologies/petersen.txt" --json
expect_ok "weights option" "weights +max-degree" --topology star --nodes 6 --weights max-degree
expect_ok "help" "Usage: decent-topo" --help

# JSON is well-formed and carries the documented keys.
"$topo" --topology ring --nodes 8 --json >"$tmp/ring.json"
if /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert {"nodes","edges","spectral_gap"} <= d.keys(); assert d["nodes"]==8 and d["edges"]==8' "$tmp/ring.json"; then
  pass
else
  fail "JSON output is not valid or lacks keys: $(cat "$tmp/ring.json")"
fi

# --write then read back gives the same graph and gap; --dot writes Graphviz.
if "$topo" --topology torus:3x4 --nodes 12 --write "$tmp/t.txt" --dot "$tmp/t.dot" --json >"$tmp/a.json" &&
   "$topo" --topology "file:$tmp/t.txt" --json >"$tmp/b.json"; then
  if /usr/bin/python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert a["edges"]==b["edges"] and abs(a["spectral_gap"]-b["spectral_gap"])<1e-12, (a,b)' "$tmp/a.json" "$tmp/b.json" &&
     grep -q '^graph decent' "$tmp/t.dot" && [ "$(grep -c -- ' -- ' "$tmp/t.dot")" -eq 24 ]; then
    pass
  else
    fail "--write/--dot round trip differs"
  fi
else
  fail "--write/--dot run failed"
fi

# --- bad input: exit 2, one line naming the problem --------------------------------------------
expect_error "unknown topology" "unknown topology name 'rign'.*allowed: ring" --topology rign --nodes 8
expect_error "torus shape mismatch" "a 3x5 torus has 15 nodes, not 16" --topology torus:3x5 --nodes 16
expect_error "zero nodes" "--nodes must be >= 1" --topology ring --nodes 0
expect_error "negative nodes" "--nodes must be >= 1" --topology ring --nodes -3
expect_error "hypercube size" "power-of-two" --topology hypercube --nodes 12
expect_error "bad weights" "unknown weight scheme 'metro'" --topology ring --nodes 8 --weights metro
expect_error "weights on time-varying" "a weight scheme does not apply" --topology base --nodes 8 --weights uniform
expect_error "unknown option" "unrecognised option .--colour." --topology ring --colour
expect_error "abbreviated option" "unrecognised option .--node." --topology ring --node 8
expect_error "non-numeric nodes" "nodes" --topology ring --nodes many
expect_error "missing file" "/no/such/file.txt" --topology file:/no/such/file.txt
printf 'nodes 4\n0 1\n1 7\n' >"$tmp/bad.txt"
expect_error "malformed file" "bad.txt:3: node id 7 is out of range" --topology "file:$tmp/bad.txt"
expect_error "write time-varying" "changes every round" --topology random --nodes 8 --write "$tmp/x.txt"
expect_error "dot unwritable" "cannot write Graphviz file" --topology ring --nodes 8 --dot /no/such/dir/x.dot

finish
