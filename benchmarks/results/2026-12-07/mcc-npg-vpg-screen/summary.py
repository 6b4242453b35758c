"""Per agent and configuration of scores.csv (benchmarks/screen on MountainCarContinuous-v0 with ALGO=npg,
vpg and acktr): the seeds whose final policy reaches the flag (a return above 80: about 92 when it does,
about 0 when the car stands still), the mean ± standard error of the deterministic evaluations (zoo's
ddof 0) and the mean return of the last 20 training episodes."""
import collections
import csv
import statistics as st
from pathlib import Path

evaluations = collections.defaultdict(list)
training = collections.defaultdict(list)
for r in csv.DictReader(open(Path(__file__).with_name("scores.csv"))):
    evaluations[r["algo"], r["config"]].append(float(r["evaluation"]))
    training[r["algo"], r["config"]].append(float(r["training"]))
print("| agent | config | seeds | flag found | evaluation, mean ± s.e. | last 20 training episodes, mean |")
print("|---|---|---:|---:|---:|---:|")
for (algo, config), e in evaluations.items():
    n = len(e)
    print(f"| {algo} | {config} | {n} | {sum(x > 80 for x in e)} of {n} | {st.mean(e):.1f} ± {st.pstdev(e) / n**0.5:.1f} "
          f"| {st.mean(training[algo, config]):.1f} |")
