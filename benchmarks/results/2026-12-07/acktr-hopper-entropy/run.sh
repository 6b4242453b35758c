#!/usr/bin/env bash
# ACKTR on Hopper-v5 with and without its entropy bonus (2026-12-07, Intel Xeon, binary of commit a9a75f2):
# natgrad alone, 1M steps, seeds 101 to 110, each final policy evaluated deterministically over 20 episodes
# from the start states of seed 1000, one core (an Atari run and the CI on the other). A second screen of
# seeds 111 to 120 was started beside it and stopped after its first run, for the Atari run.
set -e
O=benchmarks/results/2026-12-07/acktr-hopper-entropy
EPISODES=20 ALGO=acktr benchmarks/screen $O 1000000 "$(seq -s' ' 101 110)" Hopper-v5 preset ent0:ent_coef=0.0 > $O/output.txt
python3 benchmarks/screen_summary.py $O --against preset
