"""Summarises what benchmarks/peer_comparison.py wrote into one or more
--out folders, seeds from every invocation together (--append):

    python3 benchmarks/peer_summary.py benchmarks/results/2026-12-04/peer-mujoco/*

Per environment and implementation: the seeds, the deterministic evaluation
of the final policies and the mean return of the last 20 training episodes
(each as mean ± standard error over seeds, then per seed), and the policy's
entropy at a few points of training (mean over seeds), which is where the
two trust regions show (docs/reproductions.md). The IQM, its interval and the
probability of improvement are `natgrad statistics ENV__scores.csv`'s.
Standard library only.
"""

import csv
import glob
import math
import os
import statistics
import sys

ENTROPY_AT = [100_000, 200_000, 500_000, 1_000_000]


def mean_se(values):
    """Mean ± standard error as rl-baselines3-zoo's all_plots.py and `natgrad statistics` give it: the
    population standard deviation over the square root of the number of runs."""
    if not values:
        return "n/a"
    se = statistics.pstdev(values) / math.sqrt(len(values))
    return f"{statistics.mean(values):.1f} ± {se:.1f}"


def entropy_near(trace, step):
    """The entropy recorded at the last update at or before `step` (None before the first)."""
    before = [h for n, h in trace if n <= step]
    return before[-1] if before else None


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def summarise(runs_csv):
    env = os.path.basename(runs_csv)[: -len("__runs.csv")]
    runs = read_rows(runs_csv)
    entropy_csv = runs_csv.replace("__runs.csv", "__entropy.csv")
    traces = {}
    if os.path.exists(entropy_csv):
        for r in read_rows(entropy_csv):
            traces.setdefault((r["implementation"], r["seed"]), []).append((int(r["total_steps"]), float(r["entropy"])))
    impls = list(dict.fromkeys(r["implementation"] for r in runs))
    print(f"\n{env} ({runs_csv})")
    print("| implementation | seeds | deterministic evaluation | last 20 training episodes | per seed (evaluation) | "
          + " | ".join(f"entropy at {n // 1000}k" for n in ENTROPY_AT) + " |")
    print("|---|---:|---:|---:|---|" + "---:|" * len(ENTROPY_AT))
    for impl in impls:
        mine = sorted((r for r in runs if r["implementation"] == impl), key=lambda r: int(r["seed"]))
        evals = [float(r["evaluation"]) for r in mine]
        training = [float(r["last_training_episodes"]) for r in mine]
        cells = []
        for n in ENTROPY_AT:
            at = [entropy_near(traces.get((impl, r["seed"]), []), n) for r in mine]
            at = [h for h in at if h is not None]
            cells.append(f"{statistics.mean(at):.2f}" if at else "n/a")
        print(f"| {impl} | {','.join(r['seed'] for r in mine)} | {mean_se(evals)} | {mean_se(training)} | "
              f"{', '.join(f'{v:.0f}' for v in evals)} | " + " | ".join(cells) + " |")


def main():
    folders = sys.argv[1:]
    if not folders:
        raise SystemExit("usage: peer_summary.py OUT_FOLDER... (folders that benchmarks/peer_comparison.py wrote)")
    found = sorted(p for folder in folders for p in glob.glob(os.path.join(folder, "*__runs.csv")))
    if not found:
        raise SystemExit(f"no ENV__runs.csv in {', '.join(folders)}: give the --out folders of peer_comparison.py")
    for path in found:
        summarise(path)


if __name__ == "__main__":
    main()
