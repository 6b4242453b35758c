"""What natgrad's update does on InvertedDoublePendulum-v5 while the task is solved: per seed of the preset's runs
(preset/ENV__SEED__progress.csv, copies of each run's progress.csv), over the updates whose finished episodes all
lasted the full 1,000 steps, the critic's explained variance (before its fit), its loss and the KL of the step
taken, then the policy's entropy at 150k steps and at the end.

    python3 benchmarks/results/2026-12-07/idp-trust-region-screen/diagnostics.py
"""
import csv
import glob
import os
import statistics

here = os.path.dirname(os.path.abspath(__file__))
print("| seed | updates solved | explained variance under 0 | median | critic loss, median | KL of the step, mean | entropy at 150k | at 1M |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for path in sorted(glob.glob(os.path.join(here, "preset", "*__progress.csv"))):
    rows = list(csv.DictReader(open(path)))
    solved = [r for r in rows if r["mean_length"] and float(r["mean_length"]) >= 1000]
    ev = [float(r["explained_variance"]) for r in solved]
    at_150k = next(r for r in rows if int(r["total_steps"]) >= 150_000)
    print(f"| {os.path.basename(path).split('__')[1]} | {len(solved)} | {sum(e < 0 for e in ev)} | "
          f"{statistics.median(ev):.2f} | {statistics.median(float(r['value_loss']) for r in solved):.1e} | "
          f"{statistics.mean(float(r['approx_kl']) for r in solved):.4f} | {float(at_150k['entropy']):.2f} | "
          f"{float(rows[-1]['entropy']):.2f} |")
