#!/usr/bin/env bash
# End-to-end checks of decent-train under mpiexec: a small run's HDF5 file (read with h5py), INI file
# plus command line (the command line wins), and exit codes: 2 with one message for bad configuration or
# input, 3 for a diverging run (file marked finished = 0).
# Usage: decent_train_test.sh PATH/TO/decent-train MPIEXEC
set -u
train=$1
mpiexec=$2
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
run() { "$mpiexec" -n "$1" --oversubscribe "$train" "${@:2}"; }
data=(--dataset synthetic --synthetic-samples 2000 --synthetic-dim 16 --synthetic-classes 4 --steps 60
      --eval-every 20 --eval-samples 200 --progress off --hidden 16)
small=("${data[@]}" --nodes 4 --batch 16)

# --- a run from an INI file, with a command-line override ---------------------------------------
cat >"$tmp/run.ini" <<INI
# a small experiment
topology = exponential
algorithm = dsgd
lr = 0.1
steps = 40
INI
if run 2 --config "$tmp/run.ini" "${small[@]}" --out "$tmp/run.h5" >"$tmp/out" 2>"$tmp/err"; then
  pass
  grep -q "announced" "$tmp/out" && pass || fail "no summary line: $(cat "$tmp/out")"
  if /usr/bin/python3 - "$tmp/run.h5" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
a = f.attrs
assert a["finished"] == 1 and a["n_nodes"] == 4 and a["n_ranks"] == 2, dict(a)
gemm = a["gemm"].decode() if isinstance(a["gemm"], bytes) else a["gemm"]
assert gemm.startswith(("eigen", "openblas")), gemm
config = a["config"]
config = config.decode() if isinstance(config, bytes) else config
assert "topology = exponential" in config and "steps = 60" in config, config   # command line won over the file
assert f["train/loss"].shape == (60, 4) and f["train/step"][-1] == 59
assert list(f["eval/step"][:]) == [19, 39, 59], f["eval/step"][:]
assert f["eval/local_acc"].shape == (3, 4) and f["eval/distance_to_mean"].shape == (3, 4)
assert np.all(np.isfinite(f["train/loss"][:]))
assert f["final/merged_params"].shape[0] > 0
assert f["topology"].attrs["spec"] in ("exponential", b"exponential")
assert f["schedule/merge_step"][:].tolist() == [59]
# exponential on 4 nodes: 2 peers each, so a round moves 8 vectors; the final merge 2 (n-1) vectors
d = f["final/merged_params"].shape[0]
assert f["train/bytes_sent"][0] == 8 * d * 4, (f["train/bytes_sent"][0], d)
assert f["train/bytes_sent"][-1] == 2 * 3 * d * 4
assert f["eval/merged_acc"][-1] > 0.5, f["eval/merged_acc"][:]
PY
  then pass; else fail "HDF5 contents"; fi
else
  fail "small run failed: $(cat "$tmp/err")"
fi

# --- landscape probes: shapes follow the options ----------------------------------------------------
if run 2 "${small[@]}" --landscape-every 20 --probe-nodes 0,2 --interp-points 6 --landscape-grid 5 \
     --plane nodes:0,1,3 --out "$tmp/land.h5" >"$tmp/out" 2>"$tmp/err"; then
  /usr/bin/python3 - "$tmp/land.h5" <<'PY' && pass || fail "landscape datasets"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
g = f["landscape"]
assert list(g["step"][:]) == [19, 39, 59], g["step"][:]
assert list(g["interp_nodes"][:]) == [0, 2] and g["interp_loss"].shape == (3, 2, 6) and g["alpha"].shape == (6,)
assert g["plane_loss"].shape == (3, 5, 5) and g["plane_nodes"].shape == (3, 4, 2)
plane = g.attrs["plane"]
assert (plane.decode() if isinstance(plane, bytes) else plane) == "nodes:0,1,3"
assert np.allclose(g["plane_nodes"][0][0], [0, 0])          # the plane's origin is model 0
assert np.all(g["barrier"][:] >= 0)
gap = f["eval/merged_acc"][:] - f["eval/local_acc"][:].mean(axis=1)
assert np.allclose(f["eval/mergeability_gap"][:], gap)
PY
else
  fail "landscape run failed: $(cat "$tmp/err")"
