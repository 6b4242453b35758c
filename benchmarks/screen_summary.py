"""The table of a benchmarks/screen folder: one row per environment, agent and configuration of OUT/scores.csv,
in the order the screen first wrote them.

    python3 benchmarks/screen_summary.py OUT [--above X] [--solved X] [--against CONFIG]

Each row gives the seeds, the deterministic evaluations' mean ± standard error (ddof 0, as zoo's all_plots.py)
and interquartile mean (rliable's IQM of one task: the mean of the middle half of the seeds, scipy's
trim_mean(0.25)), the mean return of the last 20 training episodes, the worst evaluation episode over all seeds
and, where the screen ran with BELOW=X, the evaluation episodes under X over all seeds. With --above X, the
seeds whose evaluation is above X (MountainCarContinuous' flag: 80); with --solved X, the seeds whose
evaluation and training return are both at least X (the quick start's test on CartPole: 475); with
--against CONFIG, on how many of the seeds both ran a configuration's evaluation is above CONFIG's (ties
counted apart). Checked by hand against the summary.py of benchmarks/results/2026-12-07/mcc-npg-vpg-screen,
which it reproduces. Standard library only.
"""
import argparse
import collections
import csv
import math
import statistics
import sys
from pathlib import Path

COLUMNS = ["env", "config", "seed", "evaluation", "algo", "training", "lowest", "below"]


def read_scores(path):
    """The rows of a screen's scores.csv; a clear error for a missing file or an older screen's columns."""
    if not path.is_file():
        sys.exit(f"{path} not found: give the OUT folder of a benchmarks/screen run")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            sys.exit(f"{path} has the columns {','.join(reader.fieldnames or [])}, not {','.join(COLUMNS)}: "
                     "it was written by an older benchmarks/screen (before commit 7cd957a), whose folders keep "
                     "their own summary.py")
        return list(reader)


def mean_se(values):
    return statistics.mean(values), statistics.pstdev(values) / math.sqrt(len(values))


def iqm(values):
    """The interquartile mean as rliable computes it for one task: scipy.stats.trim_mean(values, 0.25),
    which drops int(0.25 n) values from each end."""
    cut = int(0.25 * len(values))
    kept = sorted(values)[cut:len(values) - cut]
    return statistics.mean(kept)


def groups(rows):
    """(env, algo, config) -> {seed: row}, in the order of first appearance."""
    out = collections.OrderedDict()
    for r in rows:
        out.setdefault((r["env"], r["algo"], r["config"]), {})[r["seed"]] = r
    return out


def ahead_of(runs, baseline):
    """'k of n' (and ties): the seeds both ran on which runs' evaluation is above baseline's."""
    shared = [s for s in runs if s in baseline]
    if not shared:
        return "no shared seeds"
    diffs = [float(runs[s]["evaluation"]) - float(baseline[s]["evaluation"]) for s in shared]
    ties = sum(d == 0 for d in diffs)
    text = f"{sum(d > 0 for d in diffs)} of {len(shared)}"
    return text + (f" ({ties} level)" if ties else "")


def table(rows, above=None, against=None, solved=None):
    """The markdown table's lines."""
    grouped = groups(rows)
    below_used = any(r["below"] != "" for r in rows)
    head = ["env", "agent", "config", "seeds", "evaluation, mean ± s.e.", "IQM", "last 20 training episodes, mean",
            "worst episode"]
    if below_used:
        head.append("episodes below BELOW")
    if above is not None:
        head.append(f"seeds above {above:g}")
    if solved is not None:
        head.append(f"seeds with both at least {solved:g}")
    if against is not None:
        head.append(f"above {against} on")
    lines = ["| " + " | ".join(head) + " |", "|---|---|---|" + "---:|" * (len(head) - 3)]
    for (env, algo, config), runs in grouped.items():
        evaluations = [float(r["evaluation"]) for r in runs.values()]
        training = [float(r["training"]) for r in runs.values() if r["training"] != ""]
        m, se = mean_se(evaluations)
        cells = [env, algo, config, str(len(evaluations)), f"{m:.1f} ± {se:.1f}", f"{iqm(evaluations):.1f}",
                 f"{statistics.mean(training):.1f}" if training else "",
                 f"{min(float(r['lowest']) for r in runs.values()):.1f}"]
        if below_used:
            cells.append(str(sum(int(r["below"]) for r in runs.values() if r["below"] != "")))
        if above is not None:
            cells.append(f"{sum(e > above for e in evaluations)} of {len(evaluations)}")
        if solved is not None:
            both = sum(r["training"] != "" and float(r["training"]) >= solved and float(r["evaluation"]) >= solved
                       for r in runs.values())
            cells.append(f"{both} of {len(evaluations)}")
        if against is not None:
            baseline = grouped.get((env, algo, against))
            cells.append("" if config == against else ahead_of(runs, baseline) if baseline else f"no {against}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the OUT folder of a benchmarks/screen run")
    parser.add_argument("--above", type=float, help="count the seeds whose evaluation is above this")
    parser.add_argument("--solved", type=float,
                        help="count the seeds whose evaluation and training return are both at least this")
    parser.add_argument("--against", help="count the seeds on which each configuration is above this one")
    args = parser.parse_args(argv)
    rows = read_scores(args.out / "scores.csv")
    if not rows:
        sys.exit(f"{args.out / 'scores.csv'} has no rows yet")
    if args.against is not None and args.against not in {r["config"] for r in rows}:
        sys.exit(f"--against {args.against}: no such configuration in {args.out / 'scores.csv'} "
                 f"(it has {', '.join(sorted({r['config'] for r in rows}))})")
    print("\n".join(table(rows, args.above, args.against, args.solved)))


if __name__ == "__main__":
    main()
