"""Gymnasium's own vector environments, sync against async (worker
processes), in same-step autoreset mode as natgrad uses them: microseconds
per vector step with fixed actions. Run with the project's Python:

    .venv/bin/python benchmarks/gym_vector_modes.py Hopper-v5 2
"""
import gymnasium as gym, time, numpy as np, sys
from gymnasium.vector import AutoresetMode
env = sys.argv[1]; n=int(sys.argv[2])
for mode in ["sync","async"]:
    v = gym.make_vec(env, n, vectorization_mode=mode, vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})
    v.reset(seed=0); a = v.action_space.sample()
    t=time.perf_counter()
    for i in range(4000):
        o,r,te,tr,info = v.step(a)
    dt=(time.perf_counter()-t)/4000*1e6
    print(env, n, mode, round(dt,1), "us per vec step", round(dt/n,1), "per env step")
    v.close()
