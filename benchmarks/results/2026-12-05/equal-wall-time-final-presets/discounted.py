"""Discounted returns of saved Hopper-v5 policies, to see what the training objective makes of a fall.

For each policy file (natgrad's checkpoint.safetensors or best.safetensors of a
Hopper-v5 TRPO run: a tanh MLP policy over observations normalised with the
run's saved statistics), 20 deterministic episodes reset with seeds 1000 to 1019
in Gymnasium's Hopper-v5, and per episode:
- the undiscounted return and the length;
- for gamma 0.99, 0.995 and 0.999, the discounted return from the start state
  (the objective of the discounted problem) and the mean over the visited
  states of the discounted return-to-go.
Prints the means over the 20 episodes, one line per policy.

usage: .venv/bin/python discounted.py POLICY.safetensors...
"""
import json
import struct
import sys

import gymnasium as gym
import numpy as np

GAMMAS = (0.99, 0.995, 0.999)
EPISODES = 20
FIRST_SEED = 1000


def load(path):
    """The tensors of a safetensors file, as numpy arrays (no extra package)."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    types = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "U8": np.uint8}
    out = {}
    for key, v in header.items():
        if key == "__metadata__":
            continue
        start, end = v["data_offsets"]
        out[key] = np.frombuffer(data[start:end], dtype=types[v["dtype"]]).reshape(v["shape"])
    return out


def act(w, obs):
    """natgrad's deterministic action: the Gaussian's mean, clipped to the action space."""
    x = np.clip((obs - w["obs_norm.mean"]) / np.sqrt(w["obs_norm.var"] + 1e-8), -10, 10).astype(np.float32)
    h = np.tanh(w["policy.pi.layer0.weight"] @ x + w["policy.pi.layer0.bias"])
    h = np.tanh(w["policy.pi.layer1.weight"] @ h + w["policy.pi.layer1.bias"])
    return np.clip(w["policy.pi.layer2.weight"] @ h + w["policy.pi.layer2.bias"], -1, 1)


def returns_to_go(rewards, gamma):
    out = np.zeros(len(rewards))
    acc = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        acc = rewards[t] + gamma * acc
        out[t] = acc
    return out


def episode(env, w, seed):
    obs, _ = env.reset(seed=seed)
    rewards = []
    while True:
        obs, r, terminated, truncated, _ = env.step(act(w, obs))
        rewards.append(r)
        if terminated or truncated:
            break
    rewards = np.array(rewards)
    row = [rewards.sum(), len(rewards)]
    for g in GAMMAS:
        to_go = returns_to_go(rewards, g)
        row += [to_go[0], to_go.mean()]
    return row


def main(paths):
    env = gym.make("Hopper-v5")
    for path in paths:
        w = load(path)
        m = np.array([episode(env, w, FIRST_SEED + i) for i in range(EPISODES)]).mean(axis=0)
        cols = " | ".join(f"{m[2 + 2 * i]:.1f} | {m[3 + 2 * i]:.1f}" for i in range(len(GAMMAS)))
        print(f"| {'/'.join(path.split('/')[-2:])} | {m[0]:.0f} | {m[1]:.0f} | {cols} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
