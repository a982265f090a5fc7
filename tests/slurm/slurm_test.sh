#!/usr/bin/env bash
# The sbatch scripts under a real Slurm: brings up a private single-node Slurm (Debian's slurm-wlm and
# munge) on this machine, runs slurm/train.sbatch, a 4-task sweep (slurm/make-sweep --submit,
# slurm/sweep.sbatch, slurm/collect), slurm/multinode.sbatch on one node, slurm/gossip.sbatch, the mpirun
# launcher, and the time-limit warning (SIGUSR1 to the batch shell), checks the run files with h5py, then
# tears everything down, on failure too.
# Usage: tests/slurm/slurm_test.sh BUILD_DIR SOURCE_DIR
#
# Private means: munged with its own key, socket, log, pid and seed files, slurmctld and slurmd on free
# loopback ports with a generated slurm.conf (SLURM_CONF, MpiDefault=pmix, CPUs=2, partition "debug"),
# all under one temporary directory, each daemon in its own session. The daemons are stopped by the
# pids recorded at start (never by name); afterwards no process may mention the temporary directory.
# Every step has a timeout; the whole test ends (pass or fail) in under 3 minutes. Without Slurm
# installed the test says so and fails (exit 1). Prints "N passed, M failed"; exit 0 only if M = 0.
set -u
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
src=$(cd "$2" && pwd) || exit 2

t0=$SECONDS
deadline=$((t0 + 140)) # end of the main phase; teardown has its own bounded steps (about 30 s at most)
passes=0
failures=0
pass() { passes=$((passes + 1)); echo "ok: $*"; }
fail() { failures=$((failures + 1)); echo "FAIL: $*"; }
finish() {
  echo "slurm_test: $((SECONDS - t0)) s"
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}

# Nothing from an enclosing Slurm job or the user's settings may leak into the private cluster.
for v in $(compgen -e | grep -E '^(SLURM_|SBATCH_|SRUN_|SALLOC_|DECENT_LAUNCHER$|DECENT_SLURM_DIR$)'); do
  unset "$v"
done

missing=()
for c in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel srun; do
  command -v "$c" >/dev/null || missing+=("$c")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "slurm_test: Slurm is not installed (missing: ${missing[*]}); install it with" \
    "'apt-get install -y slurm-wlm munge' (scripts/setup does)"
  fail "Slurm not installed"
  finish
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  fail "the private Slurm needs root (slurmd runs the jobs as SlurmdUser=root; munged's key must be root's): run as root"
  finish
  exit 1
fi
[ -x "$build/drivers/decent-train" ] || { fail "$build/drivers/decent-train not built"; finish; exit 1; }
/usr/bin/python3 -c 'import h5py' 2>/dev/null || { fail "/usr/bin/python3 cannot import h5py"; finish; exit 1; }

tmp=$(mktemp -d /tmp/decent-slurm-test.XXXXXX) || exit 1
chmod 755 "$tmp" # munged wants every directory above its socket searchable by all
work=$tmp/work   # submit directory: job outputs land here
mkdir -p "$work" "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/tmpfs"
conf=$tmp/slurm.conf
daemons=() # "name pid"

# --- helpers ----------------------------------------------------------------------------------
alive() { # a live (not zombie) process
  [ -r "/proc/$1/stat" ] && ! sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^[ZX]'
}
abort() {
  fail "$*"
  exit 1 # the EXIT trap tears down and prints the summary
}
# tmo SECONDS CMD...: runs CMD with a timeout that never reaches past the main phase's deadline
tmo() {
  local left=$((deadline - SECONDS)) t=$1
  shift
  [ "$left" -ge 1 ] || abort "over the time budget before: $*"
  [ "$t" -le "$left" ] || t=$left
  timeout -k 2 "$t" "$@"
}
# sl SECONDS CMD...: a Slurm client command against the private cluster (variables for CMD only, so
# this shell's own environment never names the temporary directory)
sl() {
  local t=$1
  shift
  SLURM_CONF=$conf DECENT_BUILD=$build OMPI_MCA_btl=self,vader MPLBACKEND=Agg tmo "$t" "$@"
}
submit() { # sbatch from the work directory; prints the job id
  local out
  out=$(cd "$work" && sl 20 sbatch --parsable "$@") || return 1
  printf '%s\n' "${out%%;*}"
}
job_field() { # job_field JOBID FIELD: JobState, ExitCode, ... of a job (first record)
  sl 10 scontrol show job -o "$1" 2>/dev/null | sed -n "s/.* $2=\([^ ]*\).*/\1/p" | head -n1
}
wait_jobs() { # wait_jobs SECONDS JOBID...: until squeue lists none of them
  local until=$((SECONDS + $1)) ids
  shift
  ids=$(IFS=,; echo "$*")
  while [ "$SECONDS" -lt "$until" ]; do
    local out
    if out=$(sl 10 squeue -h -j "$ids" -o %i 2>/dev/null) && [ -z "$out" ]; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}
