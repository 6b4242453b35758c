//! The Gymnasium bridge: every environment that Gymnasium 1.x can make, run by
//! Gymnasium itself in an embedded CPython (pyo3), behind natgrad's own
//! [`Env`] and [`VectorEnv`] traits.
//!
//! Why embedded and not worker processes: on a 2-core machine, collecting a
//! Hopper-v5 rollout through this bridge takes about 5% longer than stepping
//! the environment in Python alone, while the pipe round trip to worker
//! processes (Gymnasium's `AsyncVectorEnv`) adds 140 to 240 µs to every vector
//! step, more than a MuJoCo step (docs/speed.md, "The bridge", has the
//! figures). Several copies still step through Gymnasium's own vector
//! environments: sync by default, async (worker processes) as a setting for
//! machines with cores to spare.
//!
//! One step crosses the boundary once: actions go in as bytes, observations,
//! rewards and flags come back as bytes (`bridge.py` does the numpy side).

mod python;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::env::{Env, EnvSnapshot, EnvSpec, Observation, RgbImage, Step};
use crate::error::EnvError;
use crate::options::{KwValue, MakeOptions, VectorMode};
use crate::space::{Action, BoxSpace, Space};
use crate::vector::{EpisodeTracker, Restored, VecActions, VecStep, VectorEnv, check_actions};

/// The ids Gymnasium has registered, or why Gymnasium cannot be reached.
pub fn gym_ids() -> Result<Vec<String>, EnvError> {
    python::registered_ids("natgrad envs")
}

/// Runs `function(argument)` of the Python module `code` (named `name`) in
/// the embedded interpreter that runs Gymnasium, with the same packages:
/// for the application's own uses of Python (Optuna). Text in, text out, so
/// that nothing above this crate deals with Python objects; an exception
/// is a one-line [`EnvError::Python`].
pub fn run_python(code: &str, name: &str, function: &str, argument: &str) -> Result<String, EnvError> {
    python::run_module(code, name, function, argument)
}

/// What Python told us about an environment when making it.
struct Described {
    spec: EnvSpec,
    observation_space: Space,
    action_space: Space,
}

fn space_of(value: &Bound<'_, PyAny>) -> PyResult<Space> {
    let kind: String = value.get_item(0)?.extract()?;
    match kind.as_str() {
        "discrete" => return Ok(Space::Discrete { n: value.get_item(1)?.extract()? }),
        "multidiscrete" => return Ok(Space::MultiDiscrete { nvec: value.get_item(1)?.extract()? }),
        "multibinary" => return Ok(Space::MultiBinary { n: value.get_item(1)?.extract()? }),
        "dict" => {
            let mut keys = vec![];
            for item in value.get_item(1)?.try_iter()? {
                let item = item?;
                keys.push((item.get_item(0)?.extract()?, space_of(&item.get_item(1)?)?));
            }
            return Ok(Space::Dict { keys });
        }
        _ => {}
    }
    let low: Vec<f32> = value.get_item(1)?.extract()?;
    let high: Vec<f32> = value.get_item(2)?.extract()?;
    let shape: Vec<usize> = value.get_item(3)?.extract()?;
    let uint8: bool = value.get_item(4)?.extract()?;
    Ok(Space::Box(BoxSpace { low, high, shape, uint8 }))
}

fn describe(handle: &Bound<'_, PyAny>, id: &str, options: &MakeOptions) -> PyResult<Described> {
    let spec = handle.getattr("spec")?;
    let registered_limit: Option<usize> = spec.get_item(1)?.extract()?;
    Ok(Described {
        spec: EnvSpec {
            id: id.to_owned(),
            max_episode_steps: options.max_episode_steps.or(registered_limit),
            reward_threshold: spec.get_item(2)?.extract()?,
        },
        observation_space: space_of(&handle.getattr("obs_space")?)?,
        action_space: space_of(&handle.getattr("action_space")?)?,
    })
}

/// `gymnasium.make`'s keyword arguments: the user's, plus the time limit.
fn kwargs<'py>(py: Python<'py>, options: &MakeOptions) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in &options.kwargs {
        set_kwarg(&dict, key, value)?;
    }
    if let Some(limit) = options.max_episode_steps {
        dict.set_item("max_episode_steps", limit)?;
    }
    Ok(dict)
}

