//! Nine of Gymnasium's MuJoCo environments (v5) in Rust, over the MuJoCo library of
//! the `mujoco==4.0.0` wheel that Gymnasium itself runs: the same physics bits,
//! without Python around each step. Each task file mirrors Gymnasium 1.4.0's
//! `<task>_v5.py` (observation, reward terms, termination, reset noise, keyword
//! arguments), down to NumPy's float32 and summation order where they decide a
//! bit; [`MujocoEnv`] is Gymnasium's `MujocoEnv` (seeding, reset, frame skip).
//! `envs/tests/mujoco_parity.rs` replays Gymnasium's own trajectories.

mod ant;
mod ffi;
mod half_cheetah;
mod hopper;
mod humanoid;
mod inverted_double_pendulum;
mod inverted_pendulum;
mod numpy_ops;
mod numpy_rng;
mod params;
mod reacher;
mod sim;
mod swimmer;
mod walker2d;

use std::path::PathBuf;

pub use numpy_rng::Pcg64;
pub(crate) use params::Params;

use crate::classic::Phase;
use crate::env::{Env, EnvSnapshot, EnvSpec, Observation, Step, StepOutcome};
use crate::error::EnvError;
use crate::options::MakeOptions;
use crate::space::{Action, BoxSpace, Space};
use sim::Sim;

/// One MuJoCo task: what Gymnasium's `<Task>Env` class adds to `MujocoEnv`.
pub(crate) trait Task: Sized + Send + 'static {
    const ID: &'static str;
    const MAX_EPISODE_STEPS: usize;
    const REWARD_THRESHOLD: Option<f64>;
    /// The default `xml_file`.
    const XML: &'static str;
    const FRAME_SKIP: i64;

    /// Reads the task's keyword arguments (`xml_file` and `frame_skip` are
    /// read before the model is loaded).
    fn configure(params: &mut Params<'_>, sim: &Sim) -> Result<Self, EnvError>;
    /// The number of observation values.
    fn obs_dim(&self, sim: &Sim) -> usize;
    /// `reset_model`: draws the start state and calls `set_state`.
    fn reset_model(&mut self, sim: &mut Sim, rng: &mut Pcg64, init: &InitialState);
    /// `_get_obs`, written into `obs`.
    fn observe(&self, sim: &Sim, obs: &mut ObsWriter<'_>);
    /// `step` without the observation: simulates, returns (reward, terminated).
    fn step(&mut self, sim: &mut Sim, action: &[f32]) -> (f64, bool);
    /// Values of the task's own that a snapshot must hold.
    fn extra_state(&self) -> Vec<f64> {
        Vec::new()
    }
    fn set_extra_state(&mut self, _values: &[f64]) {}
}

/// Where a task writes its observation: a slice filled from the front, so
/// that stepping writes straight into a vector environment's buffer.
pub(crate) struct ObsWriter<'a> {
    buf: &'a mut [f32],
    len: usize,
}

impl ObsWriter<'_> {
    pub(crate) fn push(&mut self, value: f32) {
        self.buf[self.len] = value;
        self.len += 1;
    }

    pub(crate) fn extend(&mut self, values: impl IntoIterator<Item = f32>) {
        for v in values {
            self.push(v);
        }
    }
}

/// `init_qpos` and `init_qvel`: the model's state right after `MjData(model)`.
pub(crate) struct InitialState {
    pub(crate) qpos: Vec<f64>,
    pub(crate) qvel: Vec<f64>,
}

/// Gymnasium's `uniform(low, high, size=n)` added to `init`, elementwise.
pub(crate) fn init_plus_uniform(init: &[f64], rng: &mut Pcg64, low: f64, high: f64) -> Vec<f64> {
    init.iter().map(|v| v + rng.uniform(low, high)).collect()
}

/// The reset most tasks share: `init_qpos` and `init_qvel` each plus
/// `uniform(-scale, scale)` noise, then `set_state`.
pub(crate) fn reset_with_uniform_noise(sim: &mut Sim, rng: &mut Pcg64, init: &InitialState, scale: f64) {
    let qpos = init_plus_uniform(&init.qpos, rng, -scale, scale);
    let qvel = init_plus_uniform(&init.qvel, rng, -scale, scale);
    sim.set_qpos_qvel(&qpos, &qvel);
}

