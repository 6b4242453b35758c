"""scores.csv for `natgrad statistics --plot`: ACKTR's Breakout preset with natgrad.wrappers.FireOnNewLife
(seeds 1 and 2 for 267,520 steps, seed 3 for 160,000; this folder's runs) beside the same preset without it
(seed 1, ../breakout-acktr-intel, 267,520 steps; seed 3, seed3-without, 160,000), each
run's training episodes (sampled actions) as their mean return per 25k steps, and, to print, the table of
the README: per 25k steps the episodes that ended, their mean return and length, the evaluation (5 episodes,
sampled actions) and the policy's entropy at the update nearest the bin's end."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
BIN = 25_000
RUNS = [  # (label, run, folder holding its episodes.csv, evaluations.csv and progress.csv)
    ("AtariPreprocessing alone", 1, os.path.join(here, "../breakout-acktr-intel")),
    ("with FireOnNewLife", 1, os.path.join(here, "seed1")),
    ("with FireOnNewLife", 2, os.path.join(here, "seed2")),
    ("AtariPreprocessing alone", 3, os.path.join(here, "seed3-without")),
    ("with FireOnNewLife", 3, os.path.join(here, "seed3")),
]


def entropy_near(progress, step):
    return min(progress, key=lambda p: abs(int(p["total_steps"]) - step))["entropy"]


rows = []
for label, run, folder in RUNS:
    progress = score_rows.read(os.path.join(folder, "progress.csv"))
    # Each evaluation in the row of the bin it falls in, with its own step.
    evaluations = {-(-int(e["total_steps"]) // BIN) * BIN: e for e in score_rows.read(os.path.join(folder, "evaluations.csv"))}
    print(f"\n{label}, seed {run}\n")
    print("| steps | episodes ended | their mean return | their mean length | evaluation: mean return / length (step) | entropy (nats) |")
    print("|---:|---:|---:|---:|---:|---:|")
    last = int(progress[-1]["total_steps"])
    episodes = score_rows.read(os.path.join(folder, "episodes.csv"))
    for end, returns, lengths in score_rows.training_bins(episodes, BIN, last):
        mean = f"{sum(returns) / len(returns):.2f}" if returns else ""
        length = f"{sum(lengths) / len(lengths):,.0f}" if lengths else ""
        e = evaluations.get(end)
        evaluation = ""
        if e:
            at = round(int(e["total_steps"]) / 1000)
            evaluation = f"{float(e['mean_reward']):.1f} / {float(e['mean_ep_length']):,.0f} (at {at}k)"
        print(f"| {f'{end // 1000}k' if end <= last else f'{last:,}'} | {len(returns)} | {mean} | {length} | {evaluation} | {float(entropy_near(progress, end)):.2f} |")
        if returns:
            # One line per run (two seeds are no band); no comma in a name (natgrad statistics' CSV).
            rows.append(dict(point=min(end, last), algorithm=f"{label} (seed {run})", run=run, score=sum(returns) / len(returns)))
score_rows.write(os.path.join(here, "scores.csv"), rows)
