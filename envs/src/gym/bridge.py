"""natgrad's side of the Gymnasium bridge, run inside natgrad's embedded Python.

Rust calls the functions and methods below with plain values and bytes, and
gets plain values and bytes back, so that one step crosses the language
boundary once. Everything that can go wrong in Python raises; Rust turns the
exception's type and message into an error that names the environment.
"""

import contextlib
import difflib
import importlib
import io
import os
import pickle
import warnings

# MuJoCo renders through GLFW by default, which needs a display; without one,
# EGL renders off-screen (the set-up's Debian packages provide it).
if "MUJOCO_GL" not in os.environ and not os.environ.get("DISPLAY"):
    os.environ["MUJOCO_GL"] = "egl"

import numpy as np
import gymnasium as gym
from gymnasium.vector import AutoresetMode

# An MLP takes flat vectors; past this many values per observation it is an
# image, and needs a CNN or a downsampling wrapper first.
MAX_OBS_VALUES = 10_000


def _mujoco_warnings_as_python_warnings():
    """MuJoCo writes its warnings into MUJOCO_LOG.TXT in the working folder
    (HalfCheetah's XML triggers one at every make); show them on stderr as
    Python warnings instead, each message once."""
    try:
        import mujoco
    except ImportError:
        return
    mujoco.set_mju_user_warning(lambda msg: warnings.warn(f"MuJoCo: {msg.strip()}", RuntimeWarning, stacklevel=1))


_mujoco_warnings_as_python_warnings()


class UnsupportedSpace(Exception):
    """A space natgrad's policies cannot take."""


class BadWrapper(Exception):
    """A wrapper named in --env-wrapper that cannot be found or applied."""


class UnknownId(Exception):
    """An id Gymnasium does not know; the message lists its closest ids."""


# Packages that register more environments when imported (the set-up
# installs them): Atari, MiniGrid and BabyAI, Gymnasium-Robotics.
_PLUGINS = ("ale_py", "minigrid", "gymnasium_robotics")
_plugins_loaded = False


def _load_plugins():
    """Imports the installed plugin packages once, so that their ids are
    known; a package that is missing or fails to import is skipped (its ids
    stay unknown, and the unknown-id error lists what is known)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for name in _PLUGINS:
        # Gymnasium-Robotics 1.4.2 prints a notice about Adroit's reward
        # versions on every import; natgrad's guide says it once.
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            try:
                importlib.import_module(name)
            except Exception:
                pass
    _mend_robotics_joint_types()


class _MujocoWithIntEnums:
    """The `mujoco` module, with its joint and equality enums as plain ints."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if name in ("mjtJoint", "mjtEq"):
            return type(name, (), {k: int(v) for k, v in value.__members__.items()})
        return value


def _mend_robotics_joint_types():
    """Gymnasium-Robotics 1.4.2 asserts `model.jnt_type[j] in (mjJNT_HINGE,
    mjJNT_SLIDE)`. Under MuJoCo 4.0.0 an enum member compared with a numpy
    int answers False instead of deferring, so every Fetch environment
    fails in its constructor. Its joint helpers get the enums as ints; the
    physics is untouched. Applied only while the two disagree."""
    try:
        import mujoco
        from gymnasium_robotics.utils import mujoco_utils
    except Exception:
        return
    if mujoco.mjtJoint.mjJNT_HINGE == np.int32(int(mujoco.mjtJoint.mjJNT_HINGE)):
        return
    if isinstance(mujoco_utils.mujoco, _MujocoWithIntEnums):
        return
    mujoco_utils.mujoco = _MujocoWithIntEnums(mujoco_utils.mujoco)


def registered_ids():
    _load_plugins()
    return sorted(gym.registry.keys())


def closest_ids(env_id, candidates, n=3):
    return difflib.get_close_matches(env_id, candidates, n=n, cutoff=0.6)


def _split_module(env_id):
    """Gymnasium's entry-point form `module:Env-v0`: import the module, which
    registers the environment, and return the bare id."""
    if ":" in env_id:
        module, env_id = env_id.split(":", 1)
        importlib.import_module(module)
    return env_id


