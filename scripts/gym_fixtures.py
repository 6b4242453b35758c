"""Records golden trajectories of Gymnasium's classic-control environments.

Writes one JSON file per environment in the schema of
envs/tests/fixtures/gymnasium/README.md, which the parity tests
(envs/tests/gymnasium_parity.rs) replay one transition at a time against
natgrad's own environments. Run it through scripts/gym-fixtures, which sets up
the pinned Gymnasium first.

MuJoCo tasks (v5) are recorded in a schema of their own ("mujoco-replay",
see the README): a trajectory is a seed and its actions, with everything
Gymnasium returned and the physical state after each step, replayed from
reset, since a MuJoCo state (the solver's warm start among it) cannot be
written back from qpos and qvel alone.

Everything is seeded: trajectory i of an environment is reset with seed + i and
draws its actions from numpy's PCG64 seeded with (seed, i), so a seed and a
trajectory count name one fixture set. The actions come from a few behaviours
chosen in turn (random, and controllers that reach the goal or survive to the
time limit), so the set holds terminations as well as truncations, and
continuous actions outside the action space (Gymnasium clips them, and the
clipping is part of what is checked).
"""

import argparse
import gzip
import json
import os
import sys

import gymnasium
import numpy as np

GYMNASIUM_VERSION = "1.4.0"

STATE_LAYOUT = {
    "CartPole-v1": ["x", "x_dot", "theta", "theta_dot"],
    "Acrobot-v1": ["theta1", "theta2", "dtheta1", "dtheta2"],
    "MountainCar-v0": ["position", "velocity"],
    "MountainCarContinuous-v0": ["position", "velocity"],
    "Pendulum-v1": ["theta", "theta_dot"],
}

MUJOCO = [
    "Hopper-v5", "Walker2d-v5", "HalfCheetah-v5", "Swimmer-v5", "Ant-v5",
    "InvertedPendulum-v5", "InvertedDoublePendulum-v5", "Reacher-v5", "Humanoid-v5",
]

MUJOCO_SCHEMA = (
    "mujoco-replay: trajectories[i]: seed (reset(seed=seed)), max_episode_steps (the TimeLimit it ran "
    "under), initial_obs, initial_state (qpos then qvel), steps[j]: action (float32 values, may be out "
    "of bounds), obs, reward, terminated, truncated, state (qpos then qvel after the step). All floats "
    "are Python repr of float64 values. See README.md."
)

SCHEMA = (
    "trajectories[i]: initial_state (written to env.unwrapped.state after reset), initial_obs, "
    "final_state, steps[j]: state (before step), action (int, or [float32 value] for Box actions, "
    "may be out of bounds), obs (after step), reward, terminated, truncated. All floats are Python "
    "repr of float64 values. See README.md."
)


def cartpole_action(kind, state, rng):
    x, x_dot, theta, theta_dot = state
    if kind == 0:  # random: falls within a few dozen steps
        return int(rng.integers(2))
    if kind == 1:  # alternating: often survives to the time limit
        return int(rng.integers(2)) if rng.random() < 0.05 else None
    # a noisy PD controller on the pole and the cart: survives, truncated at 500
    push = theta + 0.5 * theta_dot + 0.02 * x + 0.1 * x_dot
    return int(push > 0) if rng.random() > 0.1 else int(rng.integers(2))


def acrobot_action(kind, state, rng):
    if kind == 0:  # random: mostly truncated at 500
        return int(rng.integers(3))
    # pump energy with the torque along the second joint's velocity: swings up
    pump = 2 if state[3] > 0 else 0
    return pump if rng.random() > 0.2 * kind else int(rng.integers(3))


def mountain_car_action(kind, state, rng):
    if kind == 0:  # random: truncated at 200
        return int(rng.integers(3))
    pump = 2 if state[1] >= 0 else 0  # push along the velocity: reaches the flag
    return pump if rng.random() > 0.15 * kind else int(rng.integers(3))


def mountain_car_continuous_action(kind, state, rng):
    if kind == 0:  # random, a third of it outside [-1, 1]: truncated at 999
        return rng.normal(0.0, 1.5)
    # push along the velocity, at an amplitude that is often out of bounds
    amplitude = rng.uniform(0.5, 4.5) if kind == 1 else 1.0
    return np.sign(state[1] if state[1] != 0 else 1.0) * amplitude + rng.normal(0.0, 0.3)


