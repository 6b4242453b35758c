#!/usr/bin/env bash
# natgrad alone, 300k steps: each task's preset against the same with log_std_init -1, seeds 101 on;
# each final policy evaluated deterministically over 10 episodes from the start states of seed 1000.
#   benchmarks/results/2026-12-06/log-std-screen/run.sh OUT Ant-v5 Walker2d-v5   # 2026-12-06, scores.csv here
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
exe=${NATGRAD:-$root/target/release/natgrad}
out=${1:?usage: $0 OUT ENV...}; shift
mkdir -p "$out"
for seed in 101 102 103 104; do
  for env in "$@"; do
    for cfg in preset lsm1; do
      case $cfg in preset) set=();; lsm1) set=(--set log_std_init=-1.0);; esac
      name=${env}__${cfg}__$seed
      [ -e "$out/runs/$name/done" ] && continue
      "$exe" train --algo trpo --env "$env" --seed "$seed" --total-steps 300000 --threads 1 --parallel-critic off --env-threads 1 \
        --eval-freq 0 "${set[@]}" --logdir "$out/runs" --run-name "$name" --quiet >/dev/null 2>&1 || { echo "$name failed"; continue; }
      line=$("$exe" eval "$out/runs/$name" --deterministic --episodes 10 --seed 1000 2>/dev/null)
      score=$(sed -n 's/.*mean return \([-0-9.]*\) .*/\1/p' <<<"$line")
      echo "$env,$cfg,$seed,$score" | tee -a "$out/scores.csv"
      touch "$out/runs/$name/done"
    done
  done
done