/// Simulates one step of `action` and returns the x velocity of the root:
/// `(qpos[0] after - qpos[0] before) / dt`, as the planar walkers, the
/// cheetah and the swimmer measure progress.
pub(crate) fn step_forward(sim: &mut Sim, action: &[f32]) -> f64 {
    let x_before = sim.qpos()[0];
    sim.do_simulation(action);
    (sim.qpos()[0] - x_before) / sim.dt()
}

/// The usual observation: `qpos` without its first `skip` values, then
/// `qvel`, clipped to ±`clip_velocity` where the task clips it.
pub(crate) fn observe_positions_and_velocities(
    sim: &Sim,
    obs: &mut ObsWriter<'_>,
    skip: usize,
    clip_velocity: Option<f64>,
) {
    obs.extend(sim.qpos()[skip..].iter().map(|&v| v as f32));
    let limit = clip_velocity.unwrap_or(f64::INFINITY);
    obs.extend(sim.qvel().iter().map(|&v| numpy_ops::clip(v, -limit, limit) as f32));
}

/// The reward of the planar walkers (Hopper, Walker2d): forward progress
/// plus a reward for being healthy, less the float32 control cost.
pub(crate) struct WalkerReward {
    forward_reward_weight: f64,
    ctrl_cost_weight: f64,
    healthy_reward: f64,
    pub(crate) terminate_when_unhealthy: bool,
}

impl WalkerReward {
    /// Reads the keyword arguments both walkers take, with their defaults.
    pub(crate) fn configure(p: &mut Params<'_>) -> Result<Self, EnvError> {
        Ok(Self {
            forward_reward_weight: p.float("forward_reward_weight", 1.0)?,
            ctrl_cost_weight: p.float("ctrl_cost_weight", 1e-3)?,
            healthy_reward: p.float("healthy_reward", 1.0)?,
            terminate_when_unhealthy: p.bool("terminate_when_unhealthy", true)?,
        })
    }

    /// `_get_rew`: `(forward + healthy) - ctrl_cost`; and `terminated`.
    pub(crate) fn reward(&self, x_velocity: f64, healthy: bool, action: &[f32]) -> (f64, bool) {
        let forward_reward = self.forward_reward_weight * x_velocity;
        let healthy_reward = if healthy { self.healthy_reward } else { 0.0 };
        let cost = f64::from(numpy_ops::control_cost(self.ctrl_cost_weight, action));
        ((forward_reward + healthy_reward) - cost, !healthy && self.terminate_when_unhealthy)
    }
}

/// `init + scale * standard_normal(n)`.
pub(crate) fn init_plus_normal(init: &[f64], rng: &mut Pcg64, scale: f64) -> Vec<f64> {
    init.iter().map(|v| v + scale * rng.standard_normal()).collect()
}

/// Where a relative `xml_file` is looked for: Gymnasium's own assets folder
/// (found when natgrad was built; `NATGRAD_MUJOCO_ASSETS` overrides it).
fn assets_dir() -> PathBuf {
    std::env::var_os("NATGRAD_MUJOCO_ASSETS")
        .map_or_else(|| PathBuf::from(env!("NATGRAD_MUJOCO_ASSETS")), PathBuf::from)
}

/// Gymnasium's `expand_model_path`: paths starting with `.` or `/` as given,
/// `~` expanded, anything else inside the assets folder.
fn model_path(id: &str, xml_file: &str) -> Result<PathBuf, EnvError> {
    let path = if xml_file.starts_with('.') || xml_file.starts_with('/') {
        PathBuf::from(xml_file)
    } else if let Some(rest) = xml_file.strip_prefix('~') {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
        home.join(rest.trim_start_matches('/'))
    } else {
        assets_dir().join(xml_file)
    };
    if path.exists() {
        Ok(path)
    } else {
        Err(EnvError::MujocoLoad {
            path: path.display().to_string(),
            message: format!(
                "no such file (xml_file={xml_file} of {id}; a relative name is looked for in Gymnasium's assets folder)"
            ),
        })
    }
}