def pendulum_action(kind, state, rng):
    u = rng.random()
    if u < 0.6:
        return rng.uniform(-2.5, 2.5)
    if u < 0.7:  # the bounds themselves
        return float(rng.choice([-2.0, 2.0]))
    if u < 0.8:  # far outside: clipped
        return float(rng.choice([-10.0, 10.0]))
    if u < 0.9:
        return rng.uniform(-10.0, 10.0)
    return 0.0


POLICIES = {
    "CartPole-v1": (cartpole_action, 3),
    "Acrobot-v1": (acrobot_action, 3),
    "MountainCar-v0": (mountain_car_action, 3),
    "MountainCarContinuous-v0": (mountain_car_continuous_action, 3),
    "Pendulum-v1": (pendulum_action, 1),
}


def mujoco_action(kind, env, rng):
    """Random actions inside the bounds, beyond them, on them, and none."""
    low, high = env.action_space.low, env.action_space.high
    u = rng.random()
    if kind != 0 and u < 0.7:  # small actions: the body stays up for longer
        return (0.1 * rng.uniform(low, high)).astype(np.float32)
    if u < 0.6:
        return rng.uniform(low, high).astype(np.float32)
    if u < 0.75:  # beyond the bounds: MuJoCo clamps the control, the cost does not
        return rng.uniform(3 * low, 3 * high).astype(np.float32)
    if u < 0.9:
        return np.where(rng.random(low.shape) < 0.5, low, high).astype(np.float32)
    return np.zeros(low.shape, dtype=np.float32)


def mujoco_record(env_id, seed, index):
    rng = np.random.default_rng([seed, index])
    kind = index % 3
    # Every third trajectory runs under a short time limit, so each set holds
    # truncations as well as the terminations of falling bodies.
    limit = 6 + index if kind == 2 else None
    env = gymnasium.make(env_id, max_episode_steps=limit) if limit else gymnasium.make(env_id)
    state = lambda: floats(np.concatenate([env.unwrapped.data.qpos, env.unwrapped.data.qvel]))
    try:
        obs, _ = env.reset(seed=seed + index)
        trajectory = {
            "seed": seed + index,
            "max_episode_steps": env.spec.max_episode_steps,
            "initial_obs": floats(obs),
            "initial_state": state(),
        }
        steps = []
        while True:
            action = mujoco_action(kind, env, rng)
            obs, reward, terminated, truncated, _ = env.step(action)
            steps.append(
                {
                    "action": [float(a) for a in action],
                    "obs": floats(obs),
                    "reward": float(reward),
                    "terminated": bool(terminated),
                    "truncated": bool(truncated),
                    "state": state(),
                }
            )
            if terminated or truncated:
                break
    finally:
        env.close()
    trajectory["steps"] = steps
    return trajectory


