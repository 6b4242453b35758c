"""Gymnasium's environment steps per second, measured the way natgrad's
`env_throughput` bench measures its own: random actions from the action space,
automatic reset, median of 7 timed rounds.

    python3 -m venv /tmp/gym && /tmp/gym/bin/pip install gymnasium==1.4.0
    /tmp/gym/bin/python benchmarks/gymnasium_env_throughput.py [--seconds S] [--envs IDS]

(--envs Hopper-v5,... needs gymnasium[mujoco]==1.4.0 mujoco==4.0.0; the
project's .venv has them.)
"""

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np

IDS = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]
ROUNDS = 7
COPIES = 16


def measure(budget, chunk, step):
    step()
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < budget / ROUNDS:
            step()
            n += chunk
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def single(env_id, budget):
    env = gym.make(env_id)
    env.reset(seed=0)
    env.action_space.seed(0)

    def run():
        for _ in range(1000):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()

    return measure(budget, 1000, run)


def vectorized(env_id, budget):
    envs = gym.make_vec(env_id, num_envs=COPIES, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
    envs.reset(seed=0)
    envs.action_space.seed(0)

    def run():
        for _ in range(100):
            envs.step(envs.action_space.sample())

    return measure(budget, 100 * COPIES, run)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--envs", default=",".join(IDS), help="comma-separated ids (default: the classic five)")
    args = parser.parse_args()
    print(f"gymnasium {gym.__version__}, numpy {np.__version__}; steps per second, median of {ROUNDS} rounds")
    print(f"| environment | single env | vectorized ({COPIES} copies, sync) |")
    print("|---|---:|---:|")
    for env_id in args.envs.split(","):
        print(f"| {env_id} | {single(env_id, args.seconds) / 1e3:.1f} k | {vectorized(env_id, args.seconds) / 1e3:.1f} k |")


if __name__ == "__main__":
    main()
