"""Ant-v5 with log_std_init -1, in scores files for `natgrad statistics` (1M steps):

- Ant-v5__scores.csv, seeds 1 to 5, the same protocol on every row: without it, the runs of 2026-12-05
  (../../2026-12-05/ant-kl-times-d): natgrad-paper-kl (zoo's numbers in natgrad's summed KL, the preset until
  2026-12-05), natgrad (sb3-contrib's trust region, the preset of 2026-12-05) and sb3-contrib (zoo's settings);
  with it on both sides, natgrad-log-std-1 and sb3-contrib-log-std-1 (a/ and b/ here, each
  benchmarks/peer-comparison --envs Ant-v5 --set log_std_init=-1.0 --first-seed 1|4 --seeds 3|2 --out ...).
- Ant-v5__both-sides__scores.csv: log_std_init -1 on both sides, every seed run (c/, d/, ...: seeds 6 on, one
  benchmarks/peer-comparison each).
- Ant-v5__held-out__scores.csv, seeds 6 to 10, natgrad alone: the preset of 2026-12-05 (held-out-preset/) and
  the same with log_std_init -1 (held-out-log-std-1/), each written by
  benchmarks/equal-wall-time Ant-v5 1000000 OUT 6 7 8 9 10 [-- --set log_std_init=-1.0].

    python3 benchmarks/results/2026-12-06/ant-log-std/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-06/ant-log-std/Ant-v5__scores.csv \
        --csv benchmarks/results/2026-12-06/ant-log-std/Ant-v5__statistics.csv \
        --plot benchmarks/results/2026-12-06/ant-log-std/Ant-v5__curves.png   # and the held-out file
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
env = "Ant-v5"
SUFFIX = "-log-std-1"

NAMES = {"natgrad": "natgrad-paper-kl", "natgrad-kl-times-d": "natgrad", "sb3-contrib": "sb3-contrib"}
before = score_rows.selected(os.path.join(here, f"../../2026-12-05/ant-kl-times-d/{env}__scores.csv"), NAMES)
both_sides = score_rows.renamed(score_rows.peer_comparison(here, env), SUFFIX)
score_rows.write(os.path.join(here, f"{env}__scores.csv"), before + [r for r in both_sides if int(r["run"]) <= 5])
score_rows.write(os.path.join(here, f"{env}__both-sides__scores.csv"), both_sides)
held_out = (score_rows.equal_wall_time(os.path.join(here, "held-out-preset"), env, "natgrad")
            + score_rows.equal_wall_time(os.path.join(here, "held-out-log-std-1"), env, "natgrad" + SUFFIX))
score_rows.write(os.path.join(here, f"{env}__held-out__scores.csv"), held_out)
