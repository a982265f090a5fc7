#!/usr/bin/env bash
# The conformance test every registered algorithm gets for free (decent/algo/registry.hpp): the list comes
# from decent-train --list-algorithms, and each algorithm runs one small configuration with its defaults.
#   - 1, 2 and 4 ranks record the same run: every dataset but wall-clock times bitwise equal, except the
#     eval sums that are all-reduced over ranks (eval/merged_loss, eval/consensus_distance, and zo's
#     eval/local_loss: the ranks' parts of the test set, each a float-accurate mean), which agree to float
#     rounding (relative 1e-6; 2.5e-7 measured) as they do today; the parameters, losses and accuracies are bitwise equal;
#   - the bytes sent equal the bytes planned in advance (decent-train refuses to finish otherwise, and its
#     summary prints both);
#   - algorithms that read the checkpoints group: a run stopped after step 20 (test hook
#     DECENT_TEST_STOP_AFTER, as a signal would) and resumed records what the uninterrupted run records.
# Usage: conformance_test.sh DECENT_TRAIN MPIEXEC
set -u
train=$1
mpiexec=$2
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
python=/usr/bin/python3
base=(--dataset synthetic --synthetic-samples 1200 --synthetic-dim 12 --synthetic-classes 4 --nodes 4
      --hidden 8 --batch 8 --steps 40 --eval-every 10 --eval-samples 200 --progress log)

# tests/e2e/same_records.py A B RESUMES [--ranks]: every dataset bitwise but wall times (--ranks: the
# rank-summed eval means to relative 1e-6).
same_records() { "$python" "$(dirname "${BASH_SOURCE[0]}")/same_records.py" "$@"; }

list=$("$train" --list-algorithms) || { fail "--list-algorithms failed"; finish; exit; }
count=$(echo "$list" | wc -l)
[ "$count" -ge 10 ] && pass || fail "--list-algorithms lists $count algorithms: $list"
while read -r name family groups; do
  dir=$tmp/$name
  mkdir -p "$dir"
  for ranks in 1 2 4; do
    if "$mpiexec" -n "$ranks" --oversubscribe "$train" "${base[@]}" --algorithm "$name" --out "$dir/np$ranks.h5" \
      >"$dir/np$ranks.log" 2>&1 </dev/null; then
      # The summary line says "sent X ... (announced X)" with the same X.
      grep -Eq 'sent ([0-9.e+-]+ MB).*\(announced \1\)' "$dir/np$ranks.log" && pass ||
        fail "$name on $ranks ranks: sent and announced bytes differ: $(grep sent "$dir/np$ranks.log")"
    else
      fail "$name on $ranks ranks failed: $(tail -3 "$dir/np$ranks.log")"
    fi
  done
  for ranks in 2 4; do
    [ -f "$dir/np1.h5" ] && [ -f "$dir/np$ranks.h5" ] || continue
    out=$(same_records "$dir/np1.h5" "$dir/np$ranks.h5" 0 --ranks) && pass || fail "$name: 1 and $ranks ranks differ: $out"
  done
  case " $groups " in
    *" checkpoints "*) ;;
    *) echo "$name ($family): ranks agree; writes no checkpoints"; continue ;;
  esac
  for ranks in 1 2; do
    part=$dir/parts$ranks.h5
    DECENT_TEST_STOP_AFTER=20 "$mpiexec" -n "$ranks" --oversubscribe "$train" "${base[@]}" --algorithm "$name" \
      --out "$part" >"$dir/stop$ranks.log" 2>&1 </dev/null
    code=$?
    if [ "$code" -ne 5 ] || [ ! -f "$part.ckpt" ]; then
      fail "$name on $ranks ranks: expected a stop with a checkpoint (exit 5), got exit $code: $(tail -2 "$dir/stop$ranks.log")"
      continue
    fi
    if "$mpiexec" -n "$ranks" --oversubscribe "$train" "${base[@]}" --algorithm "$name" --out "$part" --resume auto \
      >"$dir/resume$ranks.log" 2>&1 </dev/null; then
      out=$(same_records "$dir/np$ranks.h5" "$part" 1) && pass || fail "$name on $ranks ranks: resumed run differs: $out"
    else
      fail "$name on $ranks ranks: resume failed: $(tail -3 "$dir/resume$ranks.log")"
    fi
  done
  echo "$name ($family): ranks agree; $(grep -Eo 'stopped by signal [0-9]+ after [a-z ]+[0-9]+' "$dir/stop1.log"), resumed"
done <<<"$list"
finish
