"""Per environment and configuration of scores.csv (benchmarks/screen): the mean ± standard error of the final
policies' evaluations, the IQM and the lowest."""
import collections
import csv
import statistics as st
from pathlib import Path

rows = collections.defaultdict(list)
for r in csv.DictReader(open(Path(__file__).with_name("scores.csv"))):
    rows[(r["env"], r["config"])].append(float(r["evaluation"]))
print("| environment | config | seeds | mean ± s.e. | IQM | lowest |")
print("|---|---|---:|---:|---:|---:|")
for (env, config), e in rows.items():
    e.sort()
    n, q = len(e), len(e) // 4
    print(f"| {env} | {config} | {n} | {st.mean(e):.1f} ± {st.pstdev(e) / n**0.5:.1f} | {st.mean(e[q:n - q]):.1f} | {e[0]:.1f} |")
