"""For each ACKTR run of the MountainCarContinuous screens given (benchmarks/screen folders): the final
policy's mean action and gSDE noise standard deviation (in action units: the actions are clipped to [-1, 1])
at the start state, position -0.5 and velocity 0, by configuration and by the outcome of its deterministic
evaluation: flag (above 80), full force (below -90: pushed one way for 999 steps), stands still (within 5 of
0) or partly. Needs torch and safetensors (benchmarks/.venv-sb3, or the project's .venv with safetensors).

    python benchmarks/results/2026-12-07/acktr-mcc-screen/noise_by_outcome.py FOLDER...
"""
import collections
import csv
import sys

import numpy as np
from safetensors.torch import load_file


def policy(run):
    """The policy's mean action and gSDE noise std at an observation (SB3's gSDE: full_std, exp, the
    last hidden layer's output as features), after the run's frozen observation normalisation."""
    d = {k: v.double().numpy() for k, v in load_file(run + "/checkpoint.safetensors").items()}

    def act(obs):
        x = np.clip((obs - d["obs_norm.mean"]) / np.sqrt(d["obs_norm.var"] + 1e-8), -10, 10)
        h = np.tanh(d["policy.pi.layer0.weight"] @ x + d["policy.pi.layer0.bias"])
        h = np.tanh(d["policy.pi.layer1.weight"] @ h + d["policy.pi.layer1.bias"])
        mean = (d["policy.pi.layer2.weight"] @ h + d["policy.pi.layer2.bias"])[0]
        return mean, np.sqrt((h ** 2) @ np.exp(2 * d["policy.log_std"][:, 0]))
    return act


def outcome(evaluation):
    if evaluation > 80:
        return "flag"
    if evaluation < -90:
        return "full force"
    return "stands still" if abs(evaluation) < 5 else "partly"


start = np.array([-0.5, 0.0])
by_outcome, by_config = collections.defaultdict(list), collections.defaultdict(list)
for folder in sys.argv[1:]:
    for r in csv.DictReader(open(folder + "/scores.csv")):
        run = f"{folder}/runs/{r['env']}__{r['algo']}__{r['config']}__{r['seed']}"
        mean, std = policy(run)(start)
        by_outcome[r["config"], outcome(float(r["evaluation"]))].append((abs(mean), std))
        by_config[r["config"]].append(std)
print("| config | outcome | seeds | abs(mean action), median | noise std, median [min, max] |")
print("|---|---|---:|---:|---:|")
for (config, kind), v in sorted(by_outcome.items()):
    v = np.array(v)
    print(f"| {config} | {kind} | {len(v)} | {np.median(v[:, 0]):.2f} | {np.median(v[:, 1]):.2f} [{v[:, 1].min():.2f}, {v[:, 1].max():.2f}] |")
print()
print("| config | seeds | noise std, median [quartiles] | noise std above 4 |")
print("|---|---:|---:|---:|")
for config, stds in by_config.items():
    s = np.array(stds)
    q1, q3 = np.percentile(s, [25, 75])
    print(f"| {config} | {len(s)} | {np.median(s):.2f} [{q1:.2f}, {q3:.2f}] | {(s > 4).sum()} |")
