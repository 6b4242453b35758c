"""Puts a task at 1M steps with gamma 0.995 on both sides (benchmarks/peer-comparison
--set gamma=0.995, two benchmarks side by side: Hopper-v5 seeds 1-3 in a/, 4-6 in b/, 7-8 in c/
and 9-10 in d/; Walker2d-v5 seeds 1-2, 3-4, 5-6, 7-8, 9 and 10 in walker2d-a/ to walker2d-f/)
together with the same seeds at zoo's gamma 0.99 (natgrad: benchmarks/results/2026-12-05/kl-times-d,
the preset; sb3-contrib: the peer benchmark of 2026-12-04) in one scores file for `natgrad statistics`.

    python3 benchmarks/results/2026-12-06/gamma-0.995-both/scores.py [Hopper-v5 | Walker2d-v5]
    scripts/natgrad statistics benchmarks/results/2026-12-06/gamma-0.995-both/Hopper-v5__scores.csv \
        --csv benchmarks/results/2026-12-06/gamma-0.995-both/Hopper-v5__statistics.csv \
        --plot benchmarks/results/2026-12-06/gamma-0.995-both/Hopper-v5__curves.png
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
results = os.path.join(here, "../..")
env = sys.argv[1] if len(sys.argv) > 1 else "Hopper-v5"
peer_folder = {"Hopper-v5": "hopper", "Walker2d-v5": "walker"}[env]


# Every benchmark folder here that ran this task.
new = [os.path.join(here, part, f"{env}__scores.csv") for part in sorted(os.listdir(here))
       if os.path.isdir(os.path.join(here, part))]
seeds = {int(r["run"]) for path in new if os.path.exists(path) for r in score_rows.read(path)}
out_rows = (score_rows.selected(os.path.join(results, f"2026-12-05/kl-times-d/{env}__scores.csv"),
                               {"natgrad-kl-times-d": "natgrad gamma 0.99"}, seeds)
            + score_rows.selected(os.path.join(results, f"2026-12-04/peer-mujoco/{peer_folder}/{env}__scores.csv"),
                                  {"sb3-contrib": "sb3-contrib gamma 0.99"}, seeds))
for path in new:
    if os.path.exists(path):
        out_rows += score_rows.selected(path, {"natgrad": "natgrad gamma 0.995", "sb3-contrib": "sb3-contrib gamma 0.995"},
                                        seeds)
print(f"seeds {sorted(seeds)}")
score_rows.write(os.path.join(here, f"{env}__scores.csv"), out_rows)
