#!/usr/bin/env bash
# ACKTR on MountainCarContinuous-v0 (2026-12-07, Intel Xeon, binary of commit 9649f1f whose presets had
# no ent_coef for ACKTR: "preset" below is the agent's entropy bonus 0.01). natgrad alone, 50k steps, each
# final policy evaluated deterministically over 100 episodes from the start states of seed 1000. Each pair
# of screens ran at once, one a core, into the same folder.
set -e
O=benchmarks/results/2026-12-07/acktr-mcc-screen
mcc() { ALGO=acktr EPISODES=100 benchmarks/screen "$1" 50000 "$2" MountainCarContinuous-v0 "${@:3}"; }
mcc $O "$(seq -s' ' 101 140)" preset xkl:exact_kl=true lsm1:log_std_init=-1.0 lsm1g:log_std_init=-1.0,gamma=0.9999 > $O/output.txt
mcc $O "$(seq -s' ' 101 140)" xklg:exact_kl=true,gamma=0.9999 > $O/output-xklg.txt
mcc $O "$(seq -s' ' 101 140)" ent0:ent_coef=0.0 > $O/output-ent0.txt
mcc $O "$(seq -s' ' 101 140)" ent0g:ent_coef=0.0,gamma=0.9999 > $O/output-ent0g.txt
# seeds nothing above chose: the preset against ent0
mcc $O/held-out "$(seq -s' ' 141 180)" preset > $O/held-out/output-preset.txt
mcc $O/held-out "$(seq -s' ' 141 180)" ent0:ent_coef=0.0 > $O/held-out/output-ent0.txt
# Pendulum-v1 (ACKTR's own preset: no gSDE; its 100k steps), seeds 101 to 140
for c in preset ent0:ent_coef=0.0; do
  ALGO=acktr EPISODES=100 BELOW=-600 benchmarks/screen $O/pendulum 100000 "$(seq -s' ' 101 140)" Pendulum-v1 $c > $O/pendulum/output-${c%%:*}.txt
done
ALGO=acktr EPISODES=100 BELOW=-600 benchmarks/screen $O/pendulum-200k 200000 "$(seq -s' ' 101 120)" Pendulum-v1 preset > $O/pendulum-200k/output.txt
# TRPO's and NPG's presets on the same seeds and machine (binary of commit 74141c6)
for a in trpo npg; do
  ALGO=$a EPISODES=100 benchmarks/screen $O/trpo-npg 50000 "$(seq -s' ' 101 140)" MountainCarContinuous-v0 preset
done > $O/trpo-npg/output.txt
for f in $O $O/held-out $O/trpo-npg $O/pendulum $O/pendulum-200k; do python3 benchmarks/screen_summary.py $f --above 80 --against preset; done
python3 $O/final_scores.py && target/release/natgrad statistics $O/statistics-scores.csv > $O/statistics.txt
# each final policy's noise and mean action at the start state (needs torch and safetensors)
benchmarks/.venv-sb3/bin/python $O/noise_by_outcome.py $O $O/held-out > $O/noise.md
