#!/usr/bin/env bash
# decent-train checkpoint and resume (docs/reliability.md): a run stopped by a signal at a random moment
# and resumed with --resume auto records exactly what an uninterrupted run records (every dataset bit for
# bit, except the wall clock), on 1 and 2 ranks; checkpoints of another configuration or version are
# refused by name. Usage: resume_test.sh DECENT_TRAIN MPIEXEC
set -u
train=$1
mpiexec=$2
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
python=/usr/bin/python3
# About 3-6 s on 2 busy cores; evals (and so flushes) every 100 steps, landscape probes twice.
# These runs take from 60000 steps/s (a quiet machine) to 2000 (a busy one): decent-train's test hook
# DECENT_TEST_STEP_SLEEP_US adds 200 us per step (at every progress report, every 60 steps with
# --progress bar), so a run lasts at least 2.4 s and the signal always comes before its end.
export DECENT_TEST_STEP_SLEEP_US=200
base=(--dataset synthetic --synthetic-samples 2000 --synthetic-dim 16 --nodes 4 --hidden 16 --steps 12000
      --eval-every 100 --landscape-every 6000 --probe-nodes 2 --landscape-grid 3 --progress bar)

# Every dataset of A and B is identical bit for bit, except wall times; B says finished = 1, resumes = 1.
same_records() { "$python" "$(dirname "${BASH_SOURCE[0]}")/same_records.py" "$1" "$2" 1; }

for ranks in 1 2; do
  dir=$tmp/np$ranks
  mkdir -p "$dir"
  launch=("$mpiexec" -n "$ranks" --oversubscribe)
  steps=12000
  run=("${base[@]}")
  "${launch[@]}" "$train" "${run[@]}" --out "$dir/whole.h5" >"$dir/whole.log" 2>&1 ||
    fail "np $ranks: the uninterrupted run failed: $(tail -3 "$dir/whole.log")"
  # Stop at a random moment: SIGTERM to the rank processes on 1 rank (as scancel and Slurm's time limit
  # do), SIGUSR1 to mpiexec on 2 (which forwards it to the ranks, as an sbatch script's trap does).
  # The moment: a random delay (0-1 s) after step 1200, so the step is random but the run is neither
  # still loading nor already done.
  delay=$(printf '0.%d' $((RANDOM % 10)))
  "${launch[@]}" "$train" "${run[@]}" --out "$dir/parts.h5" >"$dir/stop.log" 2>&1 &
  job=$!
  for _ in $(seq 600); do
    grep -q "step 1200/" "$dir/stop.log" 2>/dev/null && break
    sleep 0.05
  done
  sleep "$delay"
  if [ "$ranks" -eq 1 ]; then
    pkill -TERM -f "^$train .*--out $dir/parts.h5"
  else
    kill -USR1 "$job"
  fi
  wait "$job"
  code=$?
  stopped=$(grep -o 'stopped by signal [0-9]* after step [0-9]*' "$dir/stop.log")
  if [ "$code" -eq 5 ] && [ -n "$stopped" ] && [ -f "$dir/parts.h5.ckpt" ]; then
    pass
    echo "np $ranks: $stopped of $steps (signal sent $delay s after step 1200)"
  else
    fail "np $ranks: expected exit 5 and a checkpoint after the signal, got exit $code: $(tail -3 "$dir/stop.log")"
    continue
  fi
  cp "$dir/parts.h5.ckpt" "$dir/spare.ckpt"
  [ "$("$python" -c "import h5py,sys; print(h5py.File(sys.argv[1],'r').attrs['finished'])" "$dir/parts.h5")" = 0 ] &&
    pass || fail "np $ranks: the stopped run's file does not say finished = 0"
  if "${launch[@]}" "$train" "${run[@]}" --out "$dir/parts.h5" --resume auto >"$dir/resume.log" 2>&1; then
    pass
  else
    fail "np $ranks: resume failed: $(tail -3 "$dir/resume.log")"
    continue
  fi
  grep -q "resume    from $dir/parts.h5.ckpt at step" "$dir/resume.log" && pass ||
    fail "np $ranks: the resumed run does not say where it resumes"
  [ ! -e "$dir/parts.h5.ckpt" ] && pass || fail "np $ranks: the finished run left its checkpoint behind"
  if result=$(same_records "$dir/whole.h5" "$dir/parts.h5"); then
    pass
    echo "np $ranks: resumed run equals the uninterrupted run: $result"
  else
    fail "np $ranks: resumed run differs from the uninterrupted run: $result"
  fi
done

dir=$tmp/np1
run=("${base[@]}")
# A finished run with --resume auto and no checkpoint has nothing to do (a requeued job after success).
out=$("$mpiexec" -n 1 "$train" "${run[@]}" --out "$dir/parts.h5" --resume auto 2>&1)
[ $? -eq 0 ] && [[ $out == *"already says finished = 1 and has no checkpoint: nothing to do"* ]] && pass ||
  fail "resume auto after success: $out"

# A checkpoint of another configuration or version is refused with exit 2 and the key named.
expect_refusal() {  # NAME REGEX ARGS...
  local name=$1 regex=$2
  shift 2
  local out code
  out=$("$mpiexec" -n 1 "$train" "$@" 2>&1)
  code=$?
  if [ "$code" -eq 2 ] && grep -Eq "^decent-train: error: $regex" <<<"$out"; then
    pass
  else
    fail "$name: expected exit 2 and /$regex/, got exit $code: $out"
  fi
}
if [ -f "$dir/spare.ckpt" ]; then
  cp "$dir/whole.h5" "$dir/other.h5"
  expect_refusal "another lr" "resume: checkpoint '$dir/spare.ckpt' was written with lr = 0.05, this run has lr = 0.1" \
    "${run[@]}" --lr 0.1 --out "$dir/other.h5" --resume "$dir/spare.ckpt"
  expect_refusal "another output" "resume: checkpoint '$dir/spare.ckpt' was written with out = $dir/parts.h5" \
    "${run[@]}" --out "$dir/other.h5" --resume "$dir/spare.ckpt"
  "$python" -c "import h5py,sys; h5py.File(sys.argv[1],'r+').attrs['decent_version'] = '0.0.1-old'" "$dir/spare.ckpt"
  expect_refusal "another version" "resume: checkpoint '$dir/spare.ckpt' was written by decent 0.0.1-old, this is " \
    "${run[@]}" --out "$dir/parts.h5" --resume "$dir/spare.ckpt"
  head -c 1000 /dev/urandom >"$dir/garbage.ckpt"
  expect_refusal "not a checkpoint" "checkpoint '$dir/garbage.ckpt': not an HDF5 file, or damaged" \
    "${run[@]}" --out "$dir/parts.h5" --resume "$dir/garbage.ckpt"
fi
finish