fi

# --- every algorithm runs; server keeps the nodes identical ---------------------------------------
for algorithm in dpsgd server local-sgd; do
  period=(--gossip-every 5)
  [ "$algorithm" = server ] && period=()  # server all-reduces every step: it reads no period
  if run 2 "${small[@]}" --algorithm "$algorithm" "${period[@]}" --out "$tmp/$algorithm.h5" >"$tmp/out" 2>"$tmp/err"; then
    pass
  else
    fail "$algorithm run failed: $(cat "$tmp/err")"
  fi
done
/usr/bin/python3 -c 'import h5py,sys; f=h5py.File(sys.argv[1]); assert max(f["eval/consensus_distance"][:]) == 0' "$tmp/server.h5" \
  && pass || fail "server nodes drifted apart"

# --- bad input: exit 2, one message naming the key ------------------------------------------------
expect_error() {
  local what=$1 code=$2 pattern=$3
  shift 3
  run 2 "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  local lines
  lines=$(grep -c 'decent-train' "$tmp/err")
  if [ "$got" -ne "$code" ]; then fail "$what: exit code $got, expected $code ($(cat "$tmp/err"))"
  elif ! grep -Eq -- "$pattern" "$tmp/err"; then fail "$what: message does not match '$pattern': $(cat "$tmp/err")"
  elif [ "$lines" -ne 1 ]; then fail "$what: expected one decent-train message, got $lines: $(cat "$tmp/err")"
  else pass; fi
}
printf 'topolgy = ring\n' >"$tmp/typo.ini"
expect_error "unknown option" 2 "unrecognised option '--stepz'" "${small[@]}" --stepz 3
expect_error "unknown key in file" 2 "topolgy" --config "$tmp/typo.ini" "${small[@]}"
expect_error "missing config file" 2 "config: cannot read '/no/such.ini'" --config /no/such.ini
expect_error "nodes < ranks" 2 "nodes: 1 nodes cannot run on 2 ranks" "${data[@]}" --nodes 1
expect_error "batch > shard" 2 "batch: 5000 is larger than node 0's shard" "${data[@]}" --nodes 4 --batch 5000
expect_error "repeated option" 2 "'--nodes' cannot be specified more than once" "${small[@]}" --nodes 8
expect_error "regression with label partition" 2 "partition: dirichlet needs class labels" --dataset synthetic --model linear
expect_error "topology misfit" 2 "a 3x3 torus has 9 nodes, not 4" "${small[@]}" --topology torus:3x3
expect_error "bad algorithm" 2 "algorithm: 'fedsgd' is not allowed \(allowed: dsgd, dpsgd, server, local-sgd, choco" "${small[@]}" --algorithm fedsgd
expect_error "negative lr" 2 "lr: must be > 0" "${small[@]}" --lr -1
DECENT_GEMM=fast expect_error "bad DECENT_GEMM" 2 "DECENT_GEMM must be auto, eigen or openblas, not 'fast'" "${small[@]}"
expect_error "hidden on softmax" 2 "hidden: applies to model = mlp only" "${small[@]}" --model softmax
expect_error "bad number" 2 "steps" "${small[@]}" --steps ten
expect_error "profile needs random" 2 "budget-profile: with budget-target = budget" "${small[@]}" --budget-profile late-switch \
  --budget-target budget --out "$tmp/never.h5"
[ ! -e "$tmp/never.h5" ] && pass || fail "a run refused for its configuration left an output file"
expect_error "random without a budget" 2 "topology: 'random:' needs one budget" "${small[@]}" --topology random:
expect_error "two end budgets" 2 "r-end: '0.1,0.2' must be one number" "${small[@]}" --r-end 0.1,0.2
expect_error "conflicting budgets" 2 "r: 0.500000 conflicts with topology = random:0.2" "${small[@]}" --topology random:0.2 --r 0.5
if run 1 "${small[@]}" --topology random --r 0.3 --out "$tmp/r.h5" >"$tmp/out" 2>&1 &&
   grep -q "topology  random:0.3 " "$tmp/out"; then pass; else fail "topology = random does not take r: $(cat "$tmp/out")"; fi
