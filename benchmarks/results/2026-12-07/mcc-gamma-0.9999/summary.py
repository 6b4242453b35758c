"""MountainCarContinuous-v0 side by side at 50k steps, natgrad against sb3-contrib 2.9.2 on the peer benchmark's
protocol (each final policy over 100 deterministic episodes from the same start states), one row per group of
folders, each written by benchmarks/peer-comparison --envs MountainCarContinuous-v0:

- preset-seeds-1, preset-seeds-201: natgrad's preset since 2026-12-07 (γ 0.9999) against sb3-contrib with
  zoo's settings (γ 0.99): --first-seed 1 --seeds 5, and --first-seed 201 --seeds 15;
- both-seeds-1, both-seeds-201 with both-seeds-209: both sides with γ 0.9999 (--set gamma=0.9999; seeds 201
  to 215 in two halves run at once).

Per row: the seeds whose policy reaches the flag (a return above 80), mean ± standard error (ddof 0, as zoo's
all_plots.py and `natgrad statistics`), the IQM and P(natgrad > sb3-contrib) of `natgrad statistics` on the
row's scores (run here; NATGRAD names the binary, target/release/natgrad by default), and the seeds natgrad
is ahead on.

    python3 benchmarks/results/2026-12-07/mcc-gamma-0.9999/summary.py
"""
import contextlib
import io
import os
import re
import statistics as st
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

env = "MountainCarContinuous-v0"
exe = os.environ.get("NATGRAD", os.path.join(here, "../../../../target/release/natgrad"))
groups = [("natgrad's preset against zoo's settings", ["preset-seeds-1"]),
          ("the same", ["preset-seeds-201"]),
          ("both sides with γ 0.9999", ["both-seeds-1"]),
          ("the same", ["both-seeds-201", "both-seeds-209"])]


def statistics(rows):
    """IQM per side and P(natgrad > sb3-contrib), from `natgrad statistics` on the rows' final scores."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scores.csv")
        with contextlib.redirect_stdout(io.StringIO()):  # write's own line would break the table
            score_rows.write(path, [r for r in rows if r["point"] == "final"])
        out = subprocess.run([exe, "statistics", path], capture_output=True, text=True, check=True).stdout
    iqm = dict(re.findall(r"^\| (natgrad|sb3-contrib) \| \d+ \| [^|]+ \| ([^|]+) \|$", out, re.M))
    p = re.search(r"^\| natgrad \|  \| ([^|]+) \|$", out, re.M).group(1)
    return iqm, p.strip()


print("| run | seeds | flag found, natgrad / sb3-contrib | natgrad | sb3-contrib | IQM, natgrad / sb3-contrib | P(natgrad > sb3-contrib) | natgrad ahead on |")
print("|---|---:|---:|---:|---:|---|---:|---:|")
for label, folders in groups:
    paths = [os.path.join(here, f, f"{env}__scores.csv") for f in folders]
    if not all(os.path.exists(p) for p in paths):
        continue
    rows = [r for p in paths for r in score_rows.read(p)]
    final = {side: {int(r["run"]): float(r["score"]) for r in rows if r["point"] == "final" and r["algorithm"] == side}
             for side in ["natgrad", "sb3-contrib"]}
    seeds = sorted(final["natgrad"])
    ev = {side: [final[side][s] for s in seeds] for side in final}
    found = {side: sum(x > 80 for x in ev[side]) for side in ev}
    ahead = sum(final["natgrad"][s] > final["sb3-contrib"][s] for s in seeds)
    iqm, p = statistics(rows)
    mean = {side: f"{st.mean(ev[side]):.1f} ± {st.pstdev(ev[side]) / len(seeds) ** 0.5:.1f}" for side in ev}
    print(f"| {label} | {seeds[0]} to {seeds[-1]} | {found['natgrad']} / {found['sb3-contrib']} of {len(seeds)} "
          f"| {mean['natgrad']} | {mean['sb3-contrib']} | {iqm['natgrad'].strip()} / {iqm['sb3-contrib'].strip()} "
          f"| {p} | {ahead} of {len(seeds)} |")
