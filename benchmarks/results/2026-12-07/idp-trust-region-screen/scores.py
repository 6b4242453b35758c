"""InvertedDoublePendulum-v5, natgrad alone, the trust region screened at 1M steps on seeds 101 to 104 (seeds no
comparison uses), with an evaluation curve every 50k steps: the preset (target_kl 0.01, which is sb3-contrib's
too: one action dimension) and target_kl 0.005 and 0.0025, each folder written by
benchmarks/equal-wall-time InvertedDoublePendulum-v5 1000000 OUT 101 102 103 104 [-- --set target_kl=K] with
the preset of the day (n_steps 1024; since 2026-12-07 the preset takes 4096: add --set n_steps=1024).

    python3 benchmarks/results/2026-12-07/idp-trust-region-screen/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-07/idp-trust-region-screen/InvertedDoublePendulum-v5__scores.csv
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
env = "InvertedDoublePendulum-v5"
rows = []
for folder, label in [("preset", "natgrad target_kl 0.01"), ("kl-0.005", "natgrad target_kl 0.005"),
                      ("kl-0.0025", "natgrad target_kl 0.0025")]:
    rows += score_rows.equal_wall_time(os.path.join(here, folder), env, label)
score_rows.write(os.path.join(here, f"{env}__scores.csv"), rows)