expect_error "probe node out of range" 2 "probe-nodes: '9' is not a node id in 0..3" "${small[@]}" --probe-nodes 0,9
expect_error "bad plane" 2 "plane: 'pcb' is not allowed" "${small[@]}" --plane pcb
expect_error "plane needs three" 2 "plane: nodes:I,J,K needs exactly three node ids" "${small[@]}" --plane nodes:0,1
expect_error "libsvm without file" 2 "train-file: required with dataset = libsvm" --dataset libsvm
printf '1 1:0.5 2:1\n0 1:0.25 x:3\n' >"$tmp/bad.svm"
expect_error "malformed libsvm" 2 "bad.svm:2" --dataset libsvm --train-file "$tmp/bad.svm" --nodes 2
expect_error "missing data dir" 2 "/no/fmnist" --dataset fashion-mnist --data-dir /no/fmnist

# --- compression: bytes on the wire, and combinations that make no sense --------------------------
if run 2 "${small[@]}" --algorithm server --compressor topk:0.1 --error-feedback ef21 --compress-warmup 5 \
     --out "$tmp/ef21.h5" >"$tmp/out" 2>"$tmp/err" &&
   run 2 "${small[@]}" --algorithm choco --compressor sign --choco-gamma 0.3 --topology ring \
     --out "$tmp/choco.h5" >>"$tmp/out" 2>>"$tmp/err"; then
  pass
  grep -q "compress  topk:0.1: " "$tmp/out" && pass || fail "no compression line: $(cat "$tmp/out")"
  /usr/bin/python3 - "$tmp/ef21.h5" "$tmp/choco.h5" <<'PY' && pass || fail "compressed bytes_sent"
import math, sys, h5py
ef21, choco = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
d = ef21["final/merged_params"].shape[0]
sent = ef21["train/bytes_sent"][:]
# 5 exact steps: a dense all-reduce of 4 nodes; then 4 messages of top-10% each reach the 3 other nodes
k, bits = round(0.1 * d), math.ceil(math.log2(d))
message = 4 + 4 * k + math.ceil(k * bits / 8)
assert list(sent[:5]) == [2 * 3 * d * 4] * 5, sent[:6]
assert all(s == 4 * 3 * message for s in sent[5:]), (sent[5:8], message)
assert ef21.attrs["finished"] == 1 and choco.attrs["finished"] == 1
# sign: 4-byte header, 4-byte scale, one bit per coordinate; a ring's node has 2 readers; last step merges
sign = 4 + 4 + math.ceil(d / 8)
c = choco["train/bytes_sent"][:]
assert all(s == 4 * 2 * sign for s in c[:-1]), (c[:3], sign)
assert c[-1] == 2 * 3 * d * 4
assert choco["eval/merged_acc"][-1] > 0.5
PY
else
  fail "compressed runs failed: $(cat "$tmp/err")"
fi
expect_error "compressor with dsgd" 2 "compressor: topk:0.1 needs algorithm = server .* or choco" "${small[@]}" --compressor topk:0.1
expect_error "feedback with choco" 2 "error-feedback: ef21 applies to algorithm = server" "${small[@]}" --algorithm choco --error-feedback ef21
expect_error "bad compressor" 2 "compressor: .*topk:2.5" "${small[@]}" --algorithm server --compressor topk:2.5
expect_error "bad feedback" 2 "error-feedback: 'ef22' is not allowed" "${small[@]}" --algorithm server --error-feedback ef22
expect_error "eta without econtrol" 2 "econtrol-eta: applies only with error-feedback = econtrol" "${small[@]}" --algorithm server \
  --error-feedback ef21 --econtrol-eta 0.01