/// A MuJoCo task without a time limit (Gymnasium's `env.unwrapped`);
/// [`crate::make`] adds the [`crate::TimeLimit`].
pub struct MujocoEnv<T: Task> {
    sim: Sim,
    task: T,
    init: InitialState,
    spec: EnvSpec,
    observation_space: Space,
    action_space: Space,
    rng: Option<Pcg64>,
    phase: Phase,
    obs_dim: usize,
}

impl<T: Task> MujocoEnv<T> {
    /// The task with `make_with`'s options: Gymnasium's keyword arguments
    /// (none: its defaults), and whose NumPy arithmetic to reproduce.
    pub(crate) fn with_options(options: &MakeOptions) -> Result<Self, EnvError> {
        let mut params = Params::new(T::ID, &options.kwargs, options.numpy_dot.resolved());
        let xml_file = params.string("xml_file", T::XML)?;
        let frame_skip = params.int("frame_skip", T::FRAME_SKIP)?;
        let frame_skip = i32::try_from(frame_skip).ok().filter(|f| *f >= 1).ok_or_else(|| EnvError::KwargValue {
            id: T::ID.into(),
            key: "frame_skip".into(),
            expected: "an integer of at least 1".into(),
            got: frame_skip.to_string(),
        })?;
        let sim = Sim::load(&model_path(T::ID, &xml_file)?, frame_skip)?;
        let task = T::configure(&mut params, &sim)?;
        params.finish()?;
        let init = InitialState { qpos: sim.qpos().to_vec(), qvel: sim.qvel().to_vec() };
        let dim = task.obs_dim(&sim);
        let observation_space = Space::Box(BoxSpace::new(vec![f32::NEG_INFINITY; dim], vec![f32::INFINITY; dim]));
        let (low, high) = sim.ctrl_range().into_iter().map(|(l, h)| (l as f32, h as f32)).unzip();
        Ok(Self {
            sim,
            task,
            init,
            spec: EnvSpec { id: T::ID.into(), max_episode_steps: None, reward_threshold: T::REWARD_THRESHOLD },
            observation_space,
            action_space: Space::Box(BoxSpace::new(low, high)),
            rng: None,
            phase: Phase::NeverReset,
            obs_dim: dim,
        })
    }

    fn observation(&self) -> Observation {
        let mut obs = Observation::from_elem(0.0, self.obs_dim);
        self.write_observation(&mut obs);
        obs
    }

    fn write_observation(&self, buf: &mut [f32]) {
        let mut writer = ObsWriter { buf, len: 0 };
        self.task.observe(&self.sim, &mut writer);
        debug_assert_eq!(writer.len, self.obs_dim, "{} wrote another observation size", T::ID);
    }

    /// Checks and applies one step; the observation is left to the caller.
    fn advance(&mut self, action: Action<'_>) -> Result<(f64, bool), EnvError> {
        self.phase.check_running()?;
        self.action_space.check_action(action)?;
        let Action::Continuous(action) = action else { unreachable!("checked against a Box space") };
        let (reward, terminated) = self.task.step(&mut self.sim, action);
        if terminated {
            self.phase = Phase::Terminated;
        }
        Ok((reward, terminated))
    }
}

