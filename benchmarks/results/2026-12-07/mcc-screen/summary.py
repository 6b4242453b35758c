"""Per configuration of scores.csv (benchmarks/screen on MountainCarContinuous-v0): the seeds whose final
policy reaches the flag (a return above 80: about 92 when it does, about 0 when the car stands still), and
the mean ± standard error of the evaluations (zoo's ddof 0)."""
import collections
import csv
import statistics as st
from pathlib import Path

rows = collections.defaultdict(list)
for r in csv.DictReader(open(Path(__file__).with_name("scores.csv"))):
    if r["evaluation"]:
        rows[r["config"]].append(float(r["evaluation"]))
print("| config | seeds | flag found | evaluation, mean ± s.e. |")
print("|---|---:|---:|---:|")
for config, e in rows.items():
    n = len(e)
    print(f"| {config} | {n} | {sum(x > 80 for x in e)} of {n} | {st.mean(e):.1f} ± {st.pstdev(e) / n**0.5:.1f} |")
