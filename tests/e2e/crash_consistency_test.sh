#!/usr/bin/env bash
# kill -9 of a whole 2-rank decent-train job, at any moment, leaves an output file that h5py and h5dump
# open, that says finished = 0 and that holds a consistent prefix of the run with every step up to the last
# flush (docs/reliability.md, "Crash consistency"). The job (mpiexec and both ranks, all in mpiexec's
# session) is killed at DECENT_CRASH_KILLS (default 8) moments drawn with DECENT_CRASH_SEED (default: from
# the clock; printed, so a failure can be replayed):
#   1. at the 1st to 3rd write to the run's files (found with inotify), while the output file is created;
#   2. at a random time in the first 1.5 s (start-up: MPI, data, the file's header);
#   3. ... alternately at the 1st to 12th write to the run's files after a random point in training (inside
#      or between the writes of an eval's flush), and at a random time in training.
# After each kill: no process of the job is left; the file, if it exists, opens with h5py and h5dump, says
# finished = 0, /train/step is 0..K-1, every /train dataset has K rows (loss K x nodes), /eval/step is
# increasing and at most K-1, every /eval dataset has as many rows; and K covers the last step that rank 0
# reported (its progress line is printed after that step's eval was flushed). Kills 1 and 2 may come before
# the file exists; at least 5 kills must find it. Finally an uninterrupted run says finished = 1.
# Usage: crash_consistency_test.sh DECENT_TRAIN MPIEXEC
set -u
train=$1
mpiexec=$2
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kills=${DECENT_CRASH_KILLS:-8}
seed=${DECENT_CRASH_SEED:-$(($(date +%s%N) / 1000 % 32768))}
RANDOM=$seed
echo "kill moments drawn with DECENT_CRASH_SEED=$seed"
python=/usr/bin/python3
command -v h5dump >/dev/null || { echo "FAIL: h5dump not found (hdf5-tools, scripts/setup)"; exit 1; }
$python -c 'import h5py' || { echo "FAIL: cannot import h5py (python3-h5py, scripts/setup)"; exit 1; }

# 200000 small steps (30 s or more on 2 cores, far longer than any kill comes) with an eval, and so a write
# of the file, every 10 steps (write-budget 0: every eval is written); the progress line comes every 1000
# steps (steps / 200), right after an eval's write.
run=(--dataset synthetic --synthetic-samples 400 --synthetic-dim 8 --synthetic-classes 4 --nodes 4 --hidden 8
     --eval-every 10 --eval-samples 50 --landscape-every -1 --progress bar --write-budget 0)

# check.py FILE MIN_ROWS FINISHED: the file's consistency; prints its row counts, or the problems found.
cat >"$tmp/check.py" <<'EOF'
import sys
import h5py
import numpy as np

path, min_rows, finished = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
problems = []
with h5py.File(path, "r") as f:
    if int(f.attrs["finished"]) != finished:
        problems.append(f"finished = {int(f.attrs['finished'])}, expected {finished}")
    n = int(f.attrs["n_nodes"])
    step = f["train/step"][...]
    k = len(step)
    if not np.array_equal(step, np.arange(k)):
        problems.append(f"/train/step is not 0..{k - 1}: {step[:5]} ... {step[-5:]}")
    for name, shape in (("lr", (k,)), ("loss", (k, n)), ("bytes_sent", (k,)), ("wall_s", (k,))):
        data = f["train/" + name][...]
        if data.shape != shape:
            problems.append(f"/train/{name} has shape {data.shape}, /train/step {k} rows (expected {shape})")
    wall = f["train/wall_s"][...]
    if len(wall) == k and k > 1 and not np.all(np.diff(wall) >= 0):
        problems.append("/train/wall_s decreases")
    eval_step = f["eval/step"][...]
    e = len(eval_step)
    if e > 1 and not np.all(np.diff(eval_step) > 0):
        problems.append(f"/eval/step is not increasing: {eval_step}")
    if e > 0 and eval_step[-1] > k - 1:
        problems.append(f"/eval/step ends at {eval_step[-1]}, after the last training step {k - 1}")
    for name, shape in (("merged_loss", (e,)), ("merged_acc", (e,)), ("local_loss", (e, n)), ("local_acc", (e, n)),
                        ("consensus_distance", (e,)), ("distance_to_mean", (e, n)), ("mergeability_gap", (e,))):
        data = f["eval/" + name][...]
        if data.shape != shape:
            problems.append(f"/eval/{name} has shape {data.shape}, /eval/step {e} rows (expected {shape})")
    if k < min_rows:
        problems.append(f"{k} training steps recorded, but rank 0 had reported step {min_rows} (flushed before)")
    if finished == 1 and k != min_rows:
        problems.append(f"{k} training steps recorded by a run of {min_rows}")
    if finished == 1 and "final/merged_params" not in f:
        problems.append("no /final/merged_params")
    last = eval_step[-1] if e else "-"
    print(f"{k} steps, {e} evals (last at step {last})" + "".join("\n  problem: " + p for p in problems))