# What gymnasium.make raises for an id it does not know.
_UNKNOWN = (gym.error.NameNotFound, gym.error.VersionNotFound, gym.error.NamespaceNotFound)


def _make(env_id, make):
    """`make()`, with Gymnasium's unknown-id errors as UnknownId (Rust adds
    the closest ids); Gymnasium decides what it knows (versionless ids too).
    An id Gymnasium does not know yet is tried again once the plugin
    packages (`ALE/Pong-v5`, `MiniGrid-Empty-5x5-v0`, ...) are imported."""
    try:
        return make()
    except _UNKNOWN as e:
        if _plugins_loaded:
            raise UnknownId(f"{env_id}: {e}") from e
    _load_plugins()
    try:
        return make()
    except _UNKNOWN as e:
        raise UnknownId(f"{env_id}: {e}") from e


def _one_line(space):
    """A space's repr on one line (numpy prints a 2-D nvec over several)."""
    return " ".join(str(space).split())


def _describe_space(space, what):
    """('discrete', n), ('box', low, high, shape), ('multidiscrete', nvec) or
    ('multibinary', n) as plain values; integer spaces counted from 0
    (`_natgrad_observations` and `_decode_actions` shift a `start`)."""
    if isinstance(space, gym.spaces.Discrete):
        return ("discrete", int(space.n))
    if isinstance(space, gym.spaces.MultiDiscrete):
        if len(space.shape) != 1:
            raise UnsupportedSpace(
                f"its {what} space {_one_line(space)} is a MultiDiscrete of shape {space.shape}; natgrad takes a "
                "one-dimensional nvec, as Stable-Baselines3 does: flatten it (gymnasium.wrappers.FlattenObservation "
                "for observations, a gymnasium.ActionWrapper that reshapes a flat action for actions)"
            )
        return ("multidiscrete", [int(n) for n in space.nvec])
    if isinstance(space, gym.spaces.MultiBinary):
        if what == "action" and len(space.shape) != 1:
            raise UnsupportedSpace(
                f"its action space {_one_line(space)} is a MultiBinary of shape {space.shape}; natgrad takes a "
                "one-dimensional MultiBinary(n) action, as Stable-Baselines3 does: flatten it with a "
                "gymnasium.ActionWrapper that reshapes a flat action"
            )
        return ("multibinary", int(np.prod(space.shape)))
    if isinstance(space, gym.spaces.Dict) and what == "observation":
        return ("dict", [(str(key), _describe_key(key, sub)) for key, sub in space.spaces.items()])
    if isinstance(space, gym.spaces.Box):
        size = int(np.prod(space.shape))
        if what == "observation" and size > MAX_OBS_VALUES and not _is_image(space):
            raise UnsupportedSpace(
                f"its observation space {_one_line(space)} holds {size} values per observation, too many for natgrad's MLP "
                f"policies (at most {MAX_OBS_VALUES}) and not an image (a uint8 Box of three dimensions, bounds 0 to "
                "255, which a CNN takes); make it smaller with a wrapper (--env-wrapper)"
            )
        if what == "action" and not np.issubdtype(space.dtype, np.floating):
            raise UnsupportedSpace(
                f"its action space {_one_line(space)} is an integer Box; natgrad takes Discrete, MultiDiscrete, MultiBinary "
                "or float Box actions: wrap it"
            )
        low = np.asarray(space.low, dtype=np.float32).reshape(-1).tolist()
        high = np.asarray(space.high, dtype=np.float32).reshape(-1).tolist()
        return ("box", low, high, [int(d) for d in space.shape], bool(space.dtype == np.uint8))
    raise UnsupportedSpace(
        f"its {what} space is {_one_line(space)}, which natgrad does not take: observations must be a Box (any shape, "
        "flattened), Discrete or MultiDiscrete (one-hot) or MultiBinary, and actions Discrete, MultiDiscrete, "
        "MultiBinary or a Box; flatten it with gymnasium.wrappers.FlattenObservation (Dict, Tuple) or wrap "
        "the environment to use one of those spaces"
    )


