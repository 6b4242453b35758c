#!/usr/bin/env bash
# natgrad alone on Pendulum-v1 (its preset: zoo's settings with gSDE), seeds 107 to 136, each final
# policy evaluated over 1000 deterministic episodes reset with seed 1000, as the peer benchmark does:
# how often natgrad ends near -200 (the tail of docs/reproductions.md, "Pendulum on seeds nothing was tuned on").
set -euo pipefail
exe=${NATGRAD:-target/release/natgrad}
out=$(dirname "$0")
echo "seed,last_training_episodes,evaluation" > "$out/results.csv"
for seed in $(seq 107 136); do
  summary=$("$exe" train --algo trpo --env Pendulum-v1 --seed "$seed" --threads 1 --parallel-critic off \
    --logdir "$out/runs" --run-name "s$seed" --quiet)
  last=$(grep -o 'mean return of the last 20 episodes [-0-9.]*' <<<"$summary" | awk '{print $NF}')
  evaluation=$("$exe" eval "$out/runs/s$seed" --episodes 1000 --deterministic --seed 1000 | grep -o 'mean return [-0-9.]*' | awk '{print $NF}')
  echo "$seed,$last,$evaluation" | tee -a "$out/results.csv"
done
