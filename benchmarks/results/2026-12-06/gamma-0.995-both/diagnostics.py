"""The updates of both sides at gamma 0.995, from the peer benchmark's ENV__diagnostics.csv (Hopper-v5
seeds 7-10, in c/ and d/, whose a/ and b/ predate the file; Walker2d-v5 seeds 1-10): per implementation
and stretch of training, the critic's explained variance before its fit (median over updates and seeds),
the KL of the applied step summed over the action's dimensions (mean), and the share of updates whose
line search accepted a step.

    python3 benchmarks/results/2026-12-06/gamma-0.995-both/diagnostics.py [Hopper-v5 | Walker2d-v5]
"""
import csv
import glob
import os
import statistics
import sys

here = os.path.dirname(os.path.abspath(__file__))
env = sys.argv[1] if len(sys.argv) > 1 else "Hopper-v5"
rows = [r for path in sorted(glob.glob(os.path.join(here, "*", f"{env}__diagnostics.csv")))
        for r in csv.DictReader(open(path))]
stretches = [(0, 200_000), (200_000, 500_000), (500_000, 1_000_001)]
print("| implementation | seeds | steps | explained variance, median | under 0.5 | KL of the step, mean | line search accepted |")
print("|---|---|---|---:|---:|---:|---:|")
for impl in dict.fromkeys(r["implementation"] for r in rows):
    mine = [r for r in rows if r["implementation"] == impl]
    seeds = ",".join(sorted({r["seed"] for r in mine}, key=int))
    for low, high in stretches:
        part = [r for r in mine if low < int(r["total_steps"]) <= high]
        ev = [float(r["explained_variance"]) for r in part]
        kl = [float(r["approx_kl"]) for r in part]
        accepted = [int(r["line_search_success"]) for r in part]
        print(f"| {impl} | {seeds} | {low // 1000}k to {min(high, 1_000_000) // 1000}k | {statistics.median(ev):.3f} "
              f"| {sum(v < 0.5 for v in ev)} of {len(ev)} | {statistics.mean(kl):.4f} "
              f"| {sum(accepted)} of {len(accepted)} |")
