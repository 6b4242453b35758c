"""Per configuration of scores.csv (seeds FIRST to LAST when given): the mean ± standard error of the final
policies' 1000-episode evaluations, the median, the IQM, the lowest, the seeds with 15 or more episodes that
never swing up, and the mean of the runs' last 20 training episodes.

    python3 summary.py [FIRST LAST]
"""
import collections
import csv
import statistics as st
import sys
from pathlib import Path

rows = collections.defaultdict(list)
for r in csv.DictReader(open(Path(__file__).with_name("scores.csv"))):
    if len(sys.argv) < 3 or int(sys.argv[1]) <= int(r["seed"]) <= int(sys.argv[2]):
        rows[r["config"]].append((float(r["evaluation"]), int(r["never_swung_up"]), float(r["last_training_episodes"])))
print("| config | seeds | evaluation, mean ± s.e. | median | IQM | lowest | seeds with 15 or more stuck | last 20 training episodes, mean ± s.e. |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for config, runs in rows.items():
    e = sorted(x for x, _, _ in runs)
    t = [x for _, _, x in runs]
    n, q = len(e), len(e) // 4
    se = st.pstdev(e) / n**0.5 if n > 1 else 0.0
    tse = st.pstdev(t) / n**0.5 if n > 1 else 0.0
    print(f"| {config} | {n} | {st.mean(e):.1f} ± {se:.1f} | {st.median(e):.1f} | {st.mean(e[q:n - q]):.1f} | {e[0]:.1f} "
          f"| {sum(s >= 15 for _, s, _ in runs)} | {st.mean(t):.1f} ± {tse:.1f} |")