sys.exit(1 if problems else 0)
EOF

# inotify.py DIR SID WRITES: waits for the WRITES-th write to a file of the run in DIR (inotify: writes,
# creations and renames; identical events queued back to back count once), then SIGKILLs every process of
# session SID; gives up waiting after 30 s or once the job has ended. Prints the writes seen (WRITES or
# more, unless it gave up).
cat >"$tmp/inotify.py" <<'EOF'
import ctypes, os, select, signal, struct, sys, time

directory, sid, writes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
# IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE
if fd < 0 or libc.inotify_add_watch(fd, directory.encode(), 0x2 | 0x8 | 0x80 | 0x100) < 0:
    sys.exit("inotify failed: " + os.strerror(ctypes.get_errno()))


def job():
    pids = []
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and os.getsid(int(p)) == sid:
                pids.append(int(p))
        except OSError:
            pass
    return pids


# The job's processes are listed while waiting, so that the kill follows the event within microseconds.
pids = job()
seen, deadline = 0, time.monotonic() + 30
while seen < writes and time.monotonic() < deadline:
    if not select.select([fd], [], [], 0.005)[0]:
        pids = job()
        if not pids:
            break
        continue
    data = os.read(fd, 65536)
    offset = 0
    while offset < len(data):
        length = struct.unpack_from("iIII", data, offset)[3]
        name = data[offset + 16:offset + 16 + length].rstrip(b"\0")
        offset += 16 + length
        if name.startswith(b"run.h5"):
            seen += 1
for pid in pids:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
print(seen)
EOF

# sleep_ms MS
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
# job_pids SID: the live (not zombie) processes of session SID.
job_pids() { ps -o pid=,stat= -s "$1" 2>/dev/null | awk '$2 !~ /^Z/ { print $1 }'; }

# start DIR [STEPS]: starts the job (STEPS steps, default 200000), writing DIR/run.h5, in a session of its
# own (Open MPI puts each rank in a process group of its own, but they stay in mpiexec's session); sets
# launcher (mpiexec's pid, the session id).
start() {
  mkdir -p "$1"
  setsid "$mpiexec" -n 2 --oversubscribe "$train" "${run[@]}" --steps "${2:-200000}" --out "$1/run.h5" \
    >"$1/out" 2>"$1/err" &
  launcher=$!
}
# start_to_kill DIR: start, without bash's "Killed" notice when the job is killed.
start_to_kill() {
  start "$1"
  disown "$launcher"
}

# kill_job: SIGKILL to every process of the job at once (again for any that was being forked), then waits
# until none is left (at most 10 s).
kill_job() {
  local pids
  for _ in $(seq 1 1000); do
    pids=$(job_pids "$launcher")
    [ -z "$pids" ] && break
    kill -9 $pids 2>/dev/null
    sleep 0.01
  done
  [ -z "$(job_pids "$launcher")" ] ||
    fail "processes of the job survived kill -9: $(ps -o pid,stat,comm -s "$launcher")"
}