def openblas_core():
    """The OpenBLAS kernel set numpy loaded on this machine ("Haswell", "SkylakeX", ...), or None where numpy
    carries no OpenBLAS that says. It decides the last bit of np.linalg.norm (Reacher's reward): the AVX-512
    kernels fuse multiply and add (natgrad_envs::NumpyDot)."""
    import ctypes
    import glob
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*"))
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_",
                     "openblas_get_corename"):
            function = getattr(lib, name, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                return function().decode().strip()
    return None


def mujoco_fixture(env_id, seed, count):
    return {
        "schema": MUJOCO_SCHEMA,
        "env": env_id,
        "gymnasium_version": gymnasium.__version__,
        "numpy_version": np.__version__,
        "mujoco_version": __import__("mujoco").__version__,
        "openblas_core": openblas_core(),
        "generator": {"script": "scripts/gym_fixtures.py", "seed": seed, "trajectories": count},
        "trajectories": [mujoco_record(env_id, seed, i) for i in range(count)],
    }


def floats(values):
    return np.asarray(values, dtype=np.float64).reshape(-1).tolist()


def record(env, env_id, seed, index):
    rng = np.random.default_rng([seed, index])
    policy, kinds = POLICIES[env_id]
    kind = index % kinds
    continuous = isinstance(env.action_space, gymnasium.spaces.Box)

    obs, _ = env.reset(seed=seed + index)
    trajectory = {"initial_state": floats(env.unwrapped.state), "initial_obs": floats(obs)}
    steps = []
    previous = 1
    while True:
        state = floats(env.unwrapped.state)
        action = policy(kind, state, rng)
        if action is None:  # CartPole's alternating behaviour
            action = 1 - previous
        if continuous:
            value = np.float32(action)
            recorded, passed = [float(value)], np.array([value], dtype=np.float32)
        else:
            recorded = passed = int(action)
            previous = recorded
        obs, reward, terminated, truncated, _ = env.step(passed)
        steps.append(
            {
                "state": state,
                "action": recorded,
                "obs": floats(obs),
                "reward": float(reward),
                "terminated": bool(terminated),
                "truncated": bool(truncated),
            }
        )
        if terminated or truncated:
            break
    trajectory["final_state"] = floats(env.unwrapped.state)
    trajectory["steps"] = steps
    return trajectory


def fixture(env_id, seed, count):
    env = gymnasium.make(env_id)
    try:
        trajectories = [record(env, env_id, seed, i) for i in range(count)]
    finally:
        env.close()
    return {
        "schema": SCHEMA,
        "env": env_id,
        "gymnasium_version": gymnasium.__version__,
        "numpy_version": np.__version__,
        "max_episode_steps": env.spec.max_episode_steps,
        "state_layout": STATE_LAYOUT[env_id],
        "generator": {"script": "scripts/gym_fixtures.py", "seed": seed, "trajectories": count},
        "trajectories": trajectories,
    }


def write(data, path, compress):
    text = json.dumps(data, separators=(",", ":"))
    tmp = path + ".tmp"
    if compress:
        # mtime=0 and no file name: the same data give the same bytes
        with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(text.encode())
    else:
        with open(tmp, "w") as f:
            f.write(text)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder to write <env>.json (or .json.gz) into; created if missing")
    parser.add_argument("--seed", type=int, default=0, help="seed of the whole set (default 0)")
    parser.add_argument("--trajectories", type=int, default=20, help="trajectories per environment (default 20)")
    parser.add_argument("--envs", default=",".join([*STATE_LAYOUT, *MUJOCO]), help="comma-separated ids (default: all)")
    parser.add_argument("--gzip", action="store_true", help="write <env>.json.gz (the repository's own set is stored so)")
    args = parser.parse_args()

    if gymnasium.__version__ != GYMNASIUM_VERSION:
        sys.exit(f"gym_fixtures: Gymnasium {gymnasium.__version__} found, {GYMNASIUM_VERSION} needed: run scripts/gym-fixtures, which installs it")
    if args.trajectories < 1:
        sys.exit("gym_fixtures: --trajectories must be at least 1")
    if args.seed < 0:
        sys.exit("gym_fixtures: --seed must be 0 or more (Gymnasium refuses negative seeds)")
    ids = [e.strip() for e in args.envs.split(",") if e.strip()]
    unknown = [e for e in ids if e not in STATE_LAYOUT and e not in MUJOCO]
    if unknown:
        sys.exit(f"gym_fixtures: unknown environment {', '.join(unknown)}; choose from {', '.join([*STATE_LAYOUT, *MUJOCO])}")

    os.makedirs(args.out, exist_ok=True)
    for env_id in ids:
        make = mujoco_fixture if env_id in MUJOCO else fixture
        data = make(env_id, args.seed, args.trajectories)
        name = f"{env_id}.json.gz" if args.gzip else f"{env_id}.json"
        path = os.path.join(args.out, name)
        write(data, path, args.gzip)
        ends = [t["steps"][-1] for t in data["trajectories"]]
        print(
            f"{path}: {len(ends)} trajectories, {sum(len(t['steps']) for t in data['trajectories'])} transitions, "
            f"{sum(e['terminated'] for e in ends)} terminated, {sum(e['truncated'] for e in ends)} truncated"
        )


if __name__ == "__main__":
    main()