def _is_image(space):
    """Stable-Baselines3's `is_image_space`: a uint8 Box of three dimensions
    with bounds 0 and 255 (channels first or last)."""
    return (
        isinstance(space, gym.spaces.Box)
        and len(space.shape) == 3
        and space.dtype == np.uint8
        and bool(np.all(space.low == 0))
        and bool(np.all(space.high == 255))
    )


def _describe_key(key, space):
    """A Dict key's space, which must be one natgrad takes on its own."""
    if isinstance(space, gym.spaces.Dict):
        raise UnsupportedSpace(
            f"its observation key '{key}' is itself a Dict ({_one_line(space)}); natgrad takes one level of "
            "keys, as Stable-Baselines3 does: flatten the inner one with gymnasium.wrappers.FlattenObservation "
            "or keep the keys you need with gymnasium.wrappers.FilterObservation"
        )
    vector = (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)
    if not isinstance(space, vector):
        # Text, MiniGrid's MissionSpace (a string), Tuple, Graph, Sequence.
        kind = "a Text space" if type(space).__name__ in ("Text", "MissionSpace") else "a space"
        raise UnsupportedSpace(
            f"its observation key '{key}' is {kind} ({_one_line(space)}) that no network takes: drop it "
            "(MiniGrid: --env-wrapper minigrid.wrappers.ImgObsWrapper keeps the image alone) or register a "
            "version of the environment without it (gymnasium.wrappers.FilterObservation)"
        )
    return _describe_space(space, "observation")


def _spec_of(env_id, env):
    spec = env.spec
    if spec is None:
        return (env_id, None, None)
    threshold = None if spec.reward_threshold is None else float(spec.reward_threshold)
    return (spec.id, spec.max_episode_steps, threshold)


class FireOnNewLife(gym.Wrapper):
    """Presses FIRE for the agent at the start of every life of an Atari game
    that waits for it (Breakout serves its ball only on FIRE): after a reset,
    and after each step that loses a life. A policy that stops pressing FIRE
    otherwise plays on, ball-less, to ALE's 27,000-step limit. The press is
    one more step of the environment inside the agent's step or reset: its
    reward counts, and an episode that ends on it ends there.

    rl-baselines3-zoo's AtariWrapper does the same with FireResetEnv under
    EpisodicLifeEnv, which also ends the learning episode at each lost life;
    this wrapper does not, so that natgrad's episode statistics and
    evaluations count whole games (the life signal is game-specific
    knowledge that Machado et al. 2018 recommend against). Name it in
    --env-wrapper or a preset as natgrad.wrappers.FireOnNewLife, after
    gymnasium.wrappers.AtariPreprocessing and before FrameStackObservation."""

    def __init__(self, env):
        super().__init__(env)
        ale = getattr(env.unwrapped, "ale", None)
        meanings = env.unwrapped.get_action_meanings() if ale is not None else []
        if "FIRE" not in meanings:
            what = "is not an Atari game" if ale is None else f"has no FIRE action (its actions: {', '.join(meanings)})"
            raise BadWrapper(
                f"--env-wrapper natgrad.wrappers.FireOnNewLife: {env.spec.id if env.spec else env} {what}; "
                "leave the wrapper out for it"
            )
        self._ale = ale
        self._fire = meanings.index("FIRE")
        self._lives = 0

    def reset(self, **kwargs):
        self.env.reset(**kwargs)
        obs, _, terminated, truncated, info = self.env.step(self._fire)
        if terminated or truncated:  # a game that ends on its first press: start it again, unpressed
            obs, info = self.env.reset(**kwargs)
        self._lives = self._ale.lives()
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = self._ale.lives()
        if lives < self._lives and not (terminated or truncated):
            obs, press_reward, terminated, truncated, info = self.env.step(self._fire)
            reward += press_reward
            lives = self._ale.lives()
        self._lives = lives
        return obs, reward, terminated, truncated, info


