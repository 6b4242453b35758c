"""Swimmer-v5 side by side at 1M steps, seeds 1-20 in one scores file for `natgrad statistics`: seeds 1-10
from ../swimmer-seeds-6-10 (its scores.py gathers 1-5 and 6-10) and seeds 11-20 from this folder's a/ and b/,
each written by benchmarks/peer-comparison (natgrad's preset, which is zoo's settings, against sb3-contrib
2.9.2 with zoo's settings, the same protocol):

    benchmarks/peer-comparison --envs Swimmer-v5 --first-seed 11 --seeds 5 --out OUT/a   # beside
    benchmarks/peer-comparison --envs Swimmer-v5 --first-seed 16 --seeds 5 --out OUT/b

    python3 benchmarks/results/2026-12-07/swimmer-seeds-6-10/scores.py
    python3 benchmarks/results/2026-12-07/swimmer-seeds-11-20/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-07/swimmer-seeds-11-20/Swimmer-v5__scores-seeds-1-20.csv
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
env = "Swimmer-v5"
rows = score_rows.read(os.path.join(here, f"../swimmer-seeds-6-10/{env}__scores-seeds-1-10.csv"))
rows += score_rows.peer_comparison(here, env)
score_rows.write(os.path.join(here, f"{env}__scores-seeds-1-20.csv"), rows)
