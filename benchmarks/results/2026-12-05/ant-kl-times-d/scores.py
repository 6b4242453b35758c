"""Puts the Ant-v5 runs with sb3-contrib's trust-region width (benchmarks/equal-wall-time
Ant-v5 1000000 ... -- --set target_kl=0.08 --set cg_damping=0.8) beside the peer
benchmark's Ant-v5 scores (natgrad's preset and sb3-contrib, the same protocol) in one
scores file for `natgrad statistics`.

    python3 benchmarks/results/2026-12-05/ant-kl-times-d/scores.py
"""
import csv
import os

here = os.path.dirname(os.path.abspath(__file__))
peer = os.path.join(here, "../../2026-12-04/peer-mujoco/ant/Ant-v5__scores.csv")
label = "natgrad-kl-times-d"
rows = list(csv.DictReader(open(peer)))
for r in csv.DictReader(open(os.path.join(here, "Ant-v5.csv"))):
    seed = r["seed"]
    rows.append(dict(point="final", algorithm=label, run=seed, score=r["evaluation"]))
    for e in csv.DictReader(open(os.path.join(here, f"Ant-v5__{seed}__evaluations.csv"))):
        rows.append(dict(point=e["total_steps"], algorithm=label, run=seed, score=e["mean_reward"]))
with open(os.path.join(here, "Ant-v5__scores.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["point", "algorithm", "run", "score"])
    w.writeheader()
    w.writerows(rows)
print(f"wrote {len(rows)} rows to {os.path.join(here, 'Ant-v5__scores.csv')}")
