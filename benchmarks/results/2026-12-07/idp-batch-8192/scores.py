"""InvertedDoublePendulum-v5 with n_steps 4096 (a batch of 8,192 steps, chosen on seeds 101-104 in
../idp-critic-screen) on seeds 1 to 8, on the side-by-side benchmark's protocol (1M steps, the final policy over 20
deterministic episodes from the start states of seed 1000, curves every 50k steps):

- natgrad n_steps 4096 and sb3-contrib n_steps 4096: benchmarks/peer-comparison --envs InvertedDoublePendulum-v5
  --set n_steps=4096, a/ (seeds 1-3), b/ (4-5) and c/ (6-8): both sides take the setting;
- natgrad n_steps 1024 and sb3-contrib n_steps 1024: natgrad's earlier preset and zoo's settings on the same
  seeds, from ../../2026-12-04/peer-mujoco/idp (seeds 1-5) and zoo-seeds-6-8/ (benchmarks/peer-comparison
  --envs InvertedDoublePendulum-v5 --first-seed 6 --seeds 3, run with the earlier preset; --set n_steps=1024,
  zoo's own, repeats it now).

InvertedDoublePendulum-v5__scores.csv holds seeds 1 to 5 (the first check), InvertedDoublePendulum-v5__scores-8-seeds.csv
seeds 1 to 8.

    python3 benchmarks/results/2026-12-07/idp-batch-8192/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-07/idp-batch-8192/InvertedDoublePendulum-v5__scores-8-seeds.csv
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
env = "InvertedDoublePendulum-v5"
earlier = {"natgrad": "natgrad n_steps 1024", "sb3-contrib": "sb3-contrib n_steps 1024"}


def batch(parts):
    return [r for part in parts for r in score_rows.renamed(
        score_rows.read(os.path.join(here, part, f"{env}__scores.csv")), " n_steps 4096")]


first_five = batch("ab") + score_rows.selected(
    os.path.join(here, f"../../2026-12-04/peer-mujoco/idp/{env}__scores.csv"), earlier)
score_rows.write(os.path.join(here, f"{env}__scores.csv"), first_five)
more = batch("c") + score_rows.selected(os.path.join(here, "zoo-seeds-6-8", f"{env}__scores.csv"), earlier)
score_rows.write(os.path.join(here, f"{env}__scores-8-seeds.csv"), first_five + more)
