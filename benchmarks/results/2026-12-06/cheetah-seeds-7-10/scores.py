"""HalfCheetah-v5 seeds 7 to 10 beside seeds 1-6, in one scores file for `natgrad statistics`:
natgrad's preset and sb3-contrib (zoo's settings) from the peer benchmark (seeds 1-6:
benchmarks/results/2026-12-04/peer-mujoco/cheetah; seeds 7 to 10: seed-7/ to seed-10/ here, two at
a time side by side, each benchmarks/peer-comparison --envs HalfCheetah-v5 --seeds 1 --first-seed N
--out .../seed-N), and natgrad with sb3-contrib's trust region (target_kl 0.24, cg_damping 0.6;
seeds 1-6: benchmarks/results/2026-12-05/kl-times-d; seeds 7 to 10: kl-times-d/ here, written by
benchmarks/equal-wall-time).

    python3 benchmarks/results/2026-12-06/cheetah-seeds-7-10/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-06/cheetah-seeds-7-10/HalfCheetah-v5__scores.csv \
        --csv benchmarks/results/2026-12-06/cheetah-seeds-7-10/HalfCheetah-v5__statistics.csv \
        --plot benchmarks/results/2026-12-06/cheetah-seeds-7-10/HalfCheetah-v5__curves.png
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
results = os.path.join(here, "../..")
env = "HalfCheetah-v5"
label = "natgrad-kl-times-d"
read = score_rows.read


later_seeds = sorted(int(name.removeprefix("seed-")) for name in os.listdir(here) if name.startswith("seed-"))
rows = [*read(os.path.join(results, f"2026-12-04/peer-mujoco/cheetah/{env}__scores.csv")),
        *(r for seed in later_seeds for r in read(os.path.join(here, f"seed-{seed}/{env}__scores.csv"))),
        *score_rows.equal_wall_time(os.path.join(results, "2026-12-05/kl-times-d"), env, label),
        *score_rows.equal_wall_time(os.path.join(here, "kl-times-d"), env, label)]
score_rows.write(os.path.join(here, f"{env}__scores.csv"), rows)
