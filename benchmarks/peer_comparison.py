"""natgrad's TRPO against sb3-contrib's TRPO with identical settings, one
torch thread each, alternating the two so that machine load hits both alike.
Run through benchmarks/peer-comparison, which installs what this needs.

Settings: rl-baselines3-zoo's TRPO hyperparameters (CartPole-v1: 2 envs,
n_steps 512, batch 512, 20 critic updates, cg_damping 1e-3, gae_lambda 0.98,
critic lr 1e-3; Pendulum-v1: 2 envs, n_steps 1024, gamma 0.9, 15 critic
updates, without gSDE; Hopper-v5 and the other MuJoCo tasks: zoo's MuJoCo
settings, with VecNormalize on observations and rewards), sb3-contrib's
defaults elsewhere (15 CG iterations, cg_damping 0.1, gae_lambda 0.95, batch
128, target_kl 0.01), 64x64 tanh networks for policy and value. natgrad's
presets are the same settings.

The floor: the time to step the same environment as many times with random
actions in Python alone (Gymnasium, no learner), measured in the same run.
"""

import argparse
import csv
import os
import statistics
import subprocess
import tempfile
import time

SETTINGS = {
    "CartPole-v1": dict(n_envs=2, n_steps=512, batch_size=512, cg_damping=1e-3, gae_lambda=0.98, gamma=0.99,
                        learning_rate=1e-3, n_critic_updates=20, cg_max_steps=15),
    "Pendulum-v1": dict(n_envs=2, n_steps=1024, batch_size=128, cg_damping=0.1, gae_lambda=0.95, gamma=0.9,
                        learning_rate=1e-3, n_critic_updates=15, cg_max_steps=15),
}
MUJOCO = dict(n_envs=2, n_steps=1024, batch_size=128, cg_damping=0.1, gae_lambda=0.95, gamma=0.99,
              learning_rate=1e-3, n_critic_updates=20, cg_max_steps=25, sub_sampling_factor=1)
SETTINGS["Hopper-v5"] = MUJOCO
# zoo's `normalize: true`: VecNormalize on observations and rewards.
NORMALIZE = {"Hopper-v5"}
# Hopper's registered threshold (3800) is out of reach in 100k steps.
THRESHOLD = {"CartPole-v1": 475.0, "Pendulum-v1": -200.0, "Hopper-v5": 1000.0}
WINDOW = 20


def first_reach(episodes, threshold):
    """(steps, seconds) at which the mean of WINDOW consecutive episodes reaches threshold."""
    for i in range(WINDOW - 1, len(episodes)):
        window = episodes[i - WINDOW + 1:i + 1]
        if sum(r for _, r, _ in window) / WINDOW >= threshold:
            return episodes[i][0], episodes[i][2]
    return None