expect_error "gamma out of range" 2 "choco-gamma: 1.5 is outside \(0, 1\]" "${small[@]}" --algorithm choco --choco-gamma 1.5
expect_error "gamma without choco" 2 "choco-gamma: does not apply to algorithm = dsgd \\(it applies with algorithm = choco;" "${small[@]}" --choco-gamma 0.5
expect_error "warm-up without compression" 2 "compress-warmup: does not apply to algorithm = dsgd \\(it applies with algorithm = server or choco;" "${small[@]}" --compress-warmup 10
expect_error "heterogeneity on classification" 2 "synthetic-heterogeneity: applies to dataset = synthetic with model = linear" \
  "${small[@]}" --synthetic-heterogeneity 1

# --- shared-seed zeroth order: one byte per sample, bytes_sent as announced ------------------------
zo=(--dataset synthetic --synthetic-samples 2000 --synthetic-dim 16 --synthetic-classes 4 --eval-every 10
    --eval-samples 200 --progress off --model softmax --nodes 4 --batch 8 --steps 30 --algorithm zo-shared-seed)
if run 2 "${zo[@]}" --zo-scalar byte --zo-verify-every 5 --lr 0.02 --out "$tmp/zo.h5" >"$tmp/out" 2>"$tmp/err"; then
  pass
  # 4 nodes x 8 one-byte scalars, each reaching the 3 other nodes: 96 bytes a step, 2880 in all
  grep -q "sent 0.00288 MB as 960 scalars .*(announced 0.00288 MB)" "$tmp/out" && pass || fail "zo summary: $(cat "$tmp/out")"
  /usr/bin/python3 - "$tmp/zo.h5" <<'PY' && pass || fail "zo HDF5 contents"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
assert f.attrs["finished"] == 1
assert f["train/bytes_sent"].shape == (30,) and np.all(f["train/bytes_sent"][:] == 4 * 3 * 8), f["train/bytes_sent"][:]
assert np.all(f["eval/consensus_distance"][:] == 0) and f["final/merged_params"].shape == (17 * 4,)
assert np.all(np.isfinite(f["train/loss"][:]))
PY
else
  fail "zo run failed: $(cat "$tmp/err")"
fi

# --- asynchronous aggregation: one short run per rule, /federated as documented (docs/federated.md) ---
fed=(--dataset synthetic --synthetic-samples 2000 --synthetic-dim 16 --synthetic-classes 4 --eval-every 10
     --eval-samples 200 --progress off --model softmax --nodes 4 --batch 8 --local-steps 2 --speed-spread 80
     --virtual-time 4 --lr 0.1)
for rule in fedavg async-fedavg fedbuff fedfix; do
  extra=()
  [ "$rule" = fedbuff ] && extra=(--buffer-size 2)
  [ "$rule" = fedfix ] && extra=(--fedfix-dt 0.3)
  if run 2 "${fed[@]}" --algorithm "$rule" "${extra[@]}" --out "$tmp/$rule.h5" >"$tmp/out" 2>"$tmp/err"; then
    grep -q 'staleness mean .* sent \([0-9.e+-]* MB\) (announced \1)' "$tmp/out" && pass || fail "$rule summary: $(cat "$tmp/out")"
    /usr/bin/python3 - "$tmp/$rule.h5" "$rule" <<'PY' && pass || fail "$rule HDF5 contents"
import sys, h5py, numpy as np
f, rule = h5py.File(sys.argv[1], "r"), sys.argv[2]
g = f["federated"]
assert f.attrs["finished"] == 1 and g.attrs["rule"] in (rule, rule.encode()), dict(g.attrs)
t, counts = g["time"][:], g["contributions"][:]
assert len(t) == len(f["train/step"]) and np.all(np.diff(t) >= 0) and t[-1] <= 4, t
assert counts.sum() == len(g["client"]) == len(g["staleness"]) == len(g["weight"]), counts
assert np.array_equal(g["staleness"][:], g["update"][:] - g["version"][:])
assert np.all(g["return_time"][:] <= t[g["update"][:]]) and np.all(g["sent_time"][:] < g["return_time"][:])
assert len(g["eval_time"]) == len(g["eval_wall_s"]) == len(f["eval/step"]) and len(g["client_time"]) == 4
assert f["train/bytes_sent"][:].sum() > 0 and np.isfinite(f["eval/merged_acc"][-1])
if rule == "fedavg": assert np.all(g["staleness"][:] == 0) and np.all(counts == 4)
if rule == "async-fedavg": assert np.all(counts == 1) and g["staleness"][:].max() > 0
if rule == "fedbuff": assert np.all(counts == 2) and np.all(g["weight"][:] == 0.5)
if rule == "fedfix": assert np.allclose(t, 0.3 * np.arange(1, len(t) + 1))
PY
  else
    fail "$rule run failed: $(cat "$tmp/err")"
  fi
