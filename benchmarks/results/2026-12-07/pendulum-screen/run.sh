#!/usr/bin/env bash
# Pendulum-v1 screen, natgrad alone: TRPO from its preset (zoo's settings with gSDE, 100k steps), each
# CONFIG x SEED trained with one torch thread and its final policy evaluated over 1000 deterministic
# episodes reset with seed 1000, as the peer benchmark does; also counts the episodes that never swing
# up (return below -600, docs/reproductions.md, "Pendulum on seeds nothing was tuned on").
#
#   run.sh "SEED..." CONFIG...      CONFIG: NAME or NAME:KEY=VALUE[,KEY=VALUE...] (natgrad train --set)
#
# ALGO=npg or ALGO=vpg screens that agent from its preset instead of TRPO.
# Appends config,seed,last_training_episodes,evaluation,never_swung_up to scores.csv.
set -euo pipefail
exe=${NATGRAD:-target/release/natgrad}
algo=${ALGO:-trpo}
out=$(dirname "$0")
seeds=$1; shift
[ -f "$out/scores.csv" ] || echo "config,seed,last_training_episodes,evaluation,never_swung_up" > "$out/scores.csv"
for cfg in "$@"; do
  name=${cfg%%:*} set=()
  if [ "$name" != "$cfg" ]; then
    IFS=, read -ra pairs <<<"${cfg#*:}"
    for p in "${pairs[@]}"; do set+=(--set "$p"); done
  fi
  for seed in $seeds; do
    grep -q "^$name,$seed," "$out/scores.csv" && continue
    run=$out/runs/${name}__$seed
    rm -rf "$run"
    summary=$("$exe" train --algo "$algo" --env Pendulum-v1 --seed "$seed" --threads 1 --parallel-critic off \
      "${set[@]}" --logdir "$out/runs" --run-name "${name}__$seed" --quiet)
    last=$(grep -o 'mean return of the last 20 episodes [-0-9.]*' <<<"$summary" | awk '{print $NF}')
    "$exe" eval "$run" --episodes 1000 --deterministic --seed 1000 --csv "$run/evaluation.csv" >/dev/null
    read -r mean stuck < <(python3 - "$run/evaluation.csv" <<'PY'
import csv, sys
r = [float(row["return"]) for row in csv.DictReader(open(sys.argv[1]))]
print(f"{sum(r) / len(r):.2f} {sum(x < -600 for x in r)}")
PY
)
    echo "$name,$seed,$last,$mean,$stuck" | tee -a "$out/scores.csv"
  done
done
