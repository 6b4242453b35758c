"""Walker2d-v5, natgrad alone, two ways to a less noisy step screened at 1M steps on seeds 101 to 106 (seeds no
comparison uses) by benchmarks/screen (each final policy deterministic over 10 episodes from the start states of
seed 1000): the preset of the day (n_steps 1024, a batch of 2,048 steps), n_steps 2048 (a batch of 4,096) and
gae_lambda 0.98. scores.csv was written by

    benchmarks/screen benchmarks/results/2026-12-07/walker-batch-screen 1000000 "101 103 105" Walker2d-v5 \
        preset b4096:n_steps=2048 lam98:gae_lambda=0.98      # beside "102 104 106" alike

(with the preset of the day, n_steps 1024; since Walker2d's preset takes 2048, write preset:n_steps=1024 and
lam98:n_steps=1024,gae_lambda=0.98 to repeat it)

and this script turns it into a scores file for

    python3 benchmarks/results/2026-12-07/walker-batch-screen/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-07/walker-batch-screen/Walker2d-v5__scores.csv
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
names = {"preset": "natgrad preset", "b4096": "natgrad n_steps 2048", "lam98": "natgrad gae_lambda 0.98"}
rows = [dict(point="final", algorithm=names[r["config"]], run=r["seed"], score=r["evaluation"])
        for r in score_rows.read(os.path.join(here, "scores.csv"))]
rows.sort(key=lambda r: (list(names.values()).index(r["algorithm"]), int(r["run"])))
score_rows.write(os.path.join(here, "Walker2d-v5__scores.csv"), rows)
