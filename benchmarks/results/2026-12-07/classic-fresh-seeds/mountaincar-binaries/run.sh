#!/usr/bin/env bash
# run.sh BIN OUT SEED...: TRPO from the MountainCar-v0 preset, one thread, each final policy over 100
# deterministic episodes from the start states of seed 1000 (the peer benchmark's protocol). Binaries
# older than 2026-12-02 take neither --parallel-critic nor --env-threads, 7878b48 no --env-threads: drop them.
# ENV=gym:MountainCar-v0 trains on Gymnasium's own MountainCar through the bridge.
bin=$1 out=$2; shift 2
mkdir -p $out
for s in "$@"; do
  [ -e $out/r$s/done ] && continue
  rm -rf $out/r$s
  $bin train --algo trpo --env ${ENV:-MountainCar-v0} --seed $s --threads 1 --parallel-critic off --env-threads 1 --logdir $out --run-name r$s --quiet >/dev/null 2>&1 || { echo "seed $s failed"; continue; }
  line=$($bin eval $out/r$s --deterministic --episodes 100 --seed 1000 2>/dev/null)
  echo "$s $(sed -n 's/.*mean return \([-0-9.]*\) .*/\1/p' <<<"$line")" | tee -a $out/scores.txt
  touch $out/r$s/done
done