# last_reported DIR: the last step rank 0 reported on its progress line (0 if none).
last_reported() {
  tr '\r' '\n' <"$1/out" | sed -n 's/^  step \([0-9]*\)\/.*/\1/p' | tail -1 | grep . || echo 0
}

# until_training DIR: waits (up to 60 s, while the job lives) for rank 0's first progress line.
until_training() {
  for _ in $(seq 1 1200); do
    grep -q 'step [0-9]' "$1/out" 2>/dev/null && return 0
    [ -n "$(job_pids "$launcher")" ] || return 1
    sleep 0.05
  done
  return 1
}

with_file=0
for k in $(seq 1 "$kills"); do
  dir=$tmp/kill$k
  case $k in
    1) writes=$((1 + RANDOM % 3))
       what="at the ${writes}th write to the run's files, while the file is created"
       start_to_kill "$dir"
       seen=$($python "$tmp/inotify.py" "$dir" "$launcher" "$writes") || fail "kill $k: inotify watcher failed"
       [ "$seen" -ge "$writes" ] || fail "kill $k: the run ended or stalled after $seen of $writes writes"
       kill_job ;;
    2) delay=$((RANDOM % 1500))
       what="$delay ms after the start"
       start_to_kill "$dir"
       sleep_ms "$delay"
       kill_job ;;
    *) start_to_kill "$dir"
       if ! until_training "$dir"; then
         fail "kill $k: the run never reached training: $(cat "$dir/err")"
         kill_job
         continue
       fi
       delay=$((RANDOM % 2000))
       sleep_ms "$delay"
       if [ $((k % 2)) -eq 1 ]; then
         writes=$((1 + RANDOM % 12))
         what="at the ${writes}th write to the run's files after ${delay} ms of training"
         seen=$($python "$tmp/inotify.py" "$dir" "$launcher" "$writes") || fail "kill $k: inotify watcher failed"
         [ "$seen" -ge "$writes" ] || fail "kill $k: the run ended or stalled after $seen of $writes writes"
       else
         what="${delay} ms into training"
       fi
       kill_job ;;
  esac
  reported=$(last_reported "$dir")
  leftovers=$(find "$dir" -mindepth 1 ! -name out ! -name err ! -name run.h5 -printf '%f ')
  if [ ! -e "$dir/run.h5" ]; then
    echo "kill $k ($what): no run.h5 yet${leftovers:+ (other files: $leftovers)}"
    if [ "$reported" -gt 0 ]; then fail "kill $k: no output file, but rank 0 had reported step $reported"; else pass; fi
    continue
  fi
  with_file=$((with_file + 1))
  if result=$($python "$tmp/check.py" "$dir/run.h5" "$reported" 0 2>&1); then
    pass
  else
    fail "kill $k ($what): $dir/run.h5: $result"
  fi
  if h5dump "$dir/run.h5" >"$dir/dump" 2>"$dir/dump.err"; then
    pass
  else
    fail "kill $k ($what): h5dump cannot read run.h5: $(head -c 2000 "$dir/dump.err")"
  fi
  echo "kill $k ($what): last reported step $reported; run.h5: $result${leftovers:+ (other files: $leftovers)}"
done
[ "$with_file" -ge 5 ] && pass || fail "only $with_file of $kills kills found an output file (at least 5 needed)"

# An uninterrupted run says finished = 1 and holds every step.
start "$tmp/complete" 300
wait "$launcher"
code=$?
if [ "$code" -ne 0 ]; then
  fail "uninterrupted run: exit code $code: $(cat "$tmp/complete/err")"
elif result=$($python "$tmp/check.py" "$tmp/complete/run.h5" 300 1 2>&1) &&
     h5dump "$tmp/complete/run.h5" >/dev/null; then
  echo "uninterrupted run: $result"
  pass
else
  fail "uninterrupted run: $result"
fi

finish
