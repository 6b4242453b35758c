"""Hopper-v5 with gamma 0.995 on the held-out seeds 11 to 20, in scores files for `natgrad statistics`
(1M steps, every row on the side-by-side benchmark's protocol):

- natgrad gamma 0.995: natgrad alone, a/ (seeds 11-15) and b/ (16-20), each written by
  benchmarks/equal-wall-time Hopper-v5 1000000 OUT SEEDS... -- --set gamma=0.995
- sb3-contrib gamma 0.995: zoo's settings with gamma 0.995, from the benchmarks/peer-comparison
  --set gamma=0.995 folders c/ (seeds 11-15), d/ (16-19) and e/ (20) (their natgrad side repeats a/ and b/;
  the rows here are a/'s and b/'s)
- natgrad gamma 0.99 and sb3-contrib gamma 0.99: the same seeds at zoo's gamma (natgrad's preset of
  2026-12-05), from ../../2026-12-05/fresh-seeds/hopper.

Hopper-v5__held-out__scores.csv holds seeds 11 to 20; Hopper-v5__scores-all-seeds.csv adds seeds 1 to 10
under the same names from ../../2026-12-06/gamma-0.995-both.

    python3 benchmarks/results/2026-12-07/hopper-gamma-0.995-held-out/scores.py
    scripts/natgrad statistics benchmarks/results/2026-12-07/hopper-gamma-0.995-held-out/Hopper-v5__held-out__scores.csv
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
results = os.path.join(here, "../..")
env = "Hopper-v5"
held_out = score_rows.selected(os.path.join(results, f"2026-12-05/fresh-seeds/hopper/{env}__scores.csv"),
                              {"natgrad": "natgrad gamma 0.99", "sb3-contrib": "sb3-contrib gamma 0.99"})
for part in "ab":
    held_out += score_rows.equal_wall_time(os.path.join(here, part), env, "natgrad gamma 0.995")
for part in "cde":
    held_out += score_rows.selected(os.path.join(here, part, f"{env}__scores.csv"),
                                    {"sb3-contrib": "sb3-contrib gamma 0.995"})
score_rows.write(os.path.join(here, f"{env}__held-out__scores.csv"), held_out)
first_ten = score_rows.read(os.path.join(results, f"2026-12-06/gamma-0.995-both/{env}__scores.csv"))
score_rows.write(os.path.join(here, f"{env}__scores-all-seeds.csv"), first_ten + held_out)
