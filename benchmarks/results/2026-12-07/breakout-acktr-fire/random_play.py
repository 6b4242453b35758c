"""Random play's score on ALE/Breakout-v5 with the Breakout preset's AtariPreprocessing, without and with
natgrad.wrappers.FireOnNewLife (loaded from envs/src/gym/bridge.py, as natgrad's embedded Python loads it):
100 episodes each of uniformly drawn actions, one generator (seed 0), the first reset seeded 1000.
Run from the repository's root: .venv/bin/python benchmarks/results/2026-12-07/breakout-acktr-fire/random_play.py"""
import importlib.util
import os

import ale_py
import gymnasium as gym
import numpy as np

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../..")
spec = importlib.util.spec_from_file_location("natgrad_bridge", os.path.join(root, "envs/src/gym/bridge.py"))
bridge = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bridge)
gym.register_envs(ale_py)
for fire in (False, True):
    env = gym.wrappers.AtariPreprocessing(gym.make("ALE/Breakout-v5"), frame_skip=1)
    if fire:
        env = bridge.FireOnNewLife(env)
    rng = np.random.default_rng(0)
    returns, lengths = [], []
    env.reset(seed=1000)
    for ep in range(100):
        total, n, done = 0.0, 0, False
        while not done:
            _, r, term, trunc, _ = env.step(int(rng.integers(4)))
            total, n, done = total + r, n + 1, term or trunc
        returns.append(total)
        lengths.append(n)
        env.reset()
    r = np.array(returns)
    print(f"FireOnNewLife={fire}: 100 random episodes, mean {r.mean():.2f} ± {r.std(ddof=1)/10:.2f} (s.e.), mean length {np.mean(lengths):.0f}")