def _expose_own_wrappers():
    """natgrad's own wrappers as the module natgrad.wrappers, so that
    --env-wrapper, presets and config.toml name them like any other."""
    import sys
    import types

    wrappers = types.ModuleType("natgrad.wrappers", "natgrad's own Gymnasium wrappers")
    wrappers.FireOnNewLife = FireOnNewLife
    package = types.ModuleType("natgrad", "natgrad's Python side")
    package.wrappers = wrappers
    sys.modules.setdefault("natgrad", package)
    sys.modules.setdefault("natgrad.wrappers", wrappers)


_expose_own_wrappers()


def _wrapper_class(path):
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as e:
        raise BadWrapper(f"--env-wrapper {path}: module {module} cannot be imported ({e}); is its package installed?") from e
    except AttributeError as e:
        raise BadWrapper(f"--env-wrapper {path}: module {module} has no {name}") from e


def _user_wrappers(wrappers):
    """Functions that apply the user's wrappers (path, kwargs), in order."""
    applied = []
    for path, kwargs in wrappers:
        cls = _wrapper_class(path)

        def wrap(env, cls=cls, path=path, kwargs=kwargs):
            try:
                return cls(env, **kwargs)
            except TypeError as e:
                raise BadWrapper(f"--env-wrapper {path}: {e}") from e

        applied.append(wrap)
    return applied


def _wrapped(env, wrappers):
    try:
        for wrap in wrappers:
            env = wrap(env)
    except Exception:
        env.close()
        raise
    return env


def _start_of(space):
    """Where an integer space's values start (0 for the others)."""
    return getattr(space, "start", 0) if isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete)) else 0


class FlatDict(gym.ObservationWrapper):
    """A Dict observation as one float32 vector: each key's values flattened,
    one key after another in the space's order, integer keys counted from 0.
    natgrad's encoding then one-hots the integer keys (it knows the keys
    from `natgrad_observation_space`, the Dict itself)."""

    def __init__(self, env):
        super().__init__(env)
        space = env.observation_space
        self.natgrad_observation_space = space
        self._keys = [(key, _start_of(sub)) for key, sub in space.spaces.items()]
        size = sum(int(np.prod(sub.shape)) if sub.shape else 1 for sub in space.spaces.values())
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)

    def observation(self, observation):
        parts = [(np.asarray(observation[key]) - start).astype(np.float32).reshape(-1) for key, start in self._keys]
        return np.concatenate(parts)


def _natgrad_observations(env):
    """`env`, its observations as natgrad's encoding takes them: Discrete or
    MultiDiscrete ones counted from 0 if their space starts elsewhere
    (Discrete(5, start=-2)), and a Dict as one vector (`FlatDict`)."""
    space = env.observation_space
    if isinstance(space, gym.spaces.Dict):
        try:
            _describe_space(space, "observation")  # refuses what cannot be flattened before flattening it
        except Exception:
            env.close()
            raise
        return FlatDict(env)
    if isinstance(space, gym.spaces.Discrete) and int(space.start) != 0:
        start = space.start
        return gym.wrappers.TransformObservation(env, lambda obs: obs - start, gym.spaces.Discrete(int(space.n)))
    if isinstance(space, gym.spaces.MultiDiscrete) and np.any(space.start != 0):
        start = space.start
        zero_based = gym.spaces.MultiDiscrete(space.nvec, dtype=space.dtype)
        return gym.wrappers.TransformObservation(env, lambda obs: obs - start, zero_based)
    return env


def _observation_space_of(env):
    """The observation space natgrad describes: a flattened Dict's own."""
    try:
        return env.get_wrapper_attr("natgrad_observation_space")
    except AttributeError:
        return env.observation_space


