"""Swimmer-v5 side by side at 1M steps, seeds 1-10 in one scores file for `natgrad statistics`: seeds 1-5 from
../../2026-12-04/peer-mujoco/swimmer (2026-12-04 and 05) and seeds 6-10 from this folder (2026-12-07), both
written by benchmarks/peer-comparison --envs Swimmer-v5 (natgrad's preset, which is zoo's settings, against
sb3-contrib 2.9.2 with zoo's settings, the same protocol).

    python3 benchmarks/results/2026-12-07/swimmer-seeds-6-10/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-07/swimmer-seeds-6-10/Swimmer-v5__scores-seeds-1-10.csv
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
env = "Swimmer-v5"
rows = score_rows.read(os.path.join(here, f"../../2026-12-04/peer-mujoco/swimmer/{env}__scores.csv"))
rows += score_rows.read(os.path.join(here, f"{env}__scores.csv"))
score_rows.write(os.path.join(here, f"{env}__scores-seeds-1-10.csv"), rows)