/// The wrappers for `bridge.py`: a list of (`module.Class`, keyword arguments).
fn wrappers<'py>(py: Python<'py>, options: &MakeOptions) -> PyResult<Vec<(String, Bound<'py, PyDict>)>> {
    options
        .wrappers
        .iter()
        .map(|w| {
            let dict = PyDict::new(py);
            for (key, value) in &w.kwargs {
                set_kwarg(&dict, key, value)?;
            }
            Ok((w.path.clone(), dict))
        })
        .collect()
}

fn set_kwarg(dict: &Bound<'_, PyDict>, key: &str, value: &KwValue) -> PyResult<()> {
    dict.set_item(key, python_value(dict.py(), value)?)
}

/// A keyword argument's value as the Python object Gymnasium gets.
fn python_value<'py>(py: Python<'py>, value: &KwValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        KwValue::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        KwValue::Int(i) => i.into_pyobject(py)?.into_any(),
        KwValue::Float(f) => f.into_pyobject(py)?.into_any(),
        KwValue::Str(s) => s.into_pyobject(py)?.into_any(),
        KwValue::Tuple(items) => {
            let items = items.iter().map(|v| python_value(py, v)).collect::<PyResult<Vec<_>>>()?;
            pyo3::types::PyTuple::new(py, items)?.into_any()
        }
    })
}

/// The id Gymnasium sees: without natgrad's `gym:` prefix.
fn gym_id(id: &str) -> &str {
    id.strip_prefix("gym:").unwrap_or(id)
}

fn f32s(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes.chunks_exact(4).map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

/// The first non-finite value of a slice, as (index, value).
fn first_non_finite<T: Copy + Into<f64>>(values: &[T]) -> Option<(usize, f64)> {
    values.iter().map(|v| (*v).into()).enumerate().find(|(_, v): &(usize, f64)| !v.is_finite())
}

/// One environment from `gymnasium.make`, as an [`Env`]; no automatic reset.
pub struct GymEnv {
    handle: Py<PyAny>,
    described: Described,
    obs_dim: usize,
    steps: u64,
    success: Option<bool>,
}

impl GymEnv {
    /// `gymnasium.make(id, **kwargs)`; `id` may carry natgrad's `gym:` prefix
    /// or Gymnasium's `module:` one.
    pub fn make(id: &str, options: &MakeOptions) -> Result<Self, EnvError> {
        python::with_bridge(id, "make", |py, bridge| {
            let handle = bridge.getattr("Single")?.call1((gym_id(id), kwargs(py, options)?, wrappers(py, options)?))?;
            let described = describe(&handle, id, options)?;
            let obs_dim = described.observation_space.flat_dim();
            Ok(Self { handle: handle.unbind(), described, obs_dim, steps: 0, success: None })
        })
    }

    /// Gymnasium's `env.unwrapped.state` (CartPole, Pendulum, ...), if it has one.
    pub fn unwrapped_state(&self) -> Result<Option<Vec<f64>>, EnvError> {
        self.call("unwrapped_state", |h| h.call_method0("unwrapped_state")?.extract())
    }

    /// Writes `env.unwrapped.state`, as the parity tests do with native ones.
    pub fn set_unwrapped_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        self.call("set_unwrapped_state", |h| h.call_method1("set_unwrapped_state", (state.to_vec(),)).map(drop))
    }

    fn call<T>(&self, during: &str, f: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<T>) -> Result<T, EnvError> {
        python::call(&self.described.spec.id, during, |py| f(self.handle.bind(py)))
    }

    /// The observation's size against the space, then its values.
    fn check_obs(&self, obs: &[f32], during: &'static str) -> Result<(), EnvError> {
        check_size(&self.described.spec.id, during, self.obs_dim, obs.len())?;
        check_finite(&self.described.spec.id, "observation", obs, self.steps, 0)
    }
}

/// Observations must fill the observation space exactly: a buggy environment
/// must not shift every later value silently.
fn check_size(id: &str, during: &'static str, expected: usize, got: usize) -> Result<(), EnvError> {
    if expected == got { Ok(()) } else { Err(EnvError::ObservationSize { id: id.to_owned(), during, expected, got }) }
}

