"""InvertedDoublePendulum-v5 with n_steps 4096 (a batch of 8,192 steps, chosen on seeds 101-104 in
../idp-critic-screen) on seeds 1 to 5, on the side-by-side benchmark's protocol (1M steps, the final policy over 20
deterministic episodes from the start states of seed 1000, curves every 50k steps):

- natgrad n_steps 4096 and sb3-contrib n_steps 4096: benchmarks/peer-comparison --envs InvertedDoublePendulum-v5
  --set n_steps=4096, a/ (seeds 1-3) and b/ (4-5): both sides take the setting;
- natgrad n_steps 1024 and sb3-contrib n_steps 1024: natgrad's earlier preset and zoo's settings on the same
  seeds, from ../../2026-12-04/peer-mujoco/idp.

    python3 benchmarks/results/2026-12-07/idp-batch-8192/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-07/idp-batch-8192/InvertedDoublePendulum-v5__scores.csv
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
env = "InvertedDoublePendulum-v5"
rows = []
for part in "ab":
    rows += score_rows.renamed(score_rows.read(os.path.join(here, part, f"{env}__scores.csv")), " n_steps 4096")
rows += score_rows.selected(os.path.join(here, f"../../2026-12-04/peer-mujoco/idp/{env}__scores.csv"),
                            {"natgrad": "natgrad n_steps 1024", "sb3-contrib": "sb3-contrib n_steps 1024"})
score_rows.write(os.path.join(here, f"{env}__scores.csv"), rows)
