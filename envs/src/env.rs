//! The `Env` trait and the values that cross it.

use smallvec::SmallVec;

use crate::error::EnvError;
use crate::space::{Action, Space};

/// An observation: float32 values, stored inline up to eight of them (every
/// classic control environment fits), so stepping allocates nothing.
pub type Observation = SmallVec<[f32; 8]>;

/// What `step` returns: Gymnasium's `(obs, reward, terminated, truncated)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub obs: Observation,
    pub reward: f64,
    /// The environment reached a terminal state (the value of what follows is 0).
    pub terminated: bool,
    /// The episode was cut by a time limit (what follows still has value).
    pub truncated: bool,
}

/// What [`Env::step_into`] returns beside the observation it wrote.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOutcome {
    pub reward: f64,
    pub terminated: bool,
    pub truncated: bool,
}

/// Static facts about an environment, as Gymnasium's `EnvSpec`.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvSpec {
    pub id: String,
    /// The time limit `make` applies; `None` for an unwrapped environment.
    pub max_episode_steps: Option<usize>,
    /// The mean return over 100 episodes at which the task counts as solved.
    pub reward_threshold: Option<f64>,
}

/// A reinforcement-learning environment with Gymnasium's semantics.
pub trait Env: Send {
    fn spec(&self) -> &EnvSpec;
    fn observation_space(&self) -> &Space;
    fn action_space(&self) -> &Space;

    /// Starts an episode and returns its first observation. `Some(seed)` reseeds
    /// the environment's generator; `None` continues its stream (seeded from
    /// entropy if it was never seeded). Native environments never fail here;
    /// an environment in Python can raise.
    fn reset(&mut self, seed: Option<u64>) -> Result<Observation, EnvError>;

    /// Advances one step. Errors leave the environment exactly as it was.
    fn step(&mut self, action: Action<'_>) -> Result<Step, EnvError>;

    /// [`Env::step`] writing the observation into `obs` (as many values as
    /// the observation space's flat size) instead of returning it: what
    /// vector environments call, so that an environment with a long
    /// observation (the MuJoCo tasks) steps without allocating.
    fn step_into(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<StepOutcome, EnvError> {
        let step = self.step(action)?;
        obs.copy_from_slice(&step.obs);
        Ok(StepOutcome { reward: step.reward, terminated: step.terminated, truncated: step.truncated })
    }

    /// The internal physical state (Gymnasium's `env.unwrapped.state`), as
    /// float64 values; `None` before the first reset.
    fn state(&self) -> Option<Vec<f64>>;

    /// Overwrites the internal physical state, as writing `env.unwrapped.state`
    /// does in Gymnasium. Needs a prior reset; episode bookkeeping (elapsed
    /// steps) is unchanged, and the episode is live again.
    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError>;

    /// Everything that determines the environment's future: physics, random
    /// generator, episode bookkeeping. For checkpoints. Fails with
    /// [`EnvError::NotRestorable`] for an environment whose state cannot be
    /// taken (some environments in Python).
    fn snapshot(&self) -> Result<EnvSnapshot, EnvError>;

    /// Puts the environment back exactly as [`Env::snapshot`] found it.
    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError>;

    /// The current scene as Gymnasium's `render()` draws it in `rgb_array`
    /// mode, for an environment made to render (`render_mode=rgb_array`);
    /// `None` for one that draws nothing (natgrad's native environments are
    /// drawn from their state instead).
    fn render_rgb(&mut self) -> Result<Option<RgbImage>, EnvError> {
        Ok(None)
    }

    /// Whether the last step reached the task's goal, where the environment
    /// says so in its `info` (Gymnasium-Robotics' `is_success`, PointMaze's
    /// `success`); `None` where it does not.
    fn success(&self) -> Option<bool> {
        None
    }
}

/// An RGB picture, row after row, three bytes a pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// An environment's complete state as 64-bit words (floats by their bits),
/// outermost wrapper first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvSnapshot(pub Vec<u64>);

impl<E: Env + ?Sized> Env for Box<E> {
    fn spec(&self) -> &EnvSpec {
        (**self).spec()
    }
    fn observation_space(&self) -> &Space {
        (**self).observation_space()
    }
    fn action_space(&self) -> &Space {
        (**self).action_space()
    }
    fn reset(&mut self, seed: Option<u64>) -> Result<Observation, EnvError> {
        (**self).reset(seed)
    }
    fn step(&mut self, action: Action<'_>) -> Result<Step, EnvError> {
        (**self).step(action)
    }
    fn step_into(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<StepOutcome, EnvError> {
        (**self).step_into(action, obs)
    }
    fn state(&self) -> Option<Vec<f64>> {
        (**self).state()
    }
    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        (**self).set_state(state)
    }
    fn snapshot(&self) -> Result<EnvSnapshot, EnvError> {
        (**self).snapshot()
    }
    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        (**self).restore(snapshot)
    }
    fn render_rgb(&mut self) -> Result<Option<RgbImage>, EnvError> {
        (**self).render_rgb()
    }
    fn success(&self) -> Option<bool> {
        (**self).success()
    }
}
