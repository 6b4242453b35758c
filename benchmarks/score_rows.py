"""The rows of `natgrad statistics`' scores files (point, algorithm, run, score), gathered from the files the
benchmarks write, for the results folders' own scores.py scripts, which put runs of several benchmarks side by
side in one file."""
import csv
import os

FIELDS = ["point", "algorithm", "run", "score"]


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def selected(path, rename, runs=None):
    """The rows of the scores file at path whose algorithm rename maps (and whose run is in runs, when given),
    under their new names."""
    return [dict(r, algorithm=rename[r["algorithm"]]) for r in read(path)
            if r["algorithm"] in rename and (runs is None or int(r["run"]) in runs)]


def renamed(rows, suffix):
    """rows with suffix appended to each algorithm's name (the same agents with a setting changed)."""
    return [dict(r, algorithm=r["algorithm"] + suffix) for r in rows]


def peer_comparison(parent, env):
    """The scores of benchmarks/peer-comparison's output folders a/, b/, ... under parent, one per
    invocation (each a few seeds, run side by side)."""
    folders = sorted(os.path.join(parent, name) for name in os.listdir(parent) if len(name) == 1)
    return [r for folder in folders for r in read(os.path.join(folder, f"{env}__scores.csv"))]


def equal_wall_time(folder, env, label):
    """natgrad's runs in a benchmarks/equal-wall-time folder as score rows named label: each seed's final
    evaluation and its evaluation curve."""
    rows = []
    for r in read(os.path.join(folder, f"{env}.csv")):
        rows.append(dict(point="final", algorithm=label, run=r["seed"], score=r["evaluation"]))
        for e in read(os.path.join(folder, f"{env}__{r['seed']}__evaluations.csv")):
            rows.append(dict(point=e["total_steps"], algorithm=label, run=r["seed"], score=e["mean_reward"]))
    return rows


def training_bins(episodes, width, last):
    """A run's training episodes (episodes.csv's rows) binned by the step they ended at: (end of bin, returns,
    lengths) for each bin of width steps, (end - width, end], up to the one that holds step last."""
    for end in range(width, last + width, width):
        inside = [e for e in episodes if end - width < int(e["total_steps"]) <= end]
        yield end, [float(e["return"]) for e in inside], [int(e["length"]) for e in inside]


def screen(folder, configs, prefix=""):
    """The final evaluations of a benchmarks/screen folder's configurations in configs, one run per seed,
    each configuration named prefix + its name."""
    return [dict(point="final", algorithm=prefix + r["config"], run=r["seed"], score=r["evaluation"])
            for r in read(os.path.join(folder, "scores.csv")) if r["config"] in configs]


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {path}")