done

# --- divergence: exit 3, file kept but marked unfinished ------------------------------------------
expect_error "divergence" 3 "training diverged.*at step" --dataset synthetic --model linear --partition iid --nodes 4 --steps 200 \
  --eval-every 100 --lr 50 --momentum 0 --out "$tmp/diverged.h5" --progress off
/usr/bin/python3 -c 'import h5py,sys; f=h5py.File(sys.argv[1]); assert f.attrs["finished"] == 0' "$tmp/diverged.h5" \
  && pass || fail "diverged run's file is not readable with finished = 0"

run 1 --help >"$tmp/help" 2>&1 && grep -q "budget-profile" "$tmp/help" && pass || fail "--help"
# --help lists every registered algorithm with its line; --help algorithm=NAME prints the keys NAME reads.
for name in dsgd dpsgd server local-sgd choco fedavg async-fedavg fedbuff fedfix zo-shared-seed; do
  grep -Eq "^  $name +[a-zA-Z]" "$tmp/help" || fail "--help does not list algorithm $name"
done
pass
run 1 --help algorithm=fedbuff >"$tmp/help-fedbuff" 2>&1 && grep -q -- "--buffer-size" "$tmp/help-fedbuff" &&
  grep -q -- "--local-steps" "$tmp/help-fedbuff" && ! grep -q -- "--topology" "$tmp/help-fedbuff" && pass ||
  fail "--help algorithm=fedbuff: $(cat "$tmp/help-fedbuff")"

# --- server optimizers (FedOpt): adam on 1 and 2 ranks records the same server model; it moves theta ---------
for ranks in 1 2; do
  run "$ranks" "${fed[@]}" --algorithm fedavg --server-optimizer adam --server-lr 0.01 --server-betas 0.9,0.99 \
    --server-lr-schedule linear --out "$tmp/adam$ranks.h5" >"$tmp/out" 2>"$tmp/err" ||
    fail "server adam on $ranks ranks: $(cat "$tmp/err")"
done
grep -q "server optimizer adam, lr 0.01 (linear)" "$tmp/out" && pass || fail "adam header: $(cat "$tmp/out")"
/usr/bin/python3 - "$tmp/adam1.h5" "$tmp/adam2.h5" "$tmp/fedavg.h5" <<'PY' && pass || fail "server adam: ranks differ or nothing changed"
import sys, h5py, numpy as np
a, b, sgd = (h5py.File(p, "r") for p in sys.argv[1:4])
assert np.array_equal(a["final/merged_params"][:], b["final/merged_params"][:])
assert not np.array_equal(a["final/merged_params"][:], sgd["final/merged_params"][:])
assert a["federated"].attrs["server_optimizer"] in ("adam", b"adam")
PY

# --- client participation: 2 of 4 clients per round, 30% dropout, a deadline; 1 and 2 ranks agree -----------
for ranks in 1 2; do
  run "$ranks" "${fed[@]}" --algorithm fedavg --clients-per-round 2 --dropout 0.3 --deadline 0.9 \
    --out "$tmp/part$ranks.h5" >"$tmp/out" 2>"$tmp/err" || fail "participation on $ranks ranks: $(cat "$tmp/err")"
done
grep -q "rounds    2 of 4 clients per round (uniform sample), dropout 0.3, deadline 0.9" "$tmp/out" && pass ||
  fail "participation header: $(cat "$tmp/out")"
