"""Per algorithm of a task's scores file (made by scores.py): the final policy per seed, and its
evaluation curve read four ways: at 150k steps (early learning), its mean from 500k steps on, how
many of those points are under 3,000 (a fall from the gait, on Hopper and Walker2d alike), and its
best point.

    python3 benchmarks/results/2026-12-06/gamma-0.995-both/curves.py [Hopper-v5 | Walker2d-v5] [SCORES.csv]

SCORES.csv is another scores file of the same form (default: this folder's ENV__scores.csv).
"""
import collections
import csv
import os
import statistics
import sys

here = os.path.dirname(os.path.abspath(__file__))
env = sys.argv[1] if len(sys.argv) > 1 else "Hopper-v5"
scores = collections.defaultdict(dict)
path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, f"{env}__scores.csv")
for r in csv.DictReader(open(path)):
    scores[(r["algorithm"], int(r["run"]))][r["point"]] = float(r["score"])
algorithms = list(dict.fromkeys(a for a, _ in scores))
print("| algorithm | seeds | final (per seed) | at 150k | curve mean from 500k | points under 3,000 from 500k | best point |")
print("|---|---|---|---:|---:|---:|---:|")
for alg in algorithms:
    seeds = sorted(s for a, s in scores if a == alg)
    runs = [scores[(alg, s)] for s in seeds]
    curve = [{int(p): v for p, v in run.items() if p != "final"} for run in runs]
    finals = ", ".join(str(round(r["final"])) for r in runs)
    late = [v for c in curve for p, v in c.items() if p >= 500_000]
    print(f"| {alg} | {','.join(map(str, seeds))} | {statistics.mean(r['final'] for r in runs):.0f} "
          f"({finals}) | {statistics.mean(c[151552] for c in curve):.0f} | "
          f"{statistics.mean(late):.0f} | {sum(v < 3000 for v in late)} of {len(late)} | "
          f"{statistics.mean(max(c.values()) for c in curve):.0f} |")
