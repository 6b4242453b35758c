#!/usr/bin/env bash
# CartPole-v1's TRPO preset on an Intel Xeon (2026-12-07; binary of commit 9255bac): the quick start's seeds
# 1 to 10, then the preset against two narrower trust regions on seeds 101 to 140 (two screens at once, one a
# core), each final policy evaluated deterministically over 20 episodes (quick-start: evaluation seed 0;
# the screen: seed 1000).
set -e
O=benchmarks/results/2026-12-07/cartpole-intel
benchmarks/quick-start > $O/quick-start.txt
EPISODES=20 benchmarks/screen $O 100000 "$(seq -s' ' 101 140)" CartPole-v1 preset kl002:target_kl=0.002 > $O/output-preset-kl002.txt
EPISODES=20 benchmarks/screen $O 100000 "$(seq -s' ' 101 140)" CartPole-v1 kl0015:target_kl=0.0015 > $O/output-kl0015.txt
python3 benchmarks/screen_summary.py $O --solved 475 --against preset