/usr/bin/python3 - "$tmp/part1.h5" "$tmp/part2.h5" <<'PY' && pass || fail "participation records"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
assert np.array_equal(a["final/merged_params"][:], b["final/merged_params"][:])
g = a["federated"]
u, c, ok = g["participant_update"][:], g["participant_client"][:], g["participant_returned"][:]
U = len(g["time"])
assert np.array_equal(np.bincount(u, minlength=U), np.full(U, 2)), u  # 2 selected per round
assert np.array_equal(np.bincount(u, weights=ok, minlength=U).astype(int), g["contributions"][:])
assert 0 < ok.mean() < 1 and set(np.unique(c)) <= {0, 1, 2, 3}
# Client 0 takes 1 > deadline 0.9 (speed spread 80%): it never returns; every round lasts at most 0.9.
assert not ok[c == 0].any() and np.all(np.diff(np.concatenate([[0], g["time"][:]])) <= 0.9 + 1e-12)
for name in ("participant_update", "participant_client", "participant_returned"):
    assert np.array_equal(a["federated"][name][:], b["federated"][name][:])
PY

# --- loss-based client selection: power-of-choice and the client curriculum, 1 and 2 ranks agree -----------
sel=("${fed[@]/--virtual-time/--steps}")  # a selection by losses cannot plan by virtual time: steps = 4
for ranks in 1 2; do
  run "$ranks" "${sel[@]}" --algorithm fedavg --clients-per-round 2 --client-selection power-of-choice:3 \
    --out "$tmp/poc$ranks.h5" >"$tmp/out" 2>"$tmp/err" || fail "power-of-choice on $ranks ranks: $(cat "$tmp/err")"
  run "$ranks" "${sel[@]}" --algorithm fedavg --clients-per-round 1 --client-selection curriculum \
    --client-curriculum anti --client-pacing step --client-pacing-a 0.5 --client-pacing-b 0.5 \
    --out "$tmp/cc$ranks.h5" >/dev/null 2>"$tmp/err" || fail "client curriculum on $ranks ranks: $(cat "$tmp/err")"
done
grep -q "rounds    2 of 4 clients per round (power-of-choice:3 by the clients' losses)" "$tmp/out" && pass ||
  fail "power-of-choice header: $(cat "$tmp/out")"
/usr/bin/python3 - "$tmp/poc1.h5" "$tmp/poc2.h5" "$tmp/cc1.h5" "$tmp/cc2.h5" <<'PY' && pass || fail "selection records"
import sys, h5py, numpy as np
poc1, poc2, cc1, cc2 = (h5py.File(p, "r") for p in sys.argv[1:5])
for a, b in ((poc1, poc2), (cc1, cc2)):
    for name in ("final/merged_params", "federated/selection_loss", "federated/participant_client"):
        assert np.array_equal(a[name][:], b[name][:]), name
g = poc1["federated"]
assert g.attrs["client_selection"] in ("power-of-choice:3", b"power-of-choice:3")
u, c, loss = g["selection_update"][:], g["selection_client"][:], g["selection_loss"][:]
for r in range(len(g["time"])):  # 3 candidates a round, the 2 with the largest losses train
    cand = sorted(zip(-loss[u == r], c[u == r]))
    assert len(cand) == 3
    chosen = sorted(g["participant_client"][:][g["participant_update"][:] == r])
    assert chosen == sorted(x[1] for x in cand[:2]), (r, cand, chosen)
PY

# --- group fairness on the synthetic-fair data under the synergy split: 1 and 2 ranks agree, identities hold -
fair=(--dataset synthetic-fair --synthetic-samples 2000 --model softmax --nodes 2 --algorithm fedavg --steps 6
      --local-steps 5 --batch 16 --eval-every 2 --eval-samples 200 --progress off --lr 0.1)
for ranks in 1 2; do
  run "$ranks" "${fair[@]}" --partition fair-synergy --out "$tmp/fair$ranks.h5" >"$tmp/out" 2>"$tmp/err" ||
    fail "fairness on $ranks ranks: $(cat "$tmp/err")"
done
grep -q "fairness  every eval: the PID of (Z, Yhat = 1\[class 1\], client)" "$tmp/out" && pass ||
  fail "fairness header: $(cat "$tmp/out")"