class Snapshots(gym.Wrapper):
    """Outermost wrapper of every copy: saves and restores the state of a
    MuJoCo environment (physics with the solver's warm start, random generator,
    time limit), exactly, as `natgrad_state` (bytes, or None where it cannot).
    Any other environment is saved the same way if it defines
    `natgrad_get_state()` (returning something picklable) and
    `natgrad_set_state(state)`: natgrad keeps its random generator and the
    wrappers' counters itself. It also holds the observation space natgrad
    describes, where vector environments can read it (`get_attr`)."""

    def __init__(self, env):
        super().__init__(env)
        self.natgrad_observation_space = _observation_space_of(env)

    @property
    def natgrad_state(self):
        unwrapped = self.env.unwrapped
        if _is_mujoco(unwrapped):
            import mujoco

            spec = mujoco.mjtState.mjSTATE_INTEGRATION
            physics = np.empty(mujoco.mj_stateSize(unwrapped.model, spec))
            mujoco.mj_getState(unwrapped.model, unwrapped.data, physics, spec)
            own = None
        elif _saves_itself(unwrapped):
            physics, own = None, unwrapped.natgrad_get_state()
        else:
            return None
        return pickle.dumps(
            {
                "physics": physics,
                "own": own,
                "rng": unwrapped.np_random.bit_generator.state,
                "wrappers": [_wrapper_state(w) for w in _wrapper_chain(self.env)],
            }
        )

    @natgrad_state.setter
    def natgrad_state(self, blob):
        saved = pickle.loads(blob)
        unwrapped = self.env.unwrapped
        if saved["physics"] is not None:
            import mujoco

            spec = mujoco.mjtState.mjSTATE_INTEGRATION
            mujoco.mj_setState(unwrapped.model, unwrapped.data, saved["physics"], spec)
            mujoco.mj_forward(unwrapped.model, unwrapped.data)
        else:
            unwrapped.natgrad_set_state(saved["own"])
        unwrapped.np_random.bit_generator.state = saved["rng"]
        for wrapper, state in zip(_wrapper_chain(self.env), saved["wrappers"]):
            wrapper.__dict__.update(state)


def _is_mujoco(unwrapped):
    try:
        from gymnasium.envs.mujoco.mujoco_env import MujocoEnv
    except Exception:
        return False
    return isinstance(unwrapped, MujocoEnv)


def _saves_itself(unwrapped):
    """Whether a user's environment offers natgrad its own state."""
    return callable(getattr(unwrapped, "natgrad_get_state", None)) and callable(
        getattr(unwrapped, "natgrad_set_state", None)
    )


def _wrapper_chain(env):
    while isinstance(env, gym.Wrapper):
        yield env
        env = env.env


# The per-episode bookkeeping of Gymnasium's default wrappers.
_WRAPPER_FIELDS = ("_elapsed_steps", "_has_reset")


def _wrapper_state(wrapper):
    return {k: v for k, v in wrapper.__dict__.items() if k in _WRAPPER_FIELDS}



def _describe(holder, env_id, observation_space, action_space, batch):
    """Sets what Rust reads of an environment (its spaces and spec) and how
    its actions arrive (`batch` + the action shape); closes the environment
    if a space is one natgrad cannot take."""
    try:
        holder.obs_space = _describe_space(observation_space, "observation")
        holder.action_space = _describe_space(action_space, "action")
        holder.spec = _spec_of(env_id, holder.env)
    except Exception:
        holder.env.close()
        raise
    holder.action_shape = batch + tuple(action_space.shape)
    holder.action_dtype = action_space.dtype
    holder.action_floats = isinstance(action_space, gym.spaces.Box)
    holder.discrete_start = int(action_space.start) if isinstance(action_space, gym.spaces.Discrete) else None
    holder.action_start = getattr(action_space, "start", 0) if not holder.action_floats else None


def _decode_actions(holder, raw):
    """Actions from Rust's bytes: float32 for a Box (cast to the space's
    dtype), int64 indices shifted by a Discrete or MultiDiscrete space's
    start and cast to its dtype (MultiBinary: int8 bits)."""
    if holder.action_floats:
        return np.frombuffer(raw, dtype=np.float32).reshape(holder.action_shape).astype(holder.action_dtype)
    indices = np.frombuffer(raw, dtype=np.int64).reshape(holder.action_shape) + holder.action_start
    return indices.astype(holder.action_dtype)


def _success_of(info):
    """An ended episode's success as 1 or 0, from its last `info`; -1 where
    the environment does not say."""
    for key in ("is_success", "success"):
        if key in info:
            return int(bool(info[key]))
    return -1


