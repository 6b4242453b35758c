"""InvertedDoublePendulum-v5, natgrad alone, two ways to a less noisy or less biased step screened at 1M steps on
seeds 101 to 104 (seeds no comparison uses), with an evaluation curve every 50k steps, beside the preset's runs of
../idp-trust-region-screen/preset (the same seeds and protocol): gae_lambda 1.0 (advantages from the returns, the
critic only their baseline) and n_steps 4096 (a batch of 8192 steps, four times the preset's), each folder written by
benchmarks/equal-wall-time InvertedDoublePendulum-v5 1000000 OUT 101 102 103 104 -- --set KEY=VALUE (with the
preset of the day, n_steps 1024: gae-lambda-1 now needs --set n_steps=1024 as well).

    python3 benchmarks/results/2026-12-07/idp-critic-screen/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-07/idp-critic-screen/InvertedDoublePendulum-v5__scores.csv
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
env = "InvertedDoublePendulum-v5"
rows = []
for folder, label in [("../idp-trust-region-screen/preset", "natgrad preset"),
                      ("gae-lambda-1", "natgrad gae_lambda 1.0"), ("batch-8192", "natgrad n_steps 4096")]:
    rows += score_rows.equal_wall_time(os.path.join(here, folder), env, label)
score_rows.write(os.path.join(here, f"{env}__scores.csv"), rows)
