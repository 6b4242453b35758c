"""Ways of stepping N copies of a Gymnasium environment in same-step
autoreset mode, as natgrad uses them: Gymnasium's SyncVectorEnv, its
AsyncVectorEnv (worker processes), and the plain loop over the copies that
natgrad's bridge runs for --vector-mode sync (bridge.Loop). Microseconds per
vector step with fixed actions. Run with the project's Python, from the
repository's root:

    .venv/bin/python benchmarks/gym_vector_modes.py Hopper-v5 2
"""
import sys
import time

import gymnasium as gym
from gymnasium.vector import AutoresetMode

sys.path.insert(0, "envs/src/gym")
import bridge  # noqa: E402

env, n = sys.argv[1], int(sys.argv[2])
STEPS = 4000


def report(name, seconds):
    dt = seconds / STEPS * 1e6
    print(env, n, name, round(dt, 1), "us per vec step", round(dt / n, 1), "per env step")


for mode in ["sync", "async"]:
    v = gym.make_vec(env, n, vectorization_mode=mode, vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})
    v.reset(seed=0)
    a = v.action_space.sample()
    t = time.perf_counter()
    for _ in range(STEPS):
        v.step(a)
    report(f"gymnasium {mode}", time.perf_counter() - t)
    v.close()

loop = bridge.Loop(env, {}, n)
loop.reset(0)
sample = gym.make_vec(env, n).action_space.sample()
# As natgrad sends them: float32 for a Box, int64 indices from 0 for a Discrete.
raw = (sample.astype("float32") if loop.discrete_start is None else (sample - loop.discrete_start).astype("int64")).tobytes()
t = time.perf_counter()
for _ in range(STEPS):
    loop.step(raw)
report("natgrad's loop (sync)", time.perf_counter() - t)
loop.close()