def _successes_of(final_info, n):
    """Per copy, as `_success_of`, from a vector environment's `final_info`
    (arrays with a mask per key)."""
    out = np.full(n, -1, dtype=np.int8)
    for key in ("success", "is_success"):  # is_success wins where both are given
        if key in final_info:
            mask = final_info.get("_" + key, np.ones(n, dtype=bool))
            out[mask] = np.asarray(final_info[key])[mask].astype(bool)
    return out


class Loop:
    """N copies stepped one after another in this process, with same-step
    autoreset: what Gymnasium's SyncVectorEnv does (copy i reset with seed + i,
    an ended episode reset at once without a seed, its last observation kept),
    without merging every copy's info dict into arrays on every step, which
    natgrad does not read and which cost 14% of a Hopper-v5 step."""

    def __init__(self, env_id, kwargs, num_envs, wrappers):
        env_id = _split_module(env_id)
        wrappers = _user_wrappers(wrappers)
        self.envs = []
        try:
            for _ in range(num_envs):
                env = _wrapped(_make(env_id, lambda: gym.make(env_id, **kwargs)), wrappers)
                self.envs.append(Snapshots(_natgrad_observations(env)))
        except Exception:
            self.close()
            raise
        self.env = self.envs[0]
        try:
            _describe(self, env_id, self.env.natgrad_observation_space, self.env.action_space, (num_envs,))
        except Exception:
            for env in self.envs[1:]:
                env.close()
            raise
        self.num_envs = num_envs
        self.obs_size = int(np.prod(self.env.observation_space.shape))

    def _obs_bytes(self, rows):
        return np.ascontiguousarray(np.asarray(rows, dtype=np.float32).reshape(self.num_envs, -1)).tobytes()

    def reset(self, seed):
        obs = [env.reset(seed=None if seed is None else seed + i)[0] for i, env in enumerate(self.envs)]
        return self._obs_bytes(obs)

    def step(self, actions):
        n = self.num_envs
        obs = [None] * n
        rewards = np.empty(n, dtype=np.float64)
        terminated = np.empty(n, dtype=np.bool_)
        truncated = np.empty(n, dtype=np.bool_)
        final = None
        successes = None
        for i, (env, action) in enumerate(zip(self.envs, _decode_actions(self, actions))):
            obs[i], rewards[i], terminated[i], truncated[i], info = env.step(action)
            if terminated[i] or truncated[i]:
                if final is None:
                    final = np.zeros((n, self.obs_size), dtype=np.float32)
                final[i] = np.asarray(obs[i], dtype=np.float32).reshape(-1)
                success = _success_of(info)
                if success >= 0:
                    if successes is None:
                        successes = np.full(n, -1, dtype=np.int8)
                    successes[i] = success
                obs[i], _ = env.reset()
        return (
            self._obs_bytes(obs),
            rewards.tobytes(),
            terminated.tobytes(),
            truncated.tobytes(),
            None if final is None else final.tobytes(),
            None if successes is None else successes.tobytes(),
        )

    def states(self):
        return [env.natgrad_state for env in self.envs]

    def set_states(self, states):
        for env, state in zip(self.envs, states):
            env.natgrad_state = state

    def close(self):
        for env in self.envs:
            env.close()


