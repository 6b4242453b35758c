"""Steps and seconds to a return target, per seed, for each variant of a
`natgrad compare` folder (docs/reproductions.md, "The Fisher in RL, four ways").

    .venv/bin/python benchmarks/fisher_reach.py COMPARE_DIR TARGET

The target is reached at the first episode with which 20 consecutive
training episodes average at least TARGET; its seconds are the run's wall
time at the end of that iteration.
"""

import csv
import os
import re
import statistics
import sys


def main(group, target):
    runs = {}
    for name in sorted(os.listdir(group)):
        m = re.fullmatch(r"(.+)__seed(\d+)", name)
        if m:
            runs.setdefault(m.group(1), []).append(int(m.group(2)))
    print(f"| variant | steps to {target:g} (per seed) | seconds to {target:g} (per seed) | iterations | wall time per iteration |")
    print("|---|---|---|---:|---:|")
    for variant, seeds in runs.items():
        steps, seconds, per_iteration = [], [], []
        for seed in sorted(seeds):
            run = os.path.join(group, f"{variant}__seed{seed}")
            episodes = [(int(r[0]), float(r[1])) for r in list(csv.reader(open(f"{run}/episodes.csv")))[1:]]
            reach = next((episodes[i][0] for i in range(19, len(episodes))
                          if sum(r for _, r in episodes[i - 19:i + 1]) / 20 >= target), None)
            progress = list(csv.DictReader(open(f"{run}/progress.csv")))
            per_iteration.append(float(progress[-1]["wall_time_s"]) / len(progress))
            steps.append(f"{reach / 1000:.0f}k" if reach else "-")
            at = next((float(r["wall_time_s"]) for r in progress if reach and int(r["total_steps"]) >= reach), None)
            seconds.append(f"{at:.1f}" if at is not None else "-")
        print(f"| {variant} | {', '.join(steps)} | {', '.join(seconds)} | {len(progress)} | "
              f"{1000 * statistics.mean(per_iteration):.0f} ms |")


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
