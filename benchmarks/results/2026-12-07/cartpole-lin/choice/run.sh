#!/bin/bash
# usage: run.sh NAME DECAY|none "SETS" SEEDS...
name=$1 decay=$2 sets=$3; shift 3
exe=/tmp/natgrad-hack
out=/tmp/exp/$name; mkdir -p $out/runs
for seed in "$@"; do
  if [ "$decay" = none ]; then unset NATGRAD_DECAY; else export NATGRAD_DECAY=$decay; fi
  summary=$(OMP_NUM_THREADS=1 $exe train --algo trpo --env CartPole-v1 --seed $seed --logdir $out/runs --run-name s$seed --quiet $sets)
  last=$(grep -o 'mean return of the last 20 episodes [-0-9.]*' <<<"$summary" | awk '{print $NF}')
  ev=$($exe eval $out/runs/s$seed --episodes 20 --deterministic --seed 0 | grep -o 'mean return [-0-9.]*' | awk '{print $NF}')
  echo "$seed $last $ev" >> $out/scores.txt
done