class Copies:
    """N copies in Gymnasium's AsyncVectorEnv (worker processes), with
    same-step autoreset, as natgrad's own vector environment."""

    def __init__(self, env_id, kwargs, num_envs, mode, wrappers):
        env_id = _split_module(env_id)
        wrappers = _user_wrappers(wrappers)
        self.env = _make(
            env_id,
            lambda: gym.make_vec(
                env_id,
                num_envs=num_envs,
                vectorization_mode=mode,
                vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
                wrappers=[*wrappers, _natgrad_observations, Snapshots],
                **kwargs,
            ),
        )
        observation_space = self.env.get_attr("natgrad_observation_space")[0]
        _describe(self, env_id, observation_space, self.env.single_action_space, (num_envs,))
        self.num_envs = num_envs

    def _obs_bytes(self, obs):
        return np.ascontiguousarray(np.asarray(obs, dtype=np.float32).reshape(self.num_envs, -1)).tobytes()

    def reset(self, seed):
        obs, _ = self.env.reset(seed=seed)
        return self._obs_bytes(obs)

    def step(self, actions):
        a = _decode_actions(self, actions)
        obs, rewards, terminated, truncated, info = self.env.step(a)
        final = None
        successes = None
        if "_final_obs" in info:
            mask = info["_final_obs"]
            rows = [info["final_obs"][i] if mask[i] else np.zeros_like(obs[i]) for i in range(self.num_envs)]
            final = self._obs_bytes(np.stack(rows))
        if "final_info" in info:
            found = _successes_of(info["final_info"], self.num_envs)
            successes = found.tobytes() if np.any(found >= 0) else None
        return (
            self._obs_bytes(obs),
            np.asarray(rewards, dtype=np.float64).tobytes(),
            np.asarray(terminated, dtype=np.bool_).tobytes(),
            np.asarray(truncated, dtype=np.bool_).tobytes(),
            final,
            successes,
        )

    def states(self):
        return list(self.env.get_attr("natgrad_state"))

    def set_states(self, states):
        self.env.set_attr("natgrad_state", list(states))

    def close(self):
        self.env.close()


def _follow_tracked_body(unwrapped):
    """Points a MuJoCo environment's free camera at the body its camera
    configuration names (`trackbodyid`: Hopper's, Walker2d's, HalfCheetah's
    torso). Gymnasium 1.4 keeps that camera free, so a walker that moves
    on leaves the picture after a few metres."""
    if not _is_mujoco(unwrapped):
        return
    renderer = unwrapped.mujoco_renderer
    body = (renderer.default_cam_config or {}).get("trackbodyid")
    if body is None or renderer.camera_id not in (None, -1):
        return
    viewer = renderer._get_viewer("rgb_array")
    viewer.cam.lookat[:2] = unwrapped.data.xpos[body][:2]


class Single:
    """One copy from gymnasium.make, without automatic reset, as natgrad's Env."""

    def __init__(self, env_id, kwargs, wrappers):
        env_id = _split_module(env_id)
        env = _wrapped(_make(env_id, lambda: gym.make(env_id, **kwargs)), _user_wrappers(wrappers))
        self.env = Snapshots(_natgrad_observations(env))
        _describe(self, env_id, self.env.natgrad_observation_space, self.env.action_space, ())

    def reset(self, seed):
        obs, _ = self.env.reset(seed=seed)
        return np.asarray(obs, dtype=np.float32).reshape(-1).tobytes()

    def step(self, action):
        a = _decode_actions(self, action)
        if self.discrete_start is not None:
            a = int(a)
        obs, reward, terminated, truncated, info = self.env.step(a)
        obs = np.asarray(obs, dtype=np.float32).reshape(-1).tobytes()
        return (obs, float(reward), bool(terminated), bool(truncated), _success_of(info))

    def render(self):
        """(rgb bytes, height, width) of `env.render()` in rgb_array mode."""
        if self.env.render_mode != "rgb_array":
            raise UnsupportedSpace(
                f"it was made with render_mode={self.env.render_mode!r}; natgrad draws it with "
                "render_mode='rgb_array' (natgrad eval --gif asks for that itself)"
            )
        _follow_tracked_body(self.env.unwrapped)
        frame = self.env.render()
        if isinstance(frame, list):  # rgb_array_list
            frame = frame[-1]
        frame = np.ascontiguousarray(np.asarray(frame, dtype=np.uint8))
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise UnsupportedSpace(f"its render() gave an array of shape {frame.shape}, not an RGB picture")
        return frame.tobytes(), int(frame.shape[0]), int(frame.shape[1])

    def unwrapped_state(self):
        """CartPole-style `env.unwrapped.state` as floats, or None."""
        state = getattr(self.env.unwrapped, "state", None)
        return None if state is None else [float(v) for v in np.asarray(state, dtype=np.float64).reshape(-1)]

    def set_unwrapped_state(self, values):
        self.env.unwrapped.state = np.array(values, dtype=np.float64)

    def close(self):
        self.env.close()
