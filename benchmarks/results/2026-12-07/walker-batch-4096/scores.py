"""Walker2d-v5 with n_steps 2048 (a batch of 4,096 steps, twice zoo's), 1M steps, in scores files for
`natgrad statistics`, every row on the side-by-side benchmark's protocol:

- natgrad n_steps 2048 and sb3-contrib n_steps 2048: both sides with the batch, seeds 1-5 in seeds-1/ beside
  seeds 6-10 in seeds-6/, each written by
  benchmarks/peer-comparison --envs Walker2d-v5 --seeds 5 --first-seed 1 --set n_steps=2048 --out OUT/seeds-1
  and natgrad alone on the held-out seeds 11-20 in seeds-11/, written by
  benchmarks/equal-wall-time Walker2d-v5 1000000 OUT/seeds-11 11 12 ... 20 -- --set n_steps=2048
- natgrad n_steps 1024 and sb3-contrib (zoo): natgrad's preset of 2026-12-05 and sb3-contrib with zoo's
  settings on seeds 1-20, from ../../2026-12-05/fresh-seeds/walker.

Walker2d-v5__scores-all-seeds.csv holds all four; Walker2d-v5__both-sides__scores.csv seeds 1-10 of the four
(the seeds on which both sides ran the batch); Walker2d-v5__held-out__scores.csv seeds 11-20 of the three that
ran them.

    python3 benchmarks/results/2026-12-07/walker-batch-4096/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-07/walker-batch-4096/Walker2d-v5__scores-all-seeds.csv
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
results = os.path.join(here, "../..")
env = "Walker2d-v5"
earlier = score_rows.selected(os.path.join(results, f"2026-12-05/fresh-seeds/walker/{env}__scores-all-seeds.csv"),
                              {"natgrad": "natgrad n_steps 1024", "sb3-contrib": "sb3-contrib (zoo)"})
batch = []
for part in ["seeds-1", "seeds-6"]:
    batch += score_rows.selected(os.path.join(here, part, f"{env}__scores.csv"),
                                 {"natgrad": "natgrad n_steps 2048", "sb3-contrib": "sb3-contrib n_steps 2048"})
held_out = score_rows.equal_wall_time(os.path.join(here, "seeds-11"), env, "natgrad n_steps 2048")
rows = earlier + batch + held_out
score_rows.write(os.path.join(here, f"{env}__scores-all-seeds.csv"), rows)
score_rows.write(os.path.join(here, f"{env}__both-sides__scores.csv"), [r for r in rows if int(r["run"]) <= 10])
score_rows.write(os.path.join(here, f"{env}__held-out__scores.csv"), [r for r in rows if int(r["run"]) > 10])
