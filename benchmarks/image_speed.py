"""sb3-contrib's TRPO with CnnPolicy on an Atari game, timed the way natgrad
times a run: the same wrappers (AtariPreprocessing, 4 stacked frames), copies,
steps and seed, one torch thread. Prints steps per second of learn().

    benchmarks/.venv-sb3/bin/python benchmarks/image_speed.py --env ALE/Pong-v5 --steps 4096
and natgrad's side (its summary line gives the steps per second):
    scripts/natgrad train --algo trpo --env ALE/Pong-v5 --n-envs 8 --n-steps 128 --total-steps 4096 \\
        --set gae_lambda=0.95 --set cg_iters=15 --threads 1 --parallel-critic off \\
        --env-wrapper gymnasium.wrappers.AtariPreprocessing:frame_skip=1 \\
        --env-wrapper gymnasium.wrappers.FrameStackObservation:stack_size=4
"""

import argparse
import time

import ale_py
import gymnasium as gym
import torch
from sb3_contrib import TRPO
from stable_baselines3.common.env_util import make_vec_env

gym.register_envs(ale_py)


def wrap(env):
    env = gym.wrappers.AtariPreprocessing(env, frame_skip=1)
    return gym.wrappers.FrameStackObservation(env, stack_size=4)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default="ALE/Pong-v5")
    parser.add_argument("--steps", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    venv = make_vec_env(args.env, n_envs=8, seed=args.seed, wrapper_class=wrap)
    model = TRPO("CnnPolicy", venv, n_steps=128, seed=args.seed, device="cpu")
    start = time.perf_counter()
    model.learn(args.steps)
    seconds = time.perf_counter() - start
    print(f"sb3-contrib TRPO CnnPolicy on {args.env}: {args.steps} steps in {seconds:.1f} s, {args.steps / seconds:.0f} steps/s")


if __name__ == "__main__":
    main()
