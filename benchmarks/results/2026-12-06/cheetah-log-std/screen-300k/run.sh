#!/usr/bin/env bash
# The screen behind HalfCheetah-v5's log_std_init (2026-12-06): natgrad alone, 300k steps a run, zoo's
# preset against log_std_init -1 (initial action std 0.37) and gamma 0.995, seeds 101 on (none of the
# comparison's seeds 1 to 20), each final policy evaluated deterministically over 10 episodes from the
# start states of seed 1000. Stopped at seed 118 (its gamma 0.995 run, and 106's, not finished).
#
#   benchmarks/results/2026-12-06/cheetah-log-std/screen-300k/run.sh OUT   # scores in OUT/scores.csv
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../../.." && pwd)
exe=${NATGRAD:-${CARGO_TARGET_DIR:-$root/target}/release/natgrad}
out=${1:?usage: $0 OUT}
mkdir -p "$out"
for seed in $(seq 101 124); do
  for cfg in preset lsm1 g995; do
    case $cfg in preset) set=();; lsm1) set=(--set log_std_init=-1.0);; g995) set=(--set gamma=0.995);; esac
    name=${cfg}__$seed
    [ -e "$out/runs/$name/done" ] && continue
    "$exe" train --algo trpo --env HalfCheetah-v5 --seed "$seed" --total-steps 300000 --threads 1 --parallel-critic off \
      --eval-freq 0 "${set[@]}" --logdir "$out/runs" --run-name "$name" --quiet >/dev/null 2>&1 || { echo "$name failed"; continue; }
    line=$("$exe" eval "$out/runs/$name" --deterministic --episodes 10 --seed 1000 2>/dev/null)
    score=$(sed -n 's/.*mean return \([-0-9.]*\) .*/\1/p' <<<"$line")
    echo "$cfg,$seed,$score" | tee -a "$out/scores.csv"
    touch "$out/runs/$name/done"
  done
done
