"""natgrad's TRPO against sb3-contrib's TRPO with identical settings, one
torch thread each, alternating the two so that machine load hits both alike.
Run through benchmarks/peer-comparison, which installs what this needs.

Settings: rl-baselines3-zoo's TRPO hyperparameters (hyperparams/trpo.yml) on
top of sb3-contrib's defaults (15 CG iterations, cg_damping 0.1, gae_lambda
0.95, critic minibatches of 128, 10 critic epochs at 1e-3, target_kl 0.01),
64x64 tanh networks for policy and value, gSDE (sde_sample_freq 4) where zoo
uses it (Pendulum-v1, MountainCarContinuous-v0), VecNormalize on observations
and rewards where zoo says `normalize`, and on CartPole-v1 natgrad's preset:
batches of 2,048 steps and target_kl lin_0.005 (zoo's schedule syntax; sb3-contrib's
TRPO takes a number, so a callback sets it after each rollout as natgrad's schedule
does). natgrad's presets are the same settings, except where one has
left zoo's (Pendulum-v1's gamma 0.95 and target_kl 0.0075,
MountainCarContinuous-v0's gamma 0.9999; Hopper, Walker2d,
HalfCheetah, Ant and InvertedDoublePendulum, docs/reproductions.md): there
the run puts natgrad's preset against zoo's settings, and --set gives a
setting to both sides.

The protocol, the same for both (as sb3-contrib's and zoo's tables):
- training: the mean return of each run's last 20 training episodes;
- evaluation: each run's final policy, deterministic (its mean action or
  argmax), over many episodes (100; 1000 on Pendulum, whose return spreads by
  about +-130 with the start state, and on FrozenLake, whose return is 0 or
  1; 20 on MuJoCo, as zoo's benchmark), with the run's own observation
  statistics, frozen. Both implementations play the same episodes: natgrad
  evaluates first and writes each episode's start state, and sb3-contrib's
  policy starts its episodes from those states (Gymnasium's
  `env.unwrapped.state`); the first observations are checked to be equal.
  For Gymnasium's own environments (MuJoCo, FrozenLake), both reset with the
  same seed.
- on MuJoCo, an evaluation curve during training (every 50k steps, 10
  episodes from the same start states on both sides), the policy's
  entropy after every update, and the update's diagnostics: the critic's
  explained variance before its fit (values at collection against the
  lambda-returns, as both log it), the KL of the applied step (summed over
  the action's dimensions: sb3-contrib's per-dimension mean times d; its
  KL(new || old), natgrad's KL(old || new)) and whether the line search
  accepted a step.

The floor: the time to step the same environment as many times with random
actions in Python alone (Gymnasium, no learner), measured in the same run.
"""

import argparse
import csv
import os
import re
import statistics
import subprocess
import tempfile
import time

import numpy as np

SB3_DEFAULTS = dict(n_steps=2048, batch_size=128, cg_damping=0.1, gae_lambda=0.95, gamma=0.99, learning_rate=1e-3,
                    n_critic_updates=10, cg_max_steps=15)
MUJOCO = dict(n_envs=2, n_steps=1024, batch_size=128, cg_damping=0.1, gae_lambda=0.95, gamma=0.99, learning_rate=1e-3,
              n_critic_updates=20, cg_max_steps=25, sub_sampling_factor=1)
