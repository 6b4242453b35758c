"""HalfCheetah-v5 with log_std_init -1, in scores files for `natgrad statistics`:

- HalfCheetah-v5__scores.csv, seeds 1 to 10: zoo's settings on both sides (../cheetah-seeds-7-10's scores) and
  log_std_init -1 on both sides (a/ and b/ here, each benchmarks/peer-comparison --envs HalfCheetah-v5
  --set log_std_init=-1.0 --first-seed 1|6 --seeds 5 --out ...).
- HalfCheetah-v5__held-out__scores.csv, seeds 11 to 14 and 16 to 19: zoo's settings on both sides
  (../cheetah-seeds-11-20/a and b) and natgrad with log_std_init -1 (held-out/ here, written by
  benchmarks/equal-wall-time HalfCheetah-v5 1000000 OUT 11 ... 20 -- --set log_std_init=-1.0).
- HalfCheetah-v5__preset__scores.csv, those 18 seeds: natgrad's preset (log_std_init -1) against
  sb3-contrib with zoo's settings, the README's row.

    python3 benchmarks/results/2026-12-06/cheetah-log-std/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-06/cheetah-log-std/HalfCheetah-v5__scores.csv \
        --csv benchmarks/results/2026-12-06/cheetah-log-std/HalfCheetah-v5__statistics.csv \
        --plot benchmarks/results/2026-12-06/cheetah-log-std/HalfCheetah-v5__curves.png   # and the other two
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
env = "HalfCheetah-v5"
ZOO = ("natgrad", "sb3-contrib")
SUFFIX = "-log-std-1"


def write(name, rows):
    score_rows.write(os.path.join(here, f"{env}__{name}scores.csv"), rows)


zoo_1_10 = [r for r in score_rows.read(os.path.join(here, f"../cheetah-seeds-7-10/{env}__scores.csv"))
            if r["algorithm"] in ZOO]
zoo_11_20 = score_rows.peer_comparison(os.path.join(here, "../cheetah-seeds-11-20"), env)
both_1_10 = score_rows.renamed(score_rows.peer_comparison(here, env), SUFFIX)
# The same seeds on every side: the zoo runs of seeds 15 and 20 were not run (stopped for time), so natgrad's
# runs of those two seeds stay out of the files (held-out/HalfCheetah-v5.csv has them).
zoo_seeds = {r["run"] for r in zoo_11_20}
natgrad_11_20 = [r for r in score_rows.equal_wall_time(os.path.join(here, "held-out"), env, "natgrad" + SUFFIX)
                 if r["run"] in zoo_seeds]
write("", zoo_1_10 + both_1_10)
write("held-out__", zoo_11_20 + natgrad_11_20)
preset = [dict(r, algorithm="natgrad") for r in both_1_10 + natgrad_11_20 if r["algorithm"] == "natgrad" + SUFFIX]
write("preset__", preset + [r for r in zoo_1_10 + zoo_11_20 if r["algorithm"] == "sb3-contrib"])
