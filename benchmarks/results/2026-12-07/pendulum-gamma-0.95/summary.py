"""Pendulum-v1 side by side at 100k steps, natgrad against sb3-contrib 2.9.2 on the peer benchmark's protocol
(each final policy over 1,000 deterministic episodes from the same start states), one row per folder:

- preset-seeds-101, preset-seeds-1: natgrad's preset since 2026-12-07 (γ 0.95, target_kl 0.0075) against
  sb3-contrib with zoo's settings (γ 0.9, target_kl 0.01):
  benchmarks/peer-comparison --envs Pendulum-v1 --first-seed 101 --seeds 6 --out OUT/preset-seeds-101
  (and --first-seed 1 --seeds 5);
- both-seeds-101: both sides with γ 0.95 and target_kl 0.0075 (--set gamma=0.95 --set target_kl=0.0075);
- kl-0.005/preset-seeds-101: natgrad with γ 0.95 and target_kl 0.005 against zoo's settings.

Per row: mean ± standard error of the evaluations, P(natgrad > sb3-contrib) (from each folder's statistics
file), the seeds natgrad is ahead on, the episodes that never swing up (return below -600) per seed where the
runs' evaluation files are at hand (runs/ is not kept in git), and the last 20 training episodes.

    python3 benchmarks/results/2026-12-07/pendulum-gamma-0.95/summary.py
"""
import csv
import os
import statistics as st

here = os.path.dirname(os.path.abspath(__file__))


def mean_se(xs):
    # zoo's all_plots.py and `natgrad statistics`: the standard deviation over seeds (ddof 0) over sqrt(n)
    return f"{st.mean(xs):.1f} ± {st.pstdev(xs) / len(xs) ** 0.5:.1f}"


def stuck(folder, impl, seed):
    path = (os.path.join(folder, "runs", f"Pendulum-v1__natgrad__{seed}", "evaluation.csv") if impl == "natgrad"
            else os.path.join(folder, f"Pendulum-v1__sb3-contrib__{seed}__evaluation.csv"))
    if not os.path.exists(path):
        return "?"
    return str(sum(float(r["return"]) < -600 for r in csv.DictReader(open(path))))


def probability(folder):
    path = os.path.join(folder, "Pendulum-v1__statistics.csv")
    if not os.path.exists(path):  # a run still going
        return "?"
    for r in csv.DictReader(open(path)):
        if (r["point"], r["statistic"], r["algorithm"], r["versus"]) == \
                ("final", "probability_of_improvement", "natgrad", "sb3-contrib"):
            return f"{float(r['estimate']):.2f} [{float(r['low']):.2f}, {float(r['high']):.2f}]"
    return "?"


print("| folder | seeds | natgrad | sb3-contrib | P(natgrad > sb3-contrib) | natgrad ahead on | never swung up per seed, natgrad / sb3-contrib | last 20 training episodes, natgrad / sb3-contrib |")
print("|---|---:|---:|---:|---:|---:|---|---:|")
for name in ["preset-seeds-1", "preset-seeds-101", "both-seeds-101", "kl-0.005/preset-seeds-101"]:
    folder = os.path.join(here, name)
    path = os.path.join(folder, "Pendulum-v1__runs.csv")
    if not os.path.exists(path):
        continue
    runs = list(csv.DictReader(open(path)))
    side = {impl: {int(r["seed"]): r for r in runs if r["implementation"] == impl} for impl in ["natgrad", "sb3-contrib"]}
    seeds = sorted(set(side["natgrad"]) & set(side["sb3-contrib"]))
    ev = {impl: [float(side[impl][s]["evaluation"]) for s in seeds] for impl in side}
    tr = {impl: [float(side[impl][s]["last_training_episodes"]) for s in seeds] for impl in side}
    ahead = sum(a > b for a, b in zip(ev["natgrad"], ev["sb3-contrib"]))
    counts = ", ".join(f"{stuck(folder, 'natgrad', s)} / {stuck(folder, 'sb3-contrib', s)}" for s in seeds)
    print(f"| {name} | {seeds[0]} to {seeds[-1]} | {mean_se(ev['natgrad'])} | {mean_se(ev['sb3-contrib'])} | {probability(folder)} "
          f"| {ahead} of {len(seeds)} | {counts} | {mean_se(tr['natgrad'])} / {mean_se(tr['sb3-contrib'])} |")