# zoo's hyperparams/trpo.yml entries (n_timesteps as STEPS, `normalize` in NORMALIZE).
SETTINGS = {
    # natgrad's preset's batch and trust region (docs/reproductions.md, "CartPole's late collapse"); both sides use
    # them. Until 2026-12-07 both took 512 steps per copy and target_kl 0.0025.
    "CartPole-v1": dict(n_envs=2, n_steps=1024, batch_size=512, cg_damping=1e-3, gae_lambda=0.98, gamma=0.99,
                        learning_rate=1e-3, n_critic_updates=20, target_kl="lin_0.005"),
    "Acrobot-v1": dict(n_envs=2, n_steps=1024),
    "MountainCar-v0": dict(n_envs=2, n_steps=1024, n_critic_updates=20),
    # zoo's; natgrad's preset takes gamma 0.9999 (docs/reproductions.md, "MountainCarContinuous and gamma 0.9999").
    "MountainCarContinuous-v0": dict(n_envs=2, use_sde=True, sde_sample_freq=4),
    # zoo's; natgrad's preset takes gamma 0.95 and target_kl 0.0075 (docs/reproductions.md, "Pendulum and gamma 0.95").
    "Pendulum-v1": dict(n_envs=2, n_steps=1024, gamma=0.9, n_critic_updates=15, use_sde=True, sde_sample_freq=4),
    # No zoo entry: sb3-contrib's defaults, one copy (natgrad's preset is the same).
    "FrozenLake-v1": dict(n_envs=1),
    # zoo's MuJoCo entry (its Ant, HalfCheetah, Hopper, Walker2d and Swimmer; InvertedDoublePendulum, which zoo
    # does not list, takes it too, as natgrad's preset does).
    **{env: dict(MUJOCO, **extra) for env, extra in {
        "Hopper-v5": {}, "Walker2d-v5": {}, "HalfCheetah-v5": dict(target_kl=0.04), "Swimmer-v5": dict(gamma=0.9999),
        "Ant-v5": {}, "InvertedDoublePendulum-v5": {}}.items()},
}
MUJOCO_ENVS = ["Hopper-v5", "Walker2d-v5", "HalfCheetah-v5", "Swimmer-v5", "Ant-v5", "InvertedDoublePendulum-v5"]
STEPS = {"MountainCarContinuous-v0": 50_000, "FrozenLake-v1": 200_000, **{env: 1_000_000 for env in MUJOCO_ENVS}}
NORMALIZE = {"Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", *MUJOCO_ENVS}
# zoo's benchmark table: 20 episodes per final policy on MuJoCo; 1000 where one episode says little (Pendulum's
# return spreads with the start state, FrozenLake's is 0 or 1).
EVAL_EPISODES = {"Pendulum-v1": 1000, "FrozenLake-v1": 1000, **{env: 20 for env in MUJOCO_ENVS}}
# Evaluation curves (zoo's EvalCallback): every 50k steps on MuJoCo, 10 episodes each.
CURVE_FREQ = {env: 50_000 for env in MUJOCO_ENVS}
# The registered reward thresholds (Walker2d-v5 has none).
THRESHOLD = {"CartPole-v1": 475.0, "FrozenLake-v1": 0.7, "Acrobot-v1": -100.0, "MountainCar-v0": -110.0,
             "MountainCarContinuous-v0": 90.0, "Pendulum-v1": -200.0, "Hopper-v5": 3800.0, "Walker2d-v5": None,
             "HalfCheetah-v5": 4800.0, "Swimmer-v5": 360.0, "Ant-v5": 6000.0, "InvertedDoublePendulum-v5": 9100.0}
WINDOW = 20
TWO_CORES = "natgrad on two cores"
EVAL_SEED = 1000


def first_reach(episodes, threshold):
    """(steps, seconds) at which the mean of WINDOW consecutive episodes reaches threshold."""
    for i in range(WINDOW - 1, len(episodes)):
        window = episodes[i - WINDOW + 1:i + 1]
        if sum(r for _, r, _ in window) / WINDOW >= threshold:
            return episodes[i][0], episodes[i][2]
    return None


def floats(text):
    return [float(v) for v in text.split()] if text else []


# Settings `--set` may change on both sides: sb3-contrib's name, and natgrad's where it differs.
BOTH_SIDES = dict(gamma="gamma", gae_lambda="gae_lambda", target_kl="target_kl", cg_damping="cg_damping",
                  cg_max_steps="cg_iters", n_critic_updates="n_critic_updates", learning_rate="critic_learning_rate",
                  batch_size="critic_batch_size", n_steps="n_steps", n_envs="n_envs",
                  normalize_advantage="normalize_advantage", line_search_shrinking_factor="line_search_shrink",
                  line_search_max_iter="line_search_max_backtracks", log_std_init="log_std_init")
# Of those, the ones sb3-contrib takes in `policy_kwargs` rather than as TRPO's own arguments.
POLICY_KWARGS = {"log_std_init"}