/usr/bin/python3 - "$tmp/fair1.h5" "$tmp/fair2.h5" <<'PY' && pass || fail "fairness records"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
for name in a["fairness"]:
    assert np.array_equal(a["fairness"][name][:], b["fairness"][name][:], equal_nan=True), name
f = a["fairness"]
E = len(f["step"])
assert E == len(a["eval/step"]) == 3
assert np.allclose(f["mi_global"][:], f["unique"][:] + f["redundant"][:], atol=1e-9)
assert np.allclose(f["mi_local"][:], f["unique"][:] + f["synergistic"][:], atol=1e-9)
counts = f["counts"][:].reshape(E, 2, 2, 2)  # eval, client, Z, Yhat
assert all(counts[e].sum() == 2000 for e in range(E))  # every eval counts every training sample once
# The synergy split gives each team both groups in equal parts (I(Z; S) near 0), while on each client Z
# determines Y, so a fitted model's prediction carries Z locally.
assert f["mi_client"][-1] < 0.05 and f["mi_local"][-1] > 0.1, (f["mi_client"][-1], f["mi_local"][-1])
PY

# --- data curriculum on a per-class Dirichlet split: 1 and 2 ranks agree; it changes the run ---------------
for ranks in 1 2; do
  run "$ranks" "${fed[@]}" --algorithm fedbuff --buffer-size 2 --partition dirichlet-split \
    --alpha 0.5 --curriculum anti --curriculum-score both --pacing sqrt --pacing-a 0.5 --pacing-b 0.1 \
    --out "$tmp/curr$ranks.h5" >"$tmp/out" 2>"$tmp/err" || fail "curriculum on $ranks ranks: $(cat "$tmp/err")"
done
run 1 "${fed[@]}" --algorithm fedbuff --buffer-size 2 --partition dirichlet-split --alpha 0.5 \
  --out "$tmp/nocurr.h5" >/dev/null 2>"$tmp/err" || fail "dirichlet-split without curriculum: $(cat "$tmp/err")"
grep -q "curriculum anti: every job orders the client's samples by loss (scoring model: both); sqrt pacing" "$tmp/out" &&
  grep -q "dirichlet-split partition" "$tmp/out" && pass || fail "curriculum header: $(cat "$tmp/out")"
/usr/bin/python3 - "$tmp/curr1.h5" "$tmp/curr2.h5" "$tmp/nocurr.h5" <<'PY' && pass || fail "curriculum records"
import sys, h5py, numpy as np
a, b, plain = (h5py.File(p, "r") for p in sys.argv[1:4])
assert np.array_equal(a["final/merged_params"][:], b["final/merged_params"][:])
assert not np.array_equal(a["final/merged_params"][:], plain["final/merged_params"][:])
PY

# --- the expert: a difficulty-graded partition and the expert's curriculum, 1 and 2 ranks agree -----------
for ranks in 1 2; do
  run "$ranks" "${fed[@]}" --algorithm fedavg --partition difficulty:dec --expert-epochs 2 --expert-batch 20 \
    --curriculum curr --curriculum-score expert --out "$tmp/expert$ranks.h5" >"$tmp/out" 2>"$tmp/err" ||
    fail "expert on $ranks ranks: $(cat "$tmp/err")"
done
grep -q "expert    trained centrally on the 2000 training samples, 2 epochs of batch 20 at lr 0.01" "$tmp/out" &&
  grep -q "scoring model: expert" "$tmp/out" && pass || fail "expert header: $(cat "$tmp/out")"
run 2 "${small[@]}" --algorithm dsgd --partition difficulty:inc --expert-epochs 1 --out "$tmp/graded.h5" \
  >/dev/null 2>"$tmp/err" || fail "difficulty partition under dsgd: $(cat "$tmp/err")"