impl<T: Task> Env for MujocoEnv<T> {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }
    fn observation_space(&self) -> &Space {
        &self.observation_space
    }
    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<Observation, EnvError> {
        let rng = match seed {
            Some(seed) => self.rng.insert(Pcg64::from_seed(seed)),
            None => self.rng.get_or_insert_with(|| Pcg64::from_seed(rand::random())),
        };
        self.sim.reset_data();
        self.task.reset_model(&mut self.sim, rng, &self.init);
        self.phase = Phase::Running;
        Ok(self.observation())
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step, EnvError> {
        let (reward, terminated) = self.advance(action)?;
        Ok(Step { obs: self.observation(), reward, terminated, truncated: false })
    }

    fn step_into(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<StepOutcome, EnvError> {
        if obs.len() != self.obs_dim {
            return Err(EnvError::ObservationSize {
                id: T::ID.into(),
                during: "step_into",
                expected: self.obs_dim,
                got: obs.len(),
            });
        }
        let (reward, terminated) = self.advance(action)?;
        self.write_observation(obs);
        Ok(StepOutcome { reward, terminated, truncated: false })
    }

    /// Gymnasium's `state_vector()`: qpos then qvel.
    fn state(&self) -> Option<Vec<f64>> {
        (self.phase != Phase::NeverReset).then(|| [self.sim.qpos(), self.sim.qvel()].concat())
    }

    /// Gymnasium's `set_state(qpos, qvel)`, from one vector of both.
    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        if self.phase == Phase::NeverReset {
            return Err(EnvError::NotReset);
        }
        let (nq, nv) = (self.sim.nq(), self.sim.nv());
        if state.len() != nq + nv {
            let layout = format!("qpos ({nq} values) then qvel ({nv} values)");
            return Err(EnvError::StateDimension { expected: nq + nv, got: state.len(), layout });
        }
        if let Some(index) = state.iter().position(|v| !v.is_finite()) {
            return Err(EnvError::NonFiniteState { index, value: state[index] });
        }
        self.sim.set_qpos_qvel(&state[..nq], &state[nq..]);
        self.phase = Phase::Running;
        Ok(())
    }

    /// Phase, generator (a flag and its six words), the task's own values
    /// (their count first), then MuJoCo's integration state.
    fn snapshot(&self) -> Result<EnvSnapshot, EnvError> {
        let mut words = vec![self.phase.code(), u64::from(self.rng.is_some())];
        words.extend(self.rng.as_ref().map_or([0; 6], Pcg64::words));
        let extra = self.task.extra_state();
        words.push(extra.len() as u64);
        words.extend(extra.iter().map(|v| v.to_bits()));
        words.extend(self.sim.integration_state().iter().map(|v| v.to_bits()));
        Ok(EnvSnapshot(words))
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        let words = &snapshot.0;
        if words.len() < 9 {
            return Err(EnvError::BadSnapshot("too short"));
        }
        let phase = Phase::from_code(words[0]).ok_or(EnvError::BadSnapshot("unknown episode phase"))?;
        let rng = match words[1] {
            0 => None,
            1 => Some(
                Pcg64::from_words(words[2..8].try_into().expect("six words"))
                    .ok_or(EnvError::BadSnapshot("bad generator"))?,
            ),
            _ => return Err(EnvError::BadSnapshot("bad generator flag")),
        };
        let n_extra = words[8] as usize;
        let rest = &words[9..];
        if rest.len() < n_extra || n_extra != self.task.extra_state().len() {
            return Err(EnvError::BadSnapshot("wrong task state"));
        }
        let to_f64 = |w: &[u64]| w.iter().map(|w| f64::from_bits(*w)).collect::<Vec<_>>();
        let extra = to_f64(&rest[..n_extra]);
        if !self.sim.set_integration_state(&to_f64(&rest[n_extra..])) {
            return Err(EnvError::BadSnapshot("wrong MuJoCo state size"));
        }
        self.task.set_extra_state(&extra);
        self.phase = phase;
        self.rng = rng;
        Ok(())
    }
}

/// Constructors by id, for the registry.
pub(crate) fn build<T: Task>(options: &MakeOptions) -> Result<Box<dyn Env>, EnvError> {
    Ok(Box::new(MujocoEnv::<T>::with_options(options)?))
}

pub(crate) use ant::Ant;
pub(crate) use half_cheetah::HalfCheetah;
pub(crate) use hopper::Hopper;
pub(crate) use humanoid::Humanoid;
pub(crate) use inverted_double_pendulum::InvertedDoublePendulum;
pub(crate) use inverted_pendulum::InvertedPendulum;
pub(crate) use reacher::Reacher;
pub(crate) use swimmer::Swimmer;
pub(crate) use walker2d::Walker2d;