def parse_setting(text):
    """`KEY=VALUE` of `--set`, as (sb3-contrib's key, value typed for sb3-contrib, natgrad's `--set` text)."""
    key, sep, value = text.partition("=")
    if not sep or key not in BOTH_SIDES:
        raise SystemExit(f"--set {text!r}: expected KEY=VALUE with KEY one of {', '.join(BOTH_SIDES)} "
                         "(sb3-contrib's names; the setting changes on both sides)")
    if value.lower() in ("true", "false"):
        typed = value.lower() == "true"
    elif key == "target_kl" and linear_initial(value) is not None:
        typed = value
    else:
        try:
            typed = int(value)
        except ValueError:
            try:
                typed = float(value)
            except ValueError:
                raise SystemExit(f"--set {text!r}: {value!r} is not a number or true/false") from None
    return key, typed, f"{BOTH_SIDES[key]}={value}"


def linear_initial(value):
    """X of zoo's schedule "lin_X", or None for a number."""
    if isinstance(value, str) and value.startswith("lin_"):
        try:
            return float(value[len("lin_"):])
        except ValueError:
            raise SystemExit(f"{value!r} is not a schedule: write lin_<initial value>, e.g. lin_0.005") from None
    return None


def run_natgrad(exe, env, seed, steps, logdir, eval_episodes, without_sde, parallel_critic, curve, changes=()):
    """(wall seconds, steps, training episodes, evaluation episodes, evaluation curve, entropy by step,
    diagnostics by step)."""
    name = f"{env}__natgrad__{seed}"
    start = time.perf_counter()
    extra = ["--set", "use_sde=false"] if without_sde else []
    for _, _, text in changes:
        extra += ["--set", text]
    # One thread, as sb3-contrib's side, unless asked to fit the critic on a second core; evaluation during
    # training as sb3-contrib's side does it (`curve`: every so many steps, so many episodes; none at 0).
    extra += ["--parallel-critic", "on" if parallel_critic else "off", "--eval-freq", str(curve.freq)]
    # On one core, natgrad's native MuJoCo copies step on that core too (by default they take one each).
    extra += [] if parallel_critic else ["--env-threads", "1"]
    if curve.freq:
        extra += ["--eval-episodes", str(curve.episodes)]
    summary = subprocess.run([exe, "train", "--algo", "trpo", "--env", env, "--seed", str(seed), "--total-steps",
                              str(steps), "--threads", "1", "--logdir", logdir, "--run-name", name, "--quiet", *extra],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
    # Evaluation during training is left out of the wall time on both sides (its summary line gives it).
    evaluating = re.search(r", evaluation ([0-9.]+) s\)", summary)
    wall = time.perf_counter() - start - (float(evaluating.group(1)) if evaluating else 0.0)
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
    eval_csv = os.path.join(run, "evaluation.csv")
    subprocess.run([exe, "eval", run, "--episodes", str(eval_episodes), "--deterministic", "--seed", str(EVAL_SEED),
                    "--csv", eval_csv], check=True, stdout=subprocess.DEVNULL)
    with open(eval_csv) as f:
        evaluation = [dict(ret=float(r["return"]), obs=floats(r["first_observation"]), state=floats(r["first_state"]))
                      for r in csv.DictReader(f)]
    points = []
    if curve.freq:
        with open(os.path.join(run, "evaluations.csv")) as f:
            points = [(int(r["total_steps"]), float(r["mean_reward"])) for r in csv.DictReader(f)]
    entropy = [(int(r["total_steps"]), float(r["entropy"])) for r in rows]
    diagnostics = [(int(r["total_steps"]), float(r["explained_variance"]), float(r["approx_kl"]),
                    int(r["line_search_success"] == "1")) for r in rows]
    return wall, int(rows[-1]["total_steps"]), episodes, evaluation, points, entropy, diagnostics


def start_from(env, state):
    """Puts Gymnasium's `env` (reset before) in `state`, as natgrad's episode began; its first observation."""
    import gymnasium as gym

    inner = env.unwrapped
    # In the dtype the environment's own reset left (Acrobot's is float32).
    inner.state = np.array(state, dtype=np.asarray(inner.state).dtype)
    if hasattr(inner, "_get_obs"):  # Pendulum
        return inner._get_obs()
    if hasattr(inner, "_get_ob"):  # Acrobot
        return inner._get_ob()
    assert isinstance(env.observation_space, gym.spaces.Box)
    return np.array(inner.state, dtype=np.float32)  # CartPole, MountainCar(Continuous)


def env_action(env, action):
    """`model.predict`'s action as `env.step` takes it: a Discrete action as a Python int (FrozenLake indexes a
    dict with it), a Box action as it is."""
    import gymnasium as gym

    return int(np.asarray(action).item()) if isinstance(env.action_space, gym.spaces.Discrete) else action


def evaluate_sb3(model, env_id, normalizer, natgrad_episodes):
    """sb3-contrib's deterministic policy on natgrad's evaluation episodes: the same start states."""
    import gymnasium as gym

    env = gym.make(env_id)
    obs, _ = env.reset(seed=EVAL_SEED)
    returns = []
    for i, episode in enumerate(natgrad_episodes):
        if i > 0:
            obs, _ = env.reset()
        # Classic control: natgrad's own generator drew the start state, so Python starts there. MuJoCo:
        # natgrad's native tasks draw Gymnasium's start states from the same seed (checked just below).
        if episode["state"] and hasattr(env.unwrapped, "state"):
            obs = start_from(env, episode["state"])
        python_obs, natgrad_obs = np.asarray(obs, dtype=np.float32), np.asarray(episode["obs"], dtype=np.float32)
        # The same state; Acrobot's first observation may still differ by one float32 ulp (numpy's float32
        # cos/sin at reset, see envs/tests/fixtures/gymnasium/README.md).
        if np.any(np.abs(python_obs - natgrad_obs) > np.spacing(np.abs(natgrad_obs))):
            raise SystemExit(f"{env_id}: episode {i} starts from {obs} in Python but {episode['obs']} in natgrad")
        returns.append(play_episode(model, env, obs, normalizer))
    return returns


def play_episode(model, env, obs, normalizer):
    """The return of `model`'s deterministic policy from `obs`, `env`'s first observation, to the
    episode's end, the observations normalised with the training statistics, frozen, where there are any."""
    total, done = 0.0, False
    while not done:
        seen = normalizer.normalize_obs(obs) if normalizer is not None else obs
        action, _ = model.predict(seen, deterministic=True)
        obs, reward, terminated, truncated, _ = env.step(env_action(env, action))
        total += float(reward)
        done = terminated or truncated
    return total


def curve_point(model, env_id, normalizer, episodes):
    """The mean return of `model`'s deterministic policy over `episodes` episodes, the first reset with
    natgrad's in-training evaluation seed (0) and the rest unseeded, as natgrad's evaluation copy plays
    them: the same start states on both sides."""
    import gymnasium as gym

    env = gym.make(env_id)
    total = 0.0
    for i in range(episodes):
        obs, _ = env.reset(seed=0) if i == 0 else env.reset()
        total += play_episode(model, env, obs, normalizer)
    return total / episodes


def gaussian_entropy(policy):
    """The entropy of sb3's diagonal Gaussian (state-independent log-std), as natgrad logs its own."""
    log_std = getattr(policy, "log_std", None)
    if log_std is None:
        return float("nan")
    d = log_std.numel()
    return float(log_std.detach().sum()) + 0.5 * d * (1.0 + np.log(2.0 * np.pi))


def sb3_diagnostics(model):
    """The last update's (explained variance, KL summed over the action's dimensions, line search accepted), from
    what sb3-contrib's TRPO.train() recorded (its logger keeps them until the next dump)."""
    logged = model.logger.name_to_value
    if "train/explained_variance" not in logged:
        return None
    log_std = getattr(model.policy, "log_std", None)
    d = log_std.numel() if log_std is not None else 1
    return (float(logged["train/explained_variance"]), float(logged["train/kl_divergence_loss"]) * d,
            int(logged["train/is_line_search_success"] == 1.0))


def run_sb3(env, seed, steps, natgrad_episodes, without_sde, curve, changes=()):
    """(wall seconds, steps, training episodes, evaluation returns, evaluation curve, entropy by step,
    diagnostics by step)."""
    import torch
    from sb3_contrib import TRPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    torch.set_num_threads(1)
    settings = dict(SB3_DEFAULTS)
    settings.update(SETTINGS[env])
    settings.update({key: value for key, value, _ in changes if key not in POLICY_KWARGS})
    policy_kwargs = {key: value for key, value, _ in changes if key in POLICY_KWARGS}
    if policy_kwargs:
        settings["policy_kwargs"] = dict(settings.get("policy_kwargs", {}), **policy_kwargs)
    n_envs = settings.pop("n_envs")
    # sb3-contrib's TRPO reads self.target_kl in each train(); the callback sets it after each rollout to X
    # times Stable-Baselines3's progress remaining (1 - steps taken / total, the batch's steps included), the
    # value natgrad's schedule takes for the same update.
    linear_kl = linear_initial(settings.get("target_kl"))
    if linear_kl is not None:
        settings["target_kl"] = linear_kl
    if without_sde:
        settings.pop("use_sde", None)
        settings.pop("sde_sample_freq", None)

    class Episodes(BaseCallback):
        """Training episodes; and, at the start of each rollout (the policy just updated, as natgrad's
        iteration ends), the entropy and, every curve.freq steps, an evaluation. Evaluation time is
        left out of the wall time, as natgrad's summary splits it out."""

        def __init__(self):
            super().__init__()
            self.episodes, self.points, self.entropy, self.diagnostics = [], [], [], []
            self.start = time.perf_counter()
            self.evaluating = 0.0

        def _on_step(self):
            for info in self.locals["infos"]:
                if "episode" in info:
                    self.episodes.append((self.num_timesteps, info["episode"]["r"],
                                          time.perf_counter() - self.start - self.evaluating))
            return True

        def _on_rollout_start(self):
            self.checkpoint()

        def _on_rollout_end(self):
            if linear_kl is not None:
                self.model.target_kl = linear_kl * min(1.0, max(0.0, 1.0 - self.num_timesteps / steps))

        def checkpoint(self):
            n = self.num_timesteps
            if n == 0 or (self.entropy and self.entropy[-1][0] == n):
                return
            self.entropy.append((n, gaussian_entropy(self.model.policy)))
            diagnostics = sb3_diagnostics(self.model)
            if diagnostics is not None:
                self.diagnostics.append((n, *diagnostics))
            last = self.points[-1][0] if self.points else 0
            if curve.freq and n // curve.freq > last // curve.freq:
                t = time.perf_counter()
                normalizer = self.model.get_env() if env in NORMALIZE else None
                self.points.append((n, curve_point(self.model, env, normalizer, curve.episodes)))
                self.evaluating += time.perf_counter() - t

    venv = make_vec_env(env, n_envs=n_envs, seed=seed)
    if env in NORMALIZE:
        venv = VecNormalize(venv, gamma=settings["gamma"])
    model = TRPO("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **settings)
    callback = Episodes()
    # learn() alone: natgrad's figure is its whole process, start-up included.
    start = time.perf_counter()
    callback.start = start
    model.learn(total_timesteps=steps, callback=callback)
    wall = time.perf_counter() - start - callback.evaluating
    callback.checkpoint()  # the last update's entropy and evaluation
    # The policy saw normalised observations: evaluate with the training statistics, frozen.
    normalizer = venv if env in NORMALIZE else None
    return (wall, model.num_timesteps, callback.episodes, evaluate_sb3(model, env, normalizer, natgrad_episodes),
            callback.points, callback.entropy, callback.diagnostics)


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


def last_mean(episodes):
    window = episodes[-WINDOW:]
    return sum(r for _, r, _ in window) / len(window) if window else float("nan")


def report(env, steps, seeds, results, floors, eval_episodes):
    threshold = THRESHOLD[env]
    goal = f"{threshold:g}" if threshold is not None else "a threshold (none registered)"
    print(f"\n{env}, {steps} steps, {seeds} seeds (mean ± std over seeds)")
    print(f"| implementation | wall time | steps/s | steps to {goal} | time to {goal} "
          f"| last {WINDOW} training episodes | deterministic evaluation ({eval_episodes} episodes) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    walls = {}
    for impl, runs in results.items():
        walls[impl] = [r["wall"] for r in runs]
        reach = [first_reach(r["episodes"], threshold) if threshold is not None else None for r in runs]
        reached = [x for x in reach if x is not None]
        print(f"| {impl} | {fmt(walls[impl], ' s')} | {fmt([r['steps'] / r['wall'] for r in runs], '', 0)} "
              f"| {fmt([float(s) for s, _ in reached], '', 0)} ({len(reached)}/{len(runs)}) "
              f"| {fmt([t for _, t in reached], ' s')} "
              f"| {fmt([last_mean(r['episodes']) for r in runs])} | {fmt([r['eval'] for r in runs])} |")
    print("per seed, deterministic evaluation (natgrad / sb3-contrib): " + ", ".join(
        f"{a['eval']:.1f} / {b['eval']:.1f}" for a, b in zip(results["natgrad"], results["sb3-contrib"])))
    # Paired on the same episodes: the difference of the two policies' returns, episode by episode.
    diffs = [statistics.mean(np.subtract(a["returns"], b["returns"]))
             for a, b in zip(results["natgrad"], results["sb3-contrib"])]
    print(f"natgrad minus sb3-contrib on the same start states, per seed: {', '.join(f'{d:+.1f}' for d in diffs)}; "
          f"natgrad ahead on {sum(d > 0 for d in diffs)} of {len(diffs)}")
    ratio = statistics.mean(walls["sb3-contrib"]) / statistics.mean(walls["natgrad"])
    floor = statistics.mean(floors)
    print(f"natgrad is {ratio:.1f}x faster in wall time (its whole process against sb3-contrib's learn())")
    if TWO_CORES in walls:
        print(f"with its critic on a second core: {statistics.mean(walls['sb3-contrib']) / statistics.mean(walls[TWO_CORES]):.1f}x")
    print(f"floor (stepping {env} {steps} times in Python alone): {fmt(floors, ' s')}; whole training runs: "
          + "".join(f"{impl} {statistics.mean(walls[impl]) / floor:.2f}x the floor, " for impl in walls if impl != "sb3-contrib")
          + f"sb3-contrib {statistics.mean(walls['sb3-contrib']) / floor:.2f}x\n", flush=True)


RUN_FILES = {"runs": "implementation,seed,wall_s,steps,last_training_episodes,evaluation",
             "entropy": "implementation,seed,total_steps,entropy", "scores": "point,algorithm,run,score",
             "diagnostics": "implementation,seed,total_steps,explained_variance,approx_kl,line_search_success"}


def earlier_rows(out, env, append):
    """With --append, the rows an earlier invocation wrote into OUT for env (kind -> lines without the header),
    so that seeds run in several invocations, or sessions, end in one set of files; otherwise none."""
    rows = {kind: [] for kind in RUN_FILES}
    if not append:
        return rows
    for kind, header in RUN_FILES.items():
        path = os.path.join(out, f"{env}__{kind}.csv")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            lines = f.read().splitlines()
        if not lines or lines[0] != header:
            raise SystemExit(f"--append: {path} does not start with the header {header!r}; move it away or drop --append")
        rows[kind] = lines[1:]
    return rows


def check_new_seeds(earlier, seeds):
    """--append must not run a seed twice: the statistics would count it as two runs."""
    done = {line.split(",")[1] for line in earlier["runs"]}
    again = sorted(done & {str(s) for s in seeds}, key=int)
    if again:
        raise SystemExit(f"--append: seeds {', '.join(again)} are already in the results; choose --first-seed past them")


def record_changes(out, changes, append):
    """Keeps `--set` in OUT/changed-settings.txt, so that --append cannot mix runs of other settings (a folder
    without the file was run without `--set`)."""
    path = os.path.join(out, "changed-settings.txt")
    text = "".join(f"{key}={value}\n" for key, value, _ in changes)
    if append:
        before = open(path).read() if os.path.exists(path) else ""
        if before != text:
            raise SystemExit(f"--append: {out} holds runs with --set {before.split() or 'none'}, these would run with "
                             f"{text.split() or 'none'}; pass the same --set or choose another --out")
    with open(path, "w") as f:
        f.write(text)


def write_run_files(out, env, results, earlier):
    """Per environment: each run's figures, the scores the statistics read (the final evaluation and each
    point of the evaluation curve that every run has), and the entropy over training, after the rows of
    `earlier` (--append)."""
    def write(kind, lines):
        with open(os.path.join(out, f"{env}__{kind}.csv"), "w") as f:
            f.write(RUN_FILES[kind] + "\n" + "".join(line + "\n" for line in lines))

    write("runs", earlier["runs"] + [f"{impl},{r['seed']},{r['wall']:.1f},{r['steps']},{last_mean(r['episodes']):.2f},{r['eval']:.2f}"
                   for impl, runs in results.items() for r in runs])
    write("entropy", earlier["entropy"] + [f"{impl},{r['seed']},{n},{h:.5f}" for impl, runs in results.items() for r in runs
                      for n, h in r["entropy"]])
    write("diagnostics", earlier["diagnostics"] + [f"{impl},{r['seed']},{n},{ev:.5f},{kl:.6f},{ok}"
                                                   for impl, runs in results.items() for r in runs
                                                   for n, ev, kl, ok in r["diagnostics"]])
    # Curve points every run has, this invocation's and the earlier ones'.
    shared = set.intersection(*(set(n for n, _ in r["curve"]) for runs in results.values() for r in runs))
    earlier_points = [line.split(",")[0] for line in earlier["scores"]]
    if earlier_points:
        shared &= {int(p) for p in earlier_points if p != "final"}
    kept = [line for line in earlier["scores"] if line.split(",")[0] == "final" or int(line.split(",")[0]) in shared]
    write("scores", kept + [f"final,{impl},{r['seed']},{r['eval']!r}" for impl, runs in results.items() for r in runs]
          + [f"{n},{impl},{r['seed']},{dict(r['curve'])[n]!r}" for n in sorted(shared)
             for impl, runs in results.items() for r in runs])
    return os.path.join(out, f"{env}__scores.csv")


class Curve:
    def __init__(self, freq, episodes):
        self.freq, self.episodes = freq, episodes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--natgrad", required=True)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=1, help="seeds FIRST to FIRST + SEEDS - 1")
    parser.add_argument("--without-sde", action="store_true", help="turn zoo's gSDE off on both sides")
    parser.add_argument("--parallel-critic", action="store_true",
                        help="let natgrad fit its critic on a second core (default: one thread on both sides)")
    parser.add_argument("--steps", type=int, help="override every environment's training steps")
    parser.add_argument("--envs", default="CartPole-v1,Acrobot-v1,MountainCar-v0,MountainCarContinuous-v0,Pendulum-v1",
                        help=f"comma-separated; MuJoCo: {','.join(MUJOCO_ENVS)}")
    parser.add_argument("--eval-episodes", type=int,
                        help="deterministic evaluation episodes per final policy (default 100; 1000 on Pendulum-v1 and "
                             "FrozenLake-v1; 20 on MuJoCo)")
    parser.add_argument("--curve-freq", type=int,
                        help="evaluate during training every this many steps, both sides (default 50000 on MuJoCo, "
                             "0 elsewhere: none)")
    parser.add_argument("--curve-episodes", type=int, default=10, help="episodes per evaluation during training")
    parser.add_argument("--floor-steps", type=int, default=100_000,
                        help="random steps the Python floor is measured on (scaled to the run's steps)")
    parser.add_argument("--out", help="folder for the runs and the result files (default: a new temporary folder)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change a setting on both sides (sb3-contrib's name, e.g. gamma=0.995 or log_std_init=-1.0, "
                             "which sb3-contrib takes in policy_kwargs); repeatable")
    parser.add_argument("--append", action="store_true",
                        help="keep the runs already in OUT's result files and add these seeds to them")
    args = parser.parse_args()
    changes = [parse_setting(text) for text in args.set]
    import platform
    import sb3_contrib
    import torch
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    print(f"machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, torch {torch.__version__}, "
          f"sb3-contrib {sb3_contrib.__version__}; one torch thread each")
    if changes:
        print("changed on both sides: " + ", ".join(f"{key}={value}" for key, value, _ in changes))
    envs = args.envs.split(",")
    for env in envs:
        if env not in SETTINGS:
            raise SystemExit(f"no settings for {env}; choose from {', '.join(SETTINGS)}")
    out = args.out or tempfile.mkdtemp(prefix="natgrad-peer-")
    os.makedirs(out, exist_ok=True)
    record_changes(out, changes, args.append)
    logdir = os.path.join(out, "runs")
    print(f"runs in {logdir}; per environment, ENV__runs.csv, ENV__scores.csv, ENV__statistics.csv, "
          f"ENV__curves.png, ENV__entropy.csv and ENV__diagnostics.csv in {out}")
    for env in envs:
        steps = args.steps or STEPS.get(env, 100_000)
        eval_episodes = args.eval_episodes or EVAL_EPISODES.get(env, 100)
        curve = Curve(CURVE_FREQ.get(env, 0) if args.curve_freq is None else args.curve_freq, args.curve_episodes)
        results = {"natgrad": [], "sb3-contrib": []}
        if args.parallel_critic:
            results[TWO_CORES] = []
        floor_steps = min(steps, args.floor_steps)
        floors = [floor_seconds(env, floor_steps, 0) * steps / floor_steps]
        print(f"  {env} floor: {floors[-1]:.1f} s for {steps} random steps in Python (measured on {floor_steps})"
              + (" (gSDE off on both sides)" if args.without_sde else ""), flush=True)
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        earlier = earlier_rows(out, env, args.append)
        check_new_seeds(earlier, seeds)
        for seed in seeds:
            wall, n, episodes, evaluation, points, entropy, diagnostics = run_natgrad(
                args.natgrad, env, seed, steps, logdir, eval_episodes, args.without_sde, False, curve, changes)
            returns = [e["ret"] for e in evaluation]
            results["natgrad"].append(dict(seed=seed, wall=wall, steps=n, episodes=episodes, returns=returns,
                                           eval=statistics.mean(returns), curve=points, entropy=entropy,
                                           diagnostics=diagnostics))
            if args.parallel_critic:
                wall, n, episodes, evaluation, points, entropy, diagnostics = run_natgrad(
                    args.natgrad, env, seed, steps, logdir + "/2-cores", eval_episodes, args.without_sde, True, curve, changes)
                two = [e["ret"] for e in evaluation]
                if two != returns:
                    raise SystemExit(f"{env} seed {seed}: the critic on a second core changed the evaluation")
                results[TWO_CORES].append(dict(seed=seed, wall=wall, steps=n, episodes=episodes, returns=two,
                                               eval=statistics.mean(two), curve=points, entropy=entropy,
                                               diagnostics=diagnostics))
            wall, n, episodes, returns, points, entropy, diagnostics = run_sb3(
                env, seed, steps, evaluation, args.without_sde, curve, changes)
            with open(os.path.join(out, f"{env}__sb3-contrib__{seed}__evaluation.csv"), "w") as f:
                f.write("episode,return\n" + "".join(f"{i},{r!r}\n" for i, r in enumerate(returns)))
            results["sb3-contrib"].append(dict(seed=seed, wall=wall, steps=n, episodes=episodes, returns=returns,
                                               eval=statistics.mean(returns), curve=points, entropy=entropy,
                                               diagnostics=diagnostics))
            for impl, r in results.items():
                print(f"  {env} {impl} seed {seed}: {r[-1]['wall']:.1f} s, last {WINDOW} training episodes "
                      f"{last_mean(r[-1]['episodes']):.1f}, deterministic evaluation {r[-1]['eval']:.1f}", flush=True)
            # After every seed, so that an interrupted benchmark keeps what it has.
            scores = write_run_files(out, env, results, earlier)
        report(env, steps, args.seeds, results, floors, eval_episodes)
        subprocess.run([args.natgrad, "statistics", scores, "--csv", os.path.join(out, f"{env}__statistics.csv"),
                        "--plot", os.path.join(out, f"{env}__curves.png")], check=True)


if __name__ == "__main__":
    main()
