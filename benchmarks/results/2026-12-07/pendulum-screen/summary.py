"""Per configuration of scores.csv: the mean ± standard error of the final policies' 1000-episode
evaluations, the median, the IQM, the lowest, and the seeds with 15 or more episodes that never swing up."""
import collections
import csv
import statistics as st
import sys
from pathlib import Path

rows = collections.defaultdict(list)
for r in csv.DictReader(open(Path(__file__).with_name("scores.csv"))):
    if len(sys.argv) < 2 or int(r["seed"]) in range(int(sys.argv[1]), int(sys.argv[2]) + 1):
        rows[r["config"]].append((float(r["evaluation"]), int(r["never_swung_up"])))
print("| config | seeds | mean ± s.e. | median | IQM | lowest | seeds with 15 or more stuck |")
print("|---|---:|---:|---:|---:|---:|---:|")
for config, runs in rows.items():
    e = sorted(x for x, _ in runs)
    n, q = len(e), len(e) // 4
    se = st.stdev(e) / n**0.5 if n > 1 else 0.0
    print(f"| {config} | {n} | {st.mean(e):.1f} ± {se:.1f} | {st.median(e):.1f} | {st.mean(e[q:n - q]):.1f} | {e[0]:.1f} | {sum(s >= 15 for _, s in runs)} |")