/usr/bin/python3 - "$tmp/expert1.h5" "$tmp/expert2.h5" "$tmp/graded.h5" <<'PY' && pass || fail "expert records"
import sys, h5py, numpy as np
a, b, graded = (h5py.File(p, "r") for p in sys.argv[1:4])
assert np.array_equal(a["final/merged_params"][:], b["final/merged_params"][:])
e = a["expert"].attrs
assert e["epochs"] == 2 and e["batch"] == 20 and e["steps"] == 2 * 100, dict(e)
assert 0.5 < e["train_accuracy"] <= 1 and e["train_loss"] > 0, dict(e)
assert graded["expert"].attrs["steps"] == 2000 // 10  # expert-batch 10, not the run's batch
PY

# --- a node's own curriculum in decentralized runs: 1, 2 and 4 ranks agree; a run stopped in the middle of a
# window and resumed records what the uninterrupted run records; the expert scores for choco ------------------
same_records() { /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/same_records.py" "$@"; }
nodecur=("${small[@]}" --algorithm dsgd --curriculum curr --curriculum-score local --curriculum-window 7)
for ranks in 1 2 4; do
  run "$ranks" "${nodecur[@]}" --out "$tmp/nodecur$ranks.h5" >"$tmp/out" 2>"$tmp/err" ||
    fail "node curriculum on $ranks ranks: $(cat "$tmp/err")"
done
grep -q "curriculum curr: every node orders its shard by loss (scoring model: local) each window of 7 steps" \
  "$tmp/out" && pass || fail "node curriculum header: $(cat "$tmp/out")"
for ranks in 2 4; do
  out=$(same_records "$tmp/nodecur1.h5" "$tmp/nodecur$ranks.h5" 0 --ranks) && pass ||
    fail "node curriculum: 1 and $ranks ranks differ: $out"
done
nodecur_log=("${nodecur[@]/#off/log}")  # --progress log: the test hook acts at progress reports
DECENT_TEST_STOP_AFTER=20 run 2 "${nodecur_log[@]}" --out "$tmp/nodecur-parts.h5" >/dev/null 2>&1
code=$?
if [ "$code" -eq 5 ] && run 2 "${nodecur_log[@]}" --out "$tmp/nodecur-parts.h5" --resume auto >/dev/null 2>"$tmp/err"; then
  out=$(same_records "$tmp/nodecur2.h5" "$tmp/nodecur-parts.h5" 1) && pass ||
    fail "node curriculum: the resumed run differs: $out"
else
  fail "node curriculum: stop (exit $code, expected 5) or resume failed: $(cat "$tmp/err")"
fi
run 2 "${small[@]}" --algorithm choco --curriculum anti --curriculum-score expert --expert-epochs 1 \
  --out "$tmp/nodecur-expert.h5" >/dev/null 2>"$tmp/err" || fail "choco with the expert's curriculum: $(cat "$tmp/err")"
/usr/bin/python3 - "$tmp/nodecur1.h5" "$tmp/nodecur-expert.h5" "$tmp/graded.h5" <<'PY' && pass || fail "node curriculum records"
import sys, h5py, numpy as np
local, expert, plain = (h5py.File(p, "r") for p in sys.argv[1:4])
c = local["curriculum"].attrs
assert c["curriculum"] == "curr" and c["curriculum_score"] == "local" and c["window"] == 7, dict(c)
assert expert["curriculum"].attrs["curriculum_score"] == "expert" and "expert" in expert
assert "curriculum" not in plain
assert np.isfinite(expert["final/merged_params"][:]).all()
PY

# --- INI sections: [fedbuff] buffer-size = 2 is the flat key buffer-size = 2 --------------------------
printf 'algorithm = fedbuff\n[federated]\nlocal-steps = 2\n[fedbuff]\nbuffer-size = 2\n' >"$tmp/sections.ini"
if run 2 "${fed[@]}" --config "$tmp/sections.ini" --out "$tmp/sections.h5" >"$tmp/out" 2>"$tmp/err"; then
  /usr/bin/python3 - "$tmp/sections.h5" "$tmp/fedbuff.h5" <<'PY' && pass || fail "INI sections change the run"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
assert np.array_equal(a["final/merged_params"][:], b["final/merged_params"][:])
assert np.array_equal(a["federated/weight"][:], b["federated/weight"][:])
PY
else
  fail "INI sections run failed: $(cat "$tmp/err")"
fi

finish
