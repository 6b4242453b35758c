"""Puts natgrad's runs with sb3-contrib's trust-region width (zoo's `target_kl` and
`cg_damping` times the action dimension d, written by benchmarks/equal-wall-time
ENV 1000000 FOLDER ... -- --set target_kl=... --set cg_damping=...) beside the peer
benchmark's scores for ENV (natgrad's preset and sb3-contrib, the same protocol) in
one scores file, FOLDER/ENV__scores.csv, for `natgrad statistics`. FOLDER is this
script's own folder unless given.

    python3 benchmarks/results/2026-12-05/kl-times-d/scores.py Walker2d-v5 walker
    python3 benchmarks/results/2026-12-05/kl-times-d/scores.py Ant-v5 ant benchmarks/results/2026-12-05/ant-kl-times-d
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

if len(sys.argv) not in (3, 4):
    sys.exit("usage: scores.py ENV PEER-FOLDER [FOLDER]   (e.g. Walker2d-v5 walker; PEER-FOLDER is under "
             "benchmarks/results/2026-12-04/peer-mujoco, FOLDER holds the runs and defaults to this script's folder)")
env, folder = sys.argv[1:3]
script_dir = os.path.dirname(os.path.abspath(__file__))
here = sys.argv[3] if len(sys.argv) == 4 else script_dir
peer = os.path.join(script_dir, f"../../2026-12-04/peer-mujoco/{folder}/{env}__scores.csv")
label = "natgrad-kl-times-d"
score_rows.write(os.path.join(here, f"{env}__scores.csv"),
                 score_rows.read(peer) + score_rows.equal_wall_time(here, env, label))