def run_natgrad(exe, env, seed, steps, logdir, eval_episodes):
    name = f"{env}__natgrad__{seed}"
    start = time.perf_counter()
    subprocess.run([exe, "train", "--algo", "trpo", "--env", env, "--seed", str(seed), "--total-steps", str(steps),
                    "--threads", "1", "--logdir", logdir, "--run-name", name, "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    run = os.path.join(logdir, name)
    with open(os.path.join(run, "progress.csv")) as f:
        rows = list(csv.DictReader(f))
    # Wall time of each iteration's end, to time the episodes that ended in it.
    ends = [(int(r["total_steps"]), float(r["wall_time_s"])) for r in rows]
    episodes = []
    with open(os.path.join(run, "episodes.csv")) as f:
        for r in csv.DictReader(f):
            step = int(r["total_steps"])
            seconds = next(t for s, t in ends if s >= step)
            episodes.append((step, float(r["return"]), seconds))
    out = subprocess.run([exe, "eval", run, "--episodes", str(eval_episodes), "--deterministic", "--seed", "1000"], check=True,
                         capture_output=True, text=True).stdout
    final = float(out.split("mean return ")[1].split(" ")[0])
    return wall, int(rows[-1]["total_steps"]), episodes, final


def run_sb3(env, seed, steps, eval_episodes):
    import torch
    from sb3_contrib import TRPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecNormalize

    torch.set_num_threads(1)
    settings = dict(SETTINGS[env])
    n_envs = settings.pop("n_envs")

    class Episodes(BaseCallback):
        def __init__(self):
            super().__init__()
            self.episodes = []
            self.start = time.perf_counter()

        def _on_step(self):
            for info in self.locals["infos"]:
                if "episode" in info:
                    self.episodes.append((self.num_timesteps, info["episode"]["r"], time.perf_counter() - self.start))
            return True

    start = time.perf_counter()
    venv = make_vec_env(env, n_envs=n_envs, seed=seed)
    if env in NORMALIZE:
        venv = VecNormalize(venv, gamma=settings["gamma"])
    model = TRPO("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **settings)
    callback = Episodes()
    callback.start = start
    model.learn(total_timesteps=steps, callback=callback)
    wall = time.perf_counter() - start
    eval_env = make_vec_env(env, n_envs=1, seed=1000)
    if env in NORMALIZE:
        # The policy saw normalised observations: evaluate with the training statistics, frozen.
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False)
        eval_env.obs_rms = venv.obs_rms
    final, _ = evaluate_policy(model, eval_env, n_eval_episodes=eval_episodes, deterministic=True)
    return wall, model.num_timesteps, callback.episodes, float(final)


def floor_seconds(env, steps, seed):
    """Stepping `env` `steps` times with uniformly random actions in Python alone."""
    import gymnasium as gym

    e = gym.make(env)
    e.action_space.seed(seed)
    e.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = e.step(e.action_space.sample())
        if terminated or truncated:
            e.reset()
    return time.perf_counter() - start


def fmt(values, unit="", digits=1):
    if not values:
        return "never"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}{unit}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}{unit}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--natgrad", required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--envs", default="CartPole-v1,Pendulum-v1")
    parser.add_argument("--eval-episodes", type=int, default=20,
                        help="deterministic evaluation episodes per final policy (Pendulum's returns vary by about "
                             "+-110 with the start state: 20 episodes leave about +-25 of noise)")
    args = parser.parse_args()
    import platform
    import sb3_contrib
    import torch
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    print(f"machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, torch {torch.__version__}, "
          f"sb3-contrib {sb3_contrib.__version__}; one torch thread each")
    logdir = tempfile.mkdtemp(prefix="natgrad-peer-")
    for env in args.envs.split(","):
        results = {"natgrad": [], "sb3-contrib": []}
        floors = []
        for seed in range(1, args.seeds + 1):
            floors.append(floor_seconds(env, args.steps, seed))
            print(f"  {env} floor seed {seed}: {floors[-1]:.1f} s for {args.steps} random steps in Python", flush=True)
            for impl in ("natgrad", "sb3-contrib"):
                if impl == "natgrad":
                    r = run_natgrad(args.natgrad, env, seed, args.steps, logdir, args.eval_episodes)
                else:
                    r = run_sb3(env, seed, args.steps, args.eval_episodes)
                results[impl].append(r)
                print(f"  {env} {impl} seed {seed}: {r[0]:.1f} s, final deterministic return {r[3]:.1f}", flush=True)
        print(f"\n{env}, {args.steps} steps, {args.seeds} seeds (mean ± std over seeds)")
        print(f"| implementation | wall time | steps/s | steps to {THRESHOLD[env]:g} | time to {THRESHOLD[env]:g} "
              f"| last {WINDOW} training episodes | final return ({args.eval_episodes} deterministic episodes) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        walls = {}
        for impl, runs in results.items():
            walls[impl] = [r[0] for r in runs]
            reach = [first_reach(r[2], THRESHOLD[env]) for r in runs]
            reached = [x for x in reach if x is not None]
            print(f"| {impl} | {fmt(walls[impl], ' s')} | {fmt([r[1] / r[0] for r in runs], '', 0)} "
                  f"| {fmt([float(s) for s, _ in reached], '', 0)} ({len(reached)}/{len(runs)}) "
                  f"| {fmt([t for _, t in reached], ' s')} "
                  f"| {fmt([sum(x for _, x, _ in r[2][-WINDOW:]) / WINDOW for r in runs])} | {fmt([r[3] for r in runs])} |")
        ratio = statistics.mean(walls["sb3-contrib"]) / statistics.mean(walls["natgrad"])
        floor = statistics.mean(floors)
        print(f"natgrad is {ratio:.1f}x faster in wall time")
        print(f"floor (stepping {env} {args.steps} times in Python alone): {fmt(floors, ' s')}; whole training runs: "
              f"natgrad {statistics.mean(walls['natgrad']) / floor:.2f}x the floor, "
              f"sb3-contrib {statistics.mean(walls['sb3-contrib']) / floor:.2f}x\n", flush=True)


if __name__ == "__main__":
    main()
