# slurm/lib.sh: shared by the sbatch scripts in this directory (sourced, never run).
# shellcheck shell=bash
#
#   decent_die MESSAGE           print "PROG: MESSAGE" on stderr and exit 2 (bad input, as decent-train)
#   decent_find_exe NAME         DECENT_EXE=$DECENT_BUILD/drivers/NAME, or exit 2 when it is missing
#   decent_setup_env             one thread per rank; Open MPI's run-as-root variables when root
#   decent_set_launcher          DECENT_LAUNCH=(srun --mpi=pmix) or (mpirun), from DECENT_LAUNCHER
#   decent_train_job RUN_DIR [decent-train options...]
#                                one decent-train run into RUN_DIR (train.sbatch, sweep.sbatch,
#                                multinode.sbatch); returns decent-train's exit code
#   decent_sweep_task SWEEP_DIR ID
#                                line ID (0-based) of SWEEP_DIR/tasks.txt run by decent_train_job
#                                into SWEEP_DIR/task-ID
#
# Environment: DECENT_BUILD (default: $SLURM_SUBMIT_DIR/build, or ./build outside Slurm),
# DECENT_LAUNCHER (srun, the default, or mpirun).
# The caller sets decent_prog (its name, for messages) before sourcing.

decent_prog=${decent_prog:-decent}

decent_die() {
  echo "$decent_prog: $*" >&2
  exit 2
}

decent_find_exe() {
  local build=${DECENT_BUILD:-${SLURM_SUBMIT_DIR:-$PWD}/build}
  DECENT_EXE=$build/drivers/$1
  [ -x "$DECENT_EXE" ] ||
    decent_die "$DECENT_EXE not found or not executable; build first (scripts/test, or cmake -S . -B build && cmake --build build) or set DECENT_BUILD to the build directory"
}

decent_setup_env() {
  export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
  # Open MPI refuses to start as root without these (mpirun checks; harmless under srun).
  if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
}

decent_set_launcher() {
  case ${DECENT_LAUNCHER:-srun} in
    srun) DECENT_LAUNCH=(srun --mpi=pmix) ;;   # Debian's Open MPI speaks PMIx, not PMI2
    mpirun) DECENT_LAUNCH=(mpirun) ;;          # Open MPI's mpirun reads the Slurm allocation itself
    *) decent_die "DECENT_LAUNCHER=${DECENT_LAUNCHER}: use srun (default) or mpirun" ;;
  esac
  command -v "${DECENT_LAUNCH[0]}" >/dev/null ||
    decent_die "${DECENT_LAUNCH[0]} not found (outside Slurm, DECENT_LAUNCHER=mpirun runs the script with Open MPI alone)"
}

# Prints a line to the job's output and appends it to the run's log.txt.
_decent_say() {
  printf '%s\n' "$*"
  [ -n "${_decent_log:-}" ] && printf '%s\n' "$*" >>"$_decent_log"
  return 0
}

# The time-limit warning (#SBATCH --signal=B:USR1@60 signals this batch shell only).
_decent_on_usr1() {
  _decent_say "$decent_prog: $(date -Is) SIGUSR1: the job reaches its time limit in about a minute."
  _decent_say "$decent_prog: decent-train writes its checkpoint ${_decent_run_dir}/run.h5.ckpt and stops" \
    "(exit code 5); submit the same command again to continue (it passes --resume auto)."
  if [ -n "${_decent_pid:-}" ]; then
    _decent_say "$decent_prog: forwarding SIGUSR1 to the job step (pid ${_decent_pid}, ${DECENT_LAUNCH[0]})."
    kill -USR1 "$_decent_pid" 2>/dev/null
  fi
}

_decent_on_term() {
  _decent_say "$decent_prog: $(date -Is) SIGTERM: the job was cancelled or reached its time limit;" \
    "decent-train writes a checkpoint if it has time, and ${_decent_run_dir}/run.h5 will say finished = 0."
}

