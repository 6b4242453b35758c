"""HalfCheetah-v5 with log_std_init -1, in scores files for `natgrad statistics`:

- HalfCheetah-v5__scores.csv, seeds 1 to 10: zoo's settings on both sides (../cheetah-seeds-7-10's scores) and
  log_std_init -1 on both sides (a/ and b/ here, each benchmarks/peer-comparison --envs HalfCheetah-v5
  --set log_std_init=-1.0 --first-seed 1|6 --seeds 5 --out ...).
- HalfCheetah-v5__held-out__scores.csv, seeds 11 to 14 and 16 to 19: zoo's settings on both sides
  (../cheetah-seeds-11-20/a and b) and natgrad with log_std_init -1 (held-out/ here, written by
  benchmarks/equal-wall-time HalfCheetah-v5 1000000 OUT 11 ... 20 -- --set log_std_init=-1.0).
- HalfCheetah-v5__preset__scores.csv, those 18 seeds: natgrad's preset (log_std_init -1) against
  sb3-contrib with zoo's settings, the README's row.

    python3 benchmarks/results/2026-12-06/cheetah-log-std/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-06/cheetah-log-std/HalfCheetah-v5__scores.csv \
        --csv benchmarks/results/2026-12-06/cheetah-log-std/HalfCheetah-v5__statistics.csv \
        --plot benchmarks/results/2026-12-06/cheetah-log-std/HalfCheetah-v5__curves.png   # and the other two
"""
import csv
import os

here = os.path.dirname(os.path.abspath(__file__))
env = "HalfCheetah-v5"
ZOO = ("natgrad", "sb3-contrib")
SUFFIX = "-log-std-1"


def read(path):
    return list(csv.DictReader(open(path)))


def renamed(rows, suffix):
    return [dict(r, algorithm=r["algorithm"] + suffix) for r in rows]


def peer_folders(parent):
    """The peer benchmark's output folders a/, b/, ... under parent."""
    return sorted(os.path.join(parent, name) for name in os.listdir(parent) if len(name) == 1)


def peer_scores(parent):
    return [r for folder in peer_folders(parent) for r in read(os.path.join(folder, f"{env}__scores.csv"))]


def natgrad_alone(folder, label):
    """natgrad's runs from an equal-wall-time folder, as score rows."""
    rows = []
    for r in read(os.path.join(folder, f"{env}.csv")):
        rows.append(dict(point="final", algorithm=label, run=r["seed"], score=r["evaluation"]))
        for e in read(os.path.join(folder, f"{env}__{r['seed']}__evaluations.csv")):
            rows.append(dict(point=e["total_steps"], algorithm=label, run=r["seed"], score=e["mean_reward"]))
    return rows


def write(name, rows):
    out = os.path.join(here, f"{env}__{name}scores.csv")
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["point", "algorithm", "run", "score"])
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")


zoo_1_10 = [r for r in read(os.path.join(here, f"../cheetah-seeds-7-10/{env}__scores.csv")) if r["algorithm"] in ZOO]
zoo_11_20 = peer_scores(os.path.join(here, "../cheetah-seeds-11-20"))
both_1_10 = renamed(peer_scores(here), SUFFIX)
# The same seeds on every side: the zoo runs of seeds 15 and 20 were not run (stopped for time), so natgrad's
# runs of those two seeds stay out of the files (held-out/HalfCheetah-v5.csv has them).
zoo_seeds = {r["run"] for r in zoo_11_20}
natgrad_11_20 = [r for r in natgrad_alone(os.path.join(here, "held-out"), "natgrad" + SUFFIX) if r["run"] in zoo_seeds]
write("", zoo_1_10 + both_1_10)
write("held-out__", zoo_11_20 + natgrad_11_20)
preset = [dict(r, algorithm="natgrad") for r in both_1_10 + natgrad_11_20 if r["algorithm"] == "natgrad" + SUFFIX]
write("preset__", preset + [r for r in zoo_1_10 + zoo_11_20 if r["algorithm"] == "sb3-contrib"])
