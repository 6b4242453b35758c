"""How much of each TRPO step is signal: the presets' runs (of the day) of InvertedDoublePendulum-v5 (seed 101, the seed of
../idp-trust-region-screen that loses the most) and Hopper-v5 (seed 1), 1M steps, with signal_diagnostics, which
splits each batch into its two halves in time and logs the share of the natural gradient's squared norm they agree
on (progress.csv's signal_fraction). Prints, per block of 25 updates (51,200 steps), the mean training return, the
signal fraction's mean and median, the halves' cosine, the critic's explained variance and the measured KL.

    natgrad train --algo trpo --env InvertedDoublePendulum-v5 --seed 101 --total-steps 1000000 --n-steps 1024 \\
        --set signal_diagnostics=true --logdir O/runs --run-name idp-101      # and Hopper-v5 --seed 1: hopper-1
    python3 benchmarks/results/2026-12-07/gradient-signal/signal.py
"""
import csv
import os
import statistics

here = os.path.dirname(os.path.abspath(__file__))
BLOCK = 25
for name in ["InvertedDoublePendulum-v5__101", "Hopper-v5__1"]:
    print(f"{name}: steps, mean return, signal fraction (mean, median), halves' cosine, explained variance, KL")
    with open(os.path.join(here, f"{name}__progress.csv")) as f:
        rows = list(csv.DictReader(f))
    for i in range(0, len(rows), BLOCK):
        block = rows[i:i + BLOCK]
        column = lambda key: [float(r[key]) for r in block if r[key]]  # noqa: E731
        fraction = column("signal_fraction")
        print(f"{block[-1]['total_steps']:>8} {statistics.mean(column('mean_return')):8.1f}"
              f" {statistics.mean(fraction):7.3f} {statistics.median(fraction):7.3f}"
              f" {statistics.mean(column('halves_cosine')):7.3f} {statistics.median(column('explained_variance')):6.2f}"
              f" {statistics.mean(column('approx_kl')):.4f}")
    print()
