"""MountainCar-v0 side by side with sb3-contrib on 45 fresh seeds, 201 to 245, in one scores file for
`natgrad statistics`: seeds 201-215 from ../classic-fresh-seeds and 216-245 from this folder's a/ and b/,
each written by benchmarks/peer-comparison with zoo's settings on both sides (natgrad's preset is zoo's):

    benchmarks/peer-comparison --envs MountainCar-v0 --first-seed 216 --seeds 15 --out OUT/a   # beside
    benchmarks/peer-comparison --envs MountainCar-v0 --first-seed 231 --seeds 15 --out OUT/b

    python3 benchmarks/results/2026-12-07/mountaincar-seeds-216-245/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-07/mountaincar-seeds-216-245/MountainCar-v0__scores-seeds-201-245.csv
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
env = "MountainCar-v0"
rows = score_rows.read(os.path.join(here, f"../classic-fresh-seeds/{env}__scores.csv"))
rows += score_rows.peer_comparison(here, env)
score_rows.write(os.path.join(here, f"{env}__scores-seeds-201-245.csv"), rows)
