#!/usr/bin/env bash
# CartPole-v1's TRPO preset of 2026-12-07 (2 copies of 1024 steps, target_kl
# "lin_0.005") against the one before it (512 steps per copy, target_kl
# 0.0025), from the repository root. The choice screen (choice/) ran on a
# throwaway build: see README.md.
set -euo pipefail
O=benchmarks/results/2026-12-07/cartpole-lin
benchmarks/quick-start > $O/quick-start.txt
EPISODES=20 benchmarks/screen $O 100000 "$(seq -s' ' 101 180)" CartPole-v1 preset zoo512-k0025:n_steps=512,target_kl=0.0025
python3 benchmarks/screen_summary.py $O --solved 475 --against zoo512-k0025