fn check_finite<T: Copy + Into<f64>>(
    id: &str,
    what: &'static str,
    values: &[T],
    step: u64,
    copy: usize,
) -> Result<(), EnvError> {
    match first_non_finite(values) {
        None => Ok(()),
        Some((index, value)) => Err(EnvError::NonFiniteFromEnv { id: id.to_owned(), what, value, index, step, copy }),
    }
}

impl Env for GymEnv {
    fn spec(&self) -> &EnvSpec {
        &self.described.spec
    }
    fn observation_space(&self) -> &Space {
        &self.described.observation_space
    }
    fn action_space(&self) -> &Space {
        &self.described.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<Observation, EnvError> {
        let bytes: Vec<u8> = self.call("reset", |h| h.call_method1("reset", (seed,))?.extract())?;
        self.success = None;
        let obs: Observation = f32s(&bytes).collect();
        self.check_obs(&obs, "reset")?;
        Ok(obs)
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step, EnvError> {
        self.described.action_space.check_action(action)?;
        let bytes = match action {
            Action::Discrete(a) => a.to_ne_bytes().to_vec(),
            Action::Continuous(x) => f32_bytes(x),
            Action::Indices(a) => a.iter().flat_map(|v| v.to_ne_bytes()).collect(),
        };
        let (obs, reward, terminated, truncated, success): (Vec<u8>, f64, bool, bool, i8) =
            self.call("step", |h| h.call_method1("step", (PyBytes::new(h.py(), &bytes),))?.extract())?;
        self.steps += 1;
        self.success = (success >= 0).then_some(success == 1);
        let obs: Observation = f32s(&obs).collect();
        self.check_obs(&obs, "step")?;
        check_finite(&self.described.spec.id, "reward", &[reward], self.steps, 0)?;
        Ok(Step { obs, reward, terminated, truncated })
    }

    fn state(&self) -> Option<Vec<f64>> {
        self.unwrapped_state().ok().flatten()
    }

    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        self.set_unwrapped_state(state)
    }

    fn snapshot(&self) -> Result<EnvSnapshot, EnvError> {
        let blob: Option<Vec<u8>> = self.call("snapshot", |h| h.getattr("env")?.getattr("natgrad_state")?.extract())?;
        match blob {
            Some(blob) => Ok(EnvSnapshot(python::bytes_to_words(&blob))),
            None => Err(EnvError::NotRestorable { id: self.described.spec.id.clone() }),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        let blob = python::words_to_bytes(&snapshot.0)?;
        self.call("restore", |h| h.getattr("env")?.setattr("natgrad_state", PyBytes::new(h.py(), &blob)))
    }

    fn render_rgb(&mut self) -> Result<Option<RgbImage>, EnvError> {
        let (pixels, height, width): (Vec<u8>, usize, usize) =
            self.call("render", |h| h.call_method0("render")?.extract())?;
        Ok(Some(RgbImage { width, height, pixels }))
    }

    fn success(&self) -> Option<bool> {
        self.success
    }
}

impl Drop for GymEnv {
    fn drop(&mut self) {
        python::close(&self.handle);
    }
}

/// N copies in one of Gymnasium's own vector environments, as a [`VectorEnv`].
pub struct GymVecEnv {
    handle: Py<PyAny>,
    described: Described,
    n: usize,
    obs_dim: usize,
    action_dim: usize,
    obs: Vec<f32>,
    final_obs: Vec<f32>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    tracker: EpisodeTracker,
    steps: u64,
    was_reset: bool,
}

impl GymVecEnv {
    /// Sync: the copies stepped in a loop in this process (`bridge.Loop`, what
    /// Gymnasium's SyncVectorEnv does, without its per-step info merging);
    /// async: `gymnasium.make_vec(id, num_envs, "async",
    /// autoreset_mode=SAME_STEP, **kwargs)`.
    pub fn make(id: &str, num_envs: usize, options: &MakeOptions) -> Result<Self, EnvError> {
        if num_envs == 0 {
            return Err(EnvError::NoEnvs);
        }
        let make = |py: Python<'_>, bridge: &Bound<'_, PyModule>| -> PyResult<(Py<PyAny>, Described)> {
            let handle = match options.vector_mode {
                VectorMode::Sync => {
                    let args = (gym_id(id), kwargs(py, options)?, num_envs, wrappers(py, options)?);
                    bridge.getattr("Loop")?.call1(args)?
                }
                VectorMode::Async => {
                    let args = (gym_id(id), kwargs(py, options)?, num_envs, "async", wrappers(py, options)?);
                    bridge.getattr("Copies")?.call1(args)?
                }
            };
            let described = describe(&handle, id, options)?;
            Ok((handle.unbind(), described))
        };
        let (handle, described) = match options.vector_mode {
            // Worker processes must not see the terminal's Ctrl-C: natgrad
            // finishes its iteration and closes them itself.
            VectorMode::Async => python::with_stop_signals_blocked(|| python::with_bridge(id, "make_vec", make))?,
            VectorMode::Sync => python::with_bridge(id, "make_vec", make)?,
        };
        let obs_dim = described.observation_space.flat_dim();
        let action_dim = described.action_space.flat_dim();
        Ok(Self {
            handle,
            described,
            n: num_envs,
            obs_dim,
            action_dim,
            obs: vec![0.0; num_envs * obs_dim],
            final_obs: vec![0.0; num_envs * obs_dim],
            rewards: vec![0.0; num_envs],
            terminated: vec![false; num_envs],
            truncated: vec![false; num_envs],
            tracker: EpisodeTracker::new(num_envs),
            steps: 0,
            was_reset: false,
        })
    }

    fn call<T>(&self, during: &str, f: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<T>) -> Result<T, EnvError> {
        python::call(&self.described.spec.id, during, |py| f(self.handle.bind(py)))
    }

    /// The first non-finite observation row, named by copy and step.
    fn check_rows(&self, what: &'static str, values: &[f32]) -> Result<(), EnvError> {
        match first_non_finite(values) {
            None => Ok(()),
            Some((at, value)) => Err(EnvError::NonFiniteFromEnv {
                id: self.described.spec.id.clone(),
                what,
                value,
                index: at % self.obs_dim,
                step: self.steps,
                copy: at / self.obs_dim,
            }),
        }
    }

    fn action_bytes(&self, actions: VecActions<'_>) -> Vec<u8> {
        match actions {
            VecActions::Discrete(a) | VecActions::Indices(a) => a.iter().flat_map(|v| v.to_ne_bytes()).collect(),
            VecActions::Continuous(x) => f32_bytes(x),
        }
    }
}

/// Observations, rewards, terminated and truncated flags, final observations
/// where an episode ended, and successes (-1, 0 or 1 per copy) where one said.
type StepBytes = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

impl VectorEnv for GymVecEnv {
    fn num_envs(&self) -> usize {
        self.n
    }
    fn spec(&self) -> &EnvSpec {
        &self.described.spec
    }
    fn observation_space(&self) -> &Space {
        &self.described.observation_space
    }
    fn action_space(&self) -> &Space {
        &self.described.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let bytes: Vec<u8> = self.call("reset", |h| h.call_method1("reset", (seed,))?.extract())?;
        let id = &self.described.spec.id;
        check_size(id, "reset", self.n * self.obs_dim, bytes.len() / 4)?;
        self.obs.clear();
        self.obs.extend(f32s(&bytes));
        self.check_rows("observation", &self.obs)?;
        self.tracker.clear();
        self.was_reset = true;
        Ok(&self.obs)
    }

    fn observations(&self) -> &[f32] {
        &self.obs
    }

    fn step(&mut self, actions: VecActions<'_>) -> Result<VecStep<'_>, EnvError> {
        if !self.was_reset {
            return Err(EnvError::NotReset);
        }
        check_actions(&self.described.action_space, self.n, self.action_dim, actions)?;
        let bytes = self.action_bytes(actions);
        let (obs, rewards, terminated, truncated, final_obs, successes): StepBytes =
            self.call("step", |h| h.call_method1("step", (PyBytes::new(h.py(), &bytes),))?.extract())?;
        self.steps += 1;
        let id = &self.described.spec.id;
        check_size(id, "step", self.n * self.obs_dim, obs.len() / 4)?;
        if let Some(f) = &final_obs {
            check_size(id, "step (final observation)", self.n * self.obs_dim, f.len() / 4)?;
        }
        self.obs.clear();
        self.obs.extend(f32s(&obs));
        for (i, c) in rewards.chunks_exact(8).enumerate() {
            self.rewards[i] = f64::from_ne_bytes(c.try_into().expect("8 bytes"));
        }
        for i in 0..self.n {
            self.terminated[i] = terminated[i] != 0;
            self.truncated[i] = truncated[i] != 0;
        }
        if let Some(final_obs) = final_obs {
            self.final_obs.clear();
            self.final_obs.extend(f32s(&final_obs));
        }
        self.check_rows("observation", &self.obs)?;
        self.check_rows("final observation", &self.final_obs)?;
        if let Some((copy, value)) = first_non_finite(&self.rewards) {
            let id = self.described.spec.id.clone();
            return Err(EnvError::NonFiniteFromEnv { id, what: "reward", value, index: 0, step: self.steps, copy });
        }
        self.tracker.finished.clear();
        for i in 0..self.n {
            let success = successes.as_ref().and_then(|s| match s.get(i) {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            });
            self.tracker.record_with_success(i, self.rewards[i], self.terminated[i] || self.truncated[i], success);
        }
        Ok(VecStep::new(
            &self.obs,
            &self.rewards,
            &self.terminated,
            &self.truncated,
            &self.tracker.finished,
            &self.final_obs,
            self.obs_dim,
        ))
    }

    /// Layout: was-reset flag, copy count, restorable flag, then (when every
    /// copy could be saved) per copy its saved state's byte length and bytes
    /// (packed in words), the episode statistics and the current observations.
    fn snapshot(&self) -> Result<EnvSnapshot, EnvError> {
        let states: Vec<Option<Vec<u8>>> = self.call("snapshot", |h| h.call_method0("states")?.extract())?;
        let mut words = vec![u64::from(self.was_reset), self.n as u64];
        if states.iter().any(Option::is_none) {
            words.push(0);
            return Ok(EnvSnapshot(words));
        }
        words.push(1);
        for state in states.into_iter().flatten() {
            let packed = python::bytes_to_words(&state);
            words.push(packed.len() as u64);
            words.extend(packed);
        }
        words.extend(self.tracker.words());
        words.extend(self.obs.iter().map(|v| u64::from(v.to_bits())));
        Ok(EnvSnapshot(words))
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<Restored, EnvError> {
        let words = &snapshot.0;
        let bad = EnvError::BadSnapshot;
        if words.len() < 3 || words[1] as usize != self.n {
            return Err(bad("another number of environment copies"));
        }
        if words[2] == 0 {
            return Ok(Restored::EpisodesRestart);
        }
        let mut at = 3;
        let mut blobs = Vec::with_capacity(self.n);
        for _ in 0..self.n {
            let len = *words.get(at).ok_or(bad("too short"))? as usize;
            blobs.push(python::words_to_bytes(words.get(at + 1..at + 1 + len).ok_or(bad("too short"))?)?);
            at += 1 + len;
        }
        let stats = words.get(at..at + 2 * self.n).ok_or(bad("too short"))?;
        let obs =
            words.get(at + 2 * self.n..).filter(|o| o.len() == self.obs.len()).ok_or(bad("wrong observation count"))?;
        self.call("restore", |h| {
            let py = h.py();
            let blobs: Vec<Bound<'_, PyBytes>> = blobs.iter().map(|b| PyBytes::new(py, b)).collect();
            h.call_method1("set_states", (blobs,)).map(drop)
        })?;
        self.tracker.set_from_words(stats)?;
        for (o, w) in self.obs.iter_mut().zip(obs) {
            *o = f32::from_bits(*w as u32);
        }
        self.was_reset = words[0] == 1;
        Ok(Restored::Exactly)
    }
}

impl Drop for GymVecEnv {
    fn drop(&mut self) {
        python::close(&self.handle);
    }
}
