"""Puts the held-out seeds (11 onwards, benchmarks/peer-comparison --first-seed 11, natgrad's
presets of 2026-12-05 against sb3-contrib) together with seeds 1 to 10 of the same presets
and protocol (natgrad: benchmarks/results/2026-12-05/kl-times-d; sb3-contrib: the peer
benchmark of 2026-12-04) in one scores file, ENV__scores-all-seeds.csv, for
`natgrad statistics`.

    python3 benchmarks/results/2026-12-05/fresh-seeds/scores.py Hopper-v5 hopper
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

if len(sys.argv) != 3:
    sys.exit("usage: scores.py ENV FOLDER   (e.g. Hopper-v5 hopper: this folder's and the 2026-12-04 "
             "peer benchmark's sub-folder for ENV)")
env, folder = sys.argv[1:]
here = os.path.dirname(os.path.abspath(__file__))
results = os.path.join(here, "../..")


held_out = os.path.join(here, folder, f"{env}__scores.csv")
first_ten_natgrad = os.path.join(results, f"2026-12-05/kl-times-d/{env}__scores.csv")
first_ten_sb3 = os.path.join(results, f"2026-12-04/peer-mujoco/{folder}/{env}__scores.csv")
out_rows = (score_rows.selected(first_ten_natgrad, {"natgrad-kl-times-d": "natgrad"})
            + score_rows.selected(first_ten_sb3, {"sb3-contrib": "sb3-contrib"})
            + score_rows.selected(held_out, {"natgrad": "natgrad", "sb3-contrib": "sb3-contrib"}))
score_rows.write(os.path.join(here, folder, f"{env}__scores-all-seeds.csv"), out_rows)