h5check() { # h5check FILE PYTHON: assertions on f = h5py.File(FILE)
  tmo 30 /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
a = f.attrs
config = a["config"].decode() if isinstance(a["config"], bytes) else str(a["config"])
exec(sys.argv[2])
PY
}
dump_logs() {
  local f
  for f in "$tmp"/log/*; do
    [ -f "$f" ] && { echo "--- $f (last 15 lines)"; tail -n 15 "$f"; }
  done
}
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Processes of this test: the command line or the environment names the temporary directory (the
# daemons get it in both; job steps, slurmstepd included, inherit SLURM_CONF).
own_pids() {
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] && continue
    if tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF "$tmp" ||
      tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qF "$tmp"; then
      alive "$p" && echo "$p"
    fi
  done
}

torn=0
teardown() {
  [ "$torn" = 1 ] && return
  torn=1
  local name pid
  # 1. cancel what is still queued or running, while the controller is up
  if [ -n "$(daemon_pid slurmctld)" ] && alive "$(daemon_pid slurmctld)"; then
    local jobs
    jobs=$(SLURM_CONF=$conf timeout 5 squeue -h -o %A 2>/dev/null | sort -u)
    if [ -n "$jobs" ]; then
      echo "teardown: cancelling jobs $(echo $jobs)"
      SLURM_CONF=$conf timeout 5 scancel $jobs 2>/dev/null
      local until=$((SECONDS + 10))
      while [ "$SECONDS" -lt "$until" ] && [ -n "$(SLURM_CONF=$conf timeout 5 squeue -h 2>/dev/null)" ]; do
        sleep 0.5
      done
    fi
  fi
  # 2. the daemons, by the pids recorded at start: each leads its own session and process group
  for name in slurmd slurmctld munged; do
    pid=$(daemon_pid "$name")
    [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null
    local until=$((SECONDS + 10))
    while [ -n "$pid" ] && alive "$pid" && [ "$SECONDS" -lt "$until" ]; do sleep 0.1; done
    if [ -n "$pid" ] && alive "$pid"; then
      echo "teardown: $name ($pid) did not stop on SIGTERM; SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null
    fi
    [ -n "$pid" ] && wait "$pid" 2>/dev/null
  done
  # 3. anything left that belongs to this test (job steps survive their slurmd): by pid
  local left
  left=$(own_pids)
  if [ -n "$left" ]; then
    echo "teardown: killing leftover processes $(echo $left)"
    kill -KILL $left 2>/dev/null
    sleep 0.5
  fi
}
daemon_pid() {
  local entry
  for entry in "${daemons[@]}"; do
    [ "${entry%% *}" = "$1" ] && echo "${entry#* }"
  done
}
on_exit() {
  local rc=$?
  if [ "$torn" != 1 ]; then
    [ "$rc" -ne 0 ] && dump_logs
    teardown
    rm -rf "$tmp"
    finish
    exit 1
  fi
}
trap on_exit EXIT
trap 'fail "interrupted"; exit 1' INT TERM HUP

# --- checks that need no Slurm --------------------------------------------------------------------
out=$(cd "$work" && DECENT_BUILD=$tmp/nonexistent tmo 10 bash "$src/slurm/train.sbatch" "$work/nobinary" --steps 3 2>&1)
rc=$?
if [ $rc -eq 2 ] && grep -q "decent-train not found" <<<"$out"; then pass "train.sbatch: missing binary exits with 2"; else
  fail "train.sbatch with a missing binary: exit $rc, '$out'"; fi
out=$(cd "$work" && DECENT_BUILD=$build tmo 10 bash "$src/slurm/train.sbatch" "$work/badopt" --out x.h5 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q -- "--out" <<<"$out" && pass "train.sbatch: --out is refused (exit 2)" ||
  fail "train.sbatch --out: exit $rc, '$out'"
out=$(cd "$work" && tmo 10 bash "$src/slurm/sweep.sbatch" "$work/none" 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q "not an array task\|tasks.txt not found" <<<"$out" && pass "sweep.sbatch outside an array exits with 2" ||
  fail "sweep.sbatch outside an array: exit $rc, '$out'"
out=$(cd "$work" && tmo 10 "$src/slurm/make-sweep" "$work/bad" seed=1,2 -- --seed 3 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q "both a grid key and a fixed option" <<<"$out" && pass "make-sweep: a key in the grid and the fixed options is refused" ||
  fail "make-sweep repeated key: exit $rc, '$out'"

# --- bring up munge and Slurm ------------------------------------------------------------------
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 0400 "$tmp/munge/munge.key"
chown root:root "$tmp/munge/munge.key" 2>/dev/null
chmod 755 "$tmp/munge"
ctld_port=$(free_port)
slurmd_port=$(free_port)
while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
cat >"$conf" <<EOF
# generated by tests/slurm/slurm_test.sh: a private single-node cluster on loopback
ClusterName=decenttest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/munge.socket.2
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
TmpFS=$tmp/tmpfs
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
KillWait=5
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

setsid munged -F --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/munge.socket.2" \
  --log-file="$tmp/log/munged.log" --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/munged.seed" \
  >"$tmp/log/munged.out" 2>&1 </dev/null &
daemons+=("munged $!")
until=$((SECONDS + 10))
while [ ! -S "$tmp/munge/munge.socket.2" ] && [ "$SECONDS" -lt "$until" ]; do sleep 0.1; done
[ -S "$tmp/munge/munge.socket.2" ] || abort "munged did not create its socket in 10 s"
SLURM_CONF=$conf setsid slurmctld -D -f "$conf" >"$tmp/log/slurmctld.out" 2>&1 </dev/null &
daemons+=("slurmctld $!")
SLURM_CONF=$conf setsid slurmd -D -N localhost -f "$conf" >"$tmp/log/slurmd.out" 2>&1 </dev/null &
daemons+=("slurmd $!")
until=$((SECONDS + 30))
state=""
while [ "$SECONDS" -lt "$until" ]; do
  state=$(sl 5 sinfo -h -o %T 2>/dev/null)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || abort "the node is not idle after 30 s (sinfo: '$state')"
pass "private Slurm up (ports $ctld_port, $slurmd_port) in $((SECONDS - t0)) s"

# --- submit everything (the node runs one 2-task job at a time) ---------------------------------
cat >"$work/tiny.ini" <<'EOF'
# a tiny synthetic run: about a second
dataset = synthetic
synthetic-samples = 2000
synthetic-dim = 16
synthetic-classes = 4
nodes = 4
steps = 60
batch = 16
eval-every = 20
eval-samples = 200
hidden = 16
EOF
train_job=$(submit --job-name=t-train "$src/slurm/train.sbatch" "$work/single" --config tiny.ini --seed 3) ||
  abort "sbatch train.sbatch failed"

out=$(cd "$work" && sl 30 "$src/slurm/make-sweep" sweep topology=ring,exponential seed=1,2 --submit -- --config tiny.ini 2>&1)
rc=$?
sweep_job=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' <<<"$out")
if [ $rc -eq 0 ] && [ -n "$sweep_job" ] && grep -qx "sbatch --array=0-3 $src/slurm/sweep.sbatch sweep" <<<"$out" &&
  [ "$(wc -l <"$work/sweep/tasks.txt")" -eq 4 ]; then
  pass "make-sweep: 4 tasks, printed the sbatch command and submitted array job $sweep_job"
else
  abort "make-sweep --submit: exit $rc, output: $out"
fi

multi_job=$(submit --job-name=t-multi --nodes=1 --ntasks-per-node=2 "$src/slurm/multinode.sbatch" "$work/multi" \
  --config tiny.ini) || abort "sbatch multinode.sbatch failed"
gossip_job=$(submit --job-name=t-gossip --ntasks=2 --output="$work/gossip-%j.out" "$src/slurm/gossip.sbatch" \
  --topology ring --nodes 8 --dim 1000 --rounds 5) || abort "sbatch gossip.sbatch failed"
mpirun_job=$(cd "$work" && DECENT_LAUNCHER=mpirun submit --job-name=t-mpirun "$src/slurm/train.sbatch" "$work/mpirun" \
  --config tiny.ini) || abort "sbatch train.sbatch (mpirun) failed"
# a long run, to be sent the time-limit warning (3e6 steps: about 20 s, one eval at the end)
limit_job=$(submit --job-name=t-limit "$src/slurm/train.sbatch" "$work/limit" --config tiny.ini \
  --steps 3000000 --eval-every 3000000) || abort "sbatch train.sbatch (long run) failed"
echo "submitted: train $train_job, sweep $sweep_job (4 tasks), multinode $multi_job, gossip $gossip_job," \
  "mpirun $mpirun_job, time limit $limit_job"

wait_jobs 80 "$train_job" "$sweep_job" "$multi_job" "$gossip_job" "$mpirun_job" ||
  abort "jobs still queued or running after 80 s: $(sl 5 squeue -h 2>&1 | tr '\n' ';')"
pass "8 short jobs done at $((SECONDS - t0)) s"

# --- train.sbatch --------------------------------------------------------------------------------
d=$work/single
[ "$(job_field "$train_job" JobState)" = COMPLETED ] && [ "$(job_field "$train_job" ExitCode)" = 0:0 ] &&
  pass "train.sbatch: job COMPLETED with exit code 0" ||
  fail "train.sbatch: job $(job_field "$train_job" JobState) $(job_field "$train_job" ExitCode); $(tail -n 5 "$work/decent-train-$train_job.out" 2>&1)"
h5check "$d/run.h5" '
assert a["finished"] == 1, a["finished"]
assert f["train/loss"].shape == (60, 4), f["train/loss"].shape
assert "seed = 3" in config and "hidden = 16" in config, config' &&
  pass "train.sbatch: run.h5 finished = 1, /train/loss (60, 4), the command line and config file applied" ||
  fail "train.sbatch: run.h5"
cmp -s "$d/config.ini" "$work/tiny.ini" && grep -q -- "--config $d/config.ini --seed 3 --resume auto --out $d/run.h5 --progress log" "$d/command.txt" &&
  grep -q "^srun --mpi=pmix " "$d/command.txt" && pass "train.sbatch: config.ini copied, command.txt has the effective command" ||
  fail "train.sbatch: config.ini / command.txt: $(cat "$d/command.txt" 2>&1)"
grep -q "exited with code 0" "$d/log.txt" && grep -q "wrote $d/run.h5" "$d/log.txt" &&
  grep -q "wrote $d/run.h5" "$work/decent-train-$train_job.out" && [ "$(cat "$d/exit_code")" = 0 ] &&
  pass "train.sbatch: log.txt and decent-train-$train_job.out hold the run's output, exit_code 0" ||
  fail "train.sbatch: log.txt / job output / exit_code"

# --- the sweep and its report --------------------------------------------------------------------
topologies=(ring ring exponential exponential)
seeds=(1 2 1 2)
ok=1
for i in 0 1 2 3; do
  h5check "$work/sweep/task-$i/run.h5" "
assert a['finished'] == 1
assert f['train/loss'].shape == (60, 4)
assert 'topology = ${topologies[$i]}' in config and 'seed = ${seeds[$i]}' in config, config" || {
    ok=0
    fail "sweep task-$i: run.h5 ($(tail -n 3 "$work/sweep/task-$i/log.txt" 2>&1))"
  }
done
[ $ok = 1 ] && pass "sweep: 4 run.h5 finished = 1 with /train/loss (60, 4) and their grid point"
out=$(cd "$work" && sl 60 "$src/slurm/collect" sweep 2>&1)
rc=$?
report=$work/sweep/report/report.md
if [ $rc -eq 0 ] && [ -f "$report" ] && [ -f "$work/sweep/report/accuracy.png" ] &&
  grep -q "task-0/run.h5" "$report" && grep -q "task-1/run.h5" "$report" &&
  grep -q "task-2/run.h5" "$report" && grep -q "task-3/run.h5" "$report" &&
  grep -q "4 of 4 tasks finished" <<<"$out"; then
  pass "collect: one report naming all 4 tasks"
else
  fail "collect: exit $rc, $out"
fi

# --- multinode.sbatch (on one node here), gossip.sbatch, the mpirun launcher -----------------------
h5check "$work/multi/run.h5" 'assert a["finished"] == 1 and f["train/loss"].shape == (60, 4)' &&
  pass "multinode.sbatch (1 node x 2 tasks): run.h5 finished = 1" || fail "multinode.sbatch: $(tail -n 5 "$work/multi/log.txt" 2>&1)"
[ "$(job_field "$gossip_job" JobState)" = COMPLETED ] && grep -q "median round" "$work/gossip-$gossip_job.out" &&
  pass "gossip.sbatch: COMPLETED, decent-gossip's summary printed" ||
  fail "gossip.sbatch: $(job_field "$gossip_job" JobState); $(tail -n 5 "$work/gossip-$gossip_job.out" 2>&1)"
h5check "$work/mpirun/run.h5" 'assert a["finished"] == 1 and a["n_ranks"] == 2' && grep -q "^mpirun " "$work/mpirun/command.txt" &&
  pass "train.sbatch with DECENT_LAUNCHER=mpirun: 2 ranks, finished = 1" ||
  fail "DECENT_LAUNCHER=mpirun: $(tail -n 5 "$work/mpirun/log.txt" 2>&1)"

# --- the time-limit warning: SIGUSR1 to the batch shell, as --signal=B:USR1@60 sends it -------------
d=$work/limit
until=$((SECONDS + 30))
while [ ! -e "$d/run.h5" ] && [ "$SECONDS" -lt "$until" ]; do sleep 0.2; done
if [ -e "$d/run.h5" ]; then
  sleep 1 # past the file's creation; the only eval (and flush) is at the end
  sl 10 scancel --batch --signal=USR1 "$limit_job" || fail "scancel --batch --signal=USR1 $limit_job"
  wait_jobs 30 "$limit_job" || fail "the long run did not stop within 30 s of SIGUSR1"
  code=$(cat "$d/exit_code" 2>/dev/null)
  grep -q "SIGUSR1: the job reaches its time limit" "$d/log.txt" && grep -q "forwarding SIGUSR1 to the job step" "$d/log.txt" &&
    [ -n "$code" ] && [ "$code" != 0 ] && [ "$(job_field "$limit_job" JobState)" = FAILED ] &&
    pass "time-limit warning: logged, forwarded to the step, the run stopped (exit code $code)" ||
    fail "time-limit warning: exit_code '$code', state $(job_field "$limit_job" JobState); $(tail -n 6 "$d/log.txt" 2>&1)"
  h5check "$d/run.h5" 'assert a["finished"] == 0, a["finished"]' &&
    pass "time-limit warning: run.h5 says finished = 0" || fail "time-limit warning: run.h5"
  [ "$code" = 5 ] && [ -f "$d/run.h5.ckpt" ] && grep -q "stopped by signal 10 after step" "$d/log.txt" &&
    pass "time-limit warning: decent-train wrote run.h5.ckpt and exited with code 5" ||
    fail "time-limit warning: no checkpoint or exit code '$code' (expected 5)"
else
  fail "the long run did not create run.h5 within 30 s: $(tail -n 5 "$d/log.txt" 2>&1)"
fi

# --- collect on a partial sweep and on a sweep with no finished task ------------------------------
cp -r "$work/sweep" "$work/partial" && rm -rf "$work/partial/report" "$work/partial/task-3" &&
  cp "$d/run.h5" "$work/partial/task-2/run.h5" 2>/dev/null
out=$(cd "$work" && sl 60 "$src/slurm/collect" partial -o "$work/partial-report" 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q "2 of 4 tasks finished; not finished: task-2, task-3" <<<"$out" &&
  grep -q "^task-2 *unfinished" <<<"$out" && grep -q "^task-3 *missing" <<<"$out" &&
  ! grep -q "task-2/run.h5" "$work/partial-report/report.md" && grep -q "| task-3 | .* | \*\*missing\*\*" "$work/partial-report/report.md"; then
  pass "collect: a partial sweep reports the finished tasks and lists the unfinished and missing ones"
else
  fail "collect on a partial sweep: exit $rc, $out"
fi
(cd "$work" && tmo 10 "$src/slurm/make-sweep" empty seed=1,2 >/dev/null)
out=$(cd "$work" && sl 30 "$src/slurm/collect" empty 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "no finished task" <<<"$out" && [ ! -e "$work/empty/report" ] &&
  pass "collect: no finished task exits non-zero ($rc) and writes nothing" || fail "collect on an empty sweep: exit $rc, $out"

# --- teardown, then nothing of this test may be left ----------------------------------------------
ports="$ctld_port $slurmd_port"
teardown
left=$(pgrep -f "$tmp"; own_pids)
[ -z "$left" ] && pass "teardown: no process of this test left (pgrep -f $tmp)" ||
  fail "processes left after teardown: $(ps -o pid,args -p "$(echo $left | tr ' ' ,)" 2>&1)"
/usr/bin/python3 - $ports <<'PY' && pass "teardown: ports $ports free again" || fail "ports $ports still in use"
import socket, sys
for port in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(port))); s.close()
PY
rm -rf "$tmp"
[ ! -e "$tmp" ] && pass "teardown: $tmp removed" || fail "$tmp not removed"
finish
