"""EnvPool's MuJoCo steps per second, measured the way natgrad's
`env_throughput` bench measures its own: uniformly random actions, automatic
reset, median of 7 timed rounds; one copy, then 16 copies on 1 and 2 threads
(EnvPool's own C++ thread pool, synchronous mode).

EnvPool 1.2.7 has wheels for Python 3.12 and newer, not 3.11:

    python3.12 -m venv /tmp/envpool && /tmp/envpool/bin/pip install envpool==1.2.7
    /tmp/envpool/bin/python benchmarks/envpool_throughput.py [--seconds S] [--envs IDS]
"""

import argparse
import statistics
import time

import envpool
import numpy as np

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


def rate(env_id, copies, threads, budget):
    envs = envpool.make_gymnasium(env_id, num_envs=copies, batch_size=copies, num_threads=threads, seed=0)
    envs.reset()
    space = envs.action_space
    rng = np.random.default_rng(0)
    chunk = 100

    def run():
        for _ in range(chunk):
            actions = rng.uniform(space.low, space.high, size=(copies, *space.shape)).astype(np.float32)
            envs.step(actions)

    return measure(budget, chunk * copies, run)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--envs", default="Hopper-v5,Walker2d-v5,HalfCheetah-v5,Ant-v5")
    args = parser.parse_args()
    print(f"envpool {envpool.__version__}; steps per second, median of {ROUNDS} rounds")
    print(f"| environment | single env | {COPIES} copies, 1 thread | {COPIES} copies, 2 threads |")
    print("|---|---:|---:|---:|")
    for env_id in args.envs.split(","):
        figures = [rate(env_id, 1, 1, args.seconds), rate(env_id, COPIES, 1, args.seconds),
                   rate(env_id, COPIES, 2, args.seconds)]
        print(f"| {env_id} | " + " | ".join(f"{f / 1e3:.1f} k" for f in figures) + " |")


if __name__ == "__main__":
    main()