decent_train_job() {
  local usage="usage: sbatch [sbatch options] $decent_prog RUN_DIR [decent-train options...] (see slurm/README.md)"
  [ $# -ge 1 ] && [ -n "$1" ] || decent_die "$usage"
  local run_dir=$1
  shift
  case $run_dir in -*) decent_die "the first argument is the run directory, not an option ('$run_dir'); $usage" ;; esac

  local config="" args=() resume=auto
  while [ $# -gt 0 ]; do
    case $1 in
      --out | --out=* | --progress | --progress=*)
        decent_die "$1: the script sets --out RUN_DIR/run.h5 and --progress log itself" ;;
      --resume)
        [ $# -ge 2 ] || decent_die "--resume needs a checkpoint file or auto"
        resume=$2
        shift 2 ;;
      --resume=*)
        resume=${1#--resume=}
        shift ;;
      --config)
        [ $# -ge 2 ] || decent_die "--config needs a file"
        [ -z "$config" ] || decent_die "--config given twice"
        config=$2
        shift 2 ;;
      --config=*)
        [ -z "$config" ] || decent_die "--config given twice"
        config=${1#--config=}
        shift ;;
      *)
        args+=("$1")
        shift ;;
    esac
  done

  decent_find_exe decent-train
  decent_set_launcher
  [ -z "$config" ] || [ -f "$config" ] || decent_die "--config $config: no such file"
  mkdir -p "$run_dir" || decent_die "cannot create the run directory $run_dir"
  run_dir=$(cd "$run_dir" && pwd) || decent_die "cannot enter the run directory"
  if [ -n "$config" ]; then
    [ "$config" -ef "$run_dir/config.ini" ] || cp "$config" "$run_dir/config.ini" ||
      decent_die "cannot copy $config to $run_dir/config.ini"
    args=(--config "$run_dir/config.ini" "${args[@]}")
  fi
  # --resume auto: a resubmitted or requeued job continues from run.h5.ckpt, and one that had finished
  # does nothing (docs/reliability.md).
  args+=(--resume "$resume" --out "$run_dir/run.h5" --progress log)
  decent_setup_env

  local cmd=("${DECENT_LAUNCH[@]}" "$DECENT_EXE" "${args[@]}")
  local where="job ${SLURM_JOB_ID:-none}"
  [ -n "${SLURM_ARRAY_JOB_ID:-}" ] && where+=" (array ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID})"
  where+=" on ${SLURM_JOB_NODELIST:-$(hostname)}"
  [ -n "${SLURM_NTASKS:-}" ] && where+=", $SLURM_NTASKS tasks"
  {
    echo "# decent-train run written by $decent_prog: $where, $(date -Is)"
    echo "# submitted from ${SLURM_SUBMIT_DIR:-$PWD}; the effective options (the command line wins over the"
    echo "# config file; run.h5's 'config' attribute holds every resolved key). Rerun inside an allocation"
    echo "# with: bash $run_dir/command.txt"
    echo "export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1${OMPI_ALLOW_RUN_AS_ROOT:+ OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1}"
    printf '%q ' "${cmd[@]}" | sed 's/ $//'
    echo
  } >"$run_dir/command.txt"

  _decent_run_dir=$run_dir
  _decent_log=$run_dir/log.txt
  _decent_pid=""
  trap _decent_on_usr1 USR1
  trap _decent_on_term TERM
  rm -f "$run_dir/exit_code"
  _decent_say "=== $decent_prog: $where, $(date -Is)"
  _decent_say "=== $(printf '%q ' "${cmd[@]}")"

  # decent-train runs in the background so that the shell can take the warning signal while it runs
  # (bash runs traps only between commands, and `wait` returns early for them).
  local tee_fd tee_pid rc
  # tee ignores SIGTERM (Slurm sends it to every process of a cancelled job) so the log keeps the end.
  exec {tee_fd}> >(trap '' TERM; exec tee -a "$_decent_log")
  tee_pid=$!
  "${cmd[@]}" >&"$tee_fd" 2>&1 </dev/null &
  _decent_pid=$!
  wait "$_decent_pid"
  rc=$?
  while kill -0 "$_decent_pid" 2>/dev/null; do   # woken by a trap: wait for the real exit
    wait "$_decent_pid"
    rc=$?
  done
  trap - USR1 TERM
  exec {tee_fd}>&-
  wait "$tee_pid" 2>/dev/null

  local meaning
  case $rc in
    0) meaning="finished; run.h5 says finished = 1" ;;
    2) meaning="bad configuration or input; nothing was trained" ;;
    3) meaning="the run diverged; run.h5 says finished = 0" ;;
    5) meaning="stopped by a signal after writing run.h5.ckpt; submit the same command again to continue" ;;
    *) meaning="stopped or failed; run.h5, if written, says finished = 0" ;;
  esac
  echo "$rc" >"$run_dir/exit_code"
  _decent_say "=== $decent_prog: $(date -Is) decent-train exited with code $rc ($meaning)"
  return "$rc"
}

decent_sweep_task() {
  local sweep=${1:-} id=${2:-}
  [ -n "$sweep" ] || decent_die "usage: sbatch --array=0-(N-1) $decent_prog SWEEP_DIR (slurm/make-sweep prints it)"
  [ -n "$id" ] || decent_die "not an array task (SLURM_ARRAY_TASK_ID is unset): submit with sbatch --array=0-(N-1), as slurm/make-sweep prints"
  local tasks=$sweep/tasks.txt
  [ -f "$tasks" ] || decent_die "$tasks not found; write it with slurm/make-sweep"
  local n
  n=$(wc -l <"$tasks")
  [ "$id" -ge 0 ] 2>/dev/null && [ "$id" -lt "$n" ] ||
    decent_die "array task $id is outside the $n tasks of $tasks (use --array=0-$((n - 1)))"
  local line
  line=$(sed -n "$((id + 1))p" "$tasks")
  # The line is shell-quoted words (make-sweep writes it with shlex.quote); xargs splits them without eval.
  printf '%s\n' "$line" | xargs -r printf '' 2>/dev/null ||
    decent_die "$tasks line $((id + 1)): cannot split into options (unbalanced quotes?): $line"
  local task_args=()
  mapfile -d '' -t task_args < <(printf '%s\n' "$line" | xargs -r printf '%s\0')
  decent_train_job "$sweep/task-$id" "${task_args[@]}"
}
