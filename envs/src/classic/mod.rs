//! The classic control environments: each file holds one environment's pure
//! transition function and its [`Dynamics`]; [`ClassicEnv`] adds what they
//! share (seeding, reset-before-step, action checks).

mod acrobot;
mod cartpole;
mod continuous_mountain_car;
mod mountain_car;
mod pendulum;

pub use acrobot::Acrobot;
pub use cartpole::CartPole;
pub use continuous_mountain_car::MountainCarContinuous;
pub use mountain_car::MountainCar;
pub use pendulum::Pendulum;

use crate::env::{Env, EnvSnapshot, EnvSpec, Observation, Step};
use crate::error::EnvError;
use crate::rng::Rng;
use crate::space::{Action, Space};

/// `x**2` as NumPy computes it on a float64 scalar: C `pow(x, 2.0)`, which is
/// not always the correctly rounded `x*x`. The exponent goes through
/// `black_box` because LLVM would otherwise fold the call into `x*x`.
pub(crate) fn numpy_square(x: f64) -> f64 {
    x.powf(std::hint::black_box(2.0))
}

/// `x**2` on a float32 scalar: C `powf(x, 2.0f)`.
pub(crate) fn numpy_square_f32(x: f32) -> f32 {
    x.powf(std::hint::black_box(2.0))
}

/// The physics of one environment, without episode bookkeeping. Actions reach
/// it already checked against [`Dynamics::action_space`].
pub trait Dynamics: Send + Default + 'static {
    /// Gymnasium's id, e.g. `"CartPole-v1"`.
    const ID: &'static str;
    /// The time limit Gymnasium registers.
    const MAX_EPISODE_STEPS: usize;
    /// Gymnasium's `reward_threshold`.
    const REWARD_THRESHOLD: Option<f64>;
    /// Names of the state variables, in order.
    const STATE_LAYOUT: &'static [&'static str];

    fn observation_space() -> Space;
    fn action_space() -> Space;
    /// Draws a start state from Gymnasium's reset distribution.
    fn sample_initial_state(rng: &mut Rng) -> Vec<f64>;
    /// Starts an episode in `state` (`STATE_LAYOUT.len()` finite values);
    /// returns the observation `reset()` gives for it.
    fn reset_to(&mut self, state: &[f64]) -> Observation;
    /// One transition: (observation, reward, terminated).
    fn step(&mut self, action: Action<'_>) -> (Observation, f64, bool);
    fn state(&self) -> Vec<f64>;
    /// Overwrites the state mid-episode; `state` has `STATE_LAYOUT.len()`
    /// finite values.
    fn set_state(&mut self, state: &[f64]);
    /// The state with anything hidden from [`Dynamics::state`] (for checkpoints).
    fn snapshot(&self) -> Vec<f64>;
    /// Restores what [`Dynamics::snapshot`] returned.
    fn restore(&mut self, values: &[f64]);
}

/// Where a native environment's episode is; recorded in its snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    NeverReset,
    Running,
    Terminated,
}

/// A classic control environment without a time limit (Gymnasium's
/// `env.unwrapped`); [`crate::make`] adds the [`crate::TimeLimit`].
pub struct ClassicEnv<D: Dynamics> {
    dynamics: D,
    spec: EnvSpec,
    observation_space: Space,
    action_space: Space,
    rng: Option<Rng>,
    phase: Phase,
}

impl<D: Dynamics> Default for ClassicEnv<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D: Dynamics> ClassicEnv<D> {
    pub fn new() -> Self {
        Self {
            dynamics: D::default(),
            spec: EnvSpec { id: D::ID.into(), max_episode_steps: None, reward_threshold: D::REWARD_THRESHOLD },
            observation_space: D::observation_space(),
            action_space: D::action_space(),
            rng: None,
            phase: Phase::NeverReset,
        }
    }

    /// The generator's state, `None` before the first reset (for checkpoints).
    pub fn rng_state(&self) -> Option<[u64; 4]> {
        self.rng.as_ref().map(Rng::state)
    }

    /// Starts an episode in the given state instead of a random one, and
    /// returns the observation `reset()` would return for it.
    pub fn reset_to(&mut self, state: &[f64]) -> Result<Observation, EnvError> {
        check_state::<D>(state)?;
        self.phase = Phase::Running;
        Ok(self.dynamics.reset_to(state))
    }
}

fn check_state<D: Dynamics>(state: &[f64]) -> Result<(), EnvError> {
    let layout = D::STATE_LAYOUT;
    if state.len() != layout.len() {
        return Err(EnvError::StateDimension { expected: layout.len(), got: state.len(), layout: layout.join(", ") });
    }
    match state.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(EnvError::NonFiniteState { index, value: state[index] }),
        None => Ok(()),
    }
}

impl Phase {
    /// Whether an episode is under way, or the error that says why not.
    pub(crate) fn check_running(self) -> Result<(), EnvError> {
        match self {
            Phase::NeverReset => Err(EnvError::NotReset),
            Phase::Terminated => Err(EnvError::EpisodeOver { reason: "terminated" }),
            Phase::Running => Ok(()),
        }
    }

    pub(crate) fn code(self) -> u64 {
        match self {
            Phase::NeverReset => 0,
            Phase::Running => 1,
            Phase::Terminated => 2,
        }
    }
    pub(crate) fn from_code(code: u64) -> Option<Self> {
        [Phase::NeverReset, Phase::Running, Phase::Terminated].get(code as usize).copied()
    }
}

impl<D: Dynamics> Env for ClassicEnv<D> {
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
            Some(seed) => self.rng.insert(Rng::seed_from_u64(seed)),
            None => self.rng.get_or_insert_with(Rng::from_entropy),
        };
        let initial = D::sample_initial_state(rng);
        self.phase = Phase::Running;
        Ok(self.dynamics.reset_to(&initial))
    }

    #[inline]
    fn step(&mut self, action: Action<'_>) -> Result<Step, EnvError> {
        self.phase.check_running()?;
        self.action_space.check_action(action)?;
        let (obs, reward, terminated) = self.dynamics.step(action);
        if terminated {
            self.phase = Phase::Terminated;
        }
        Ok(Step { obs, reward, terminated, truncated: false })
    }

    fn state(&self) -> Option<Vec<f64>> {
        (self.phase != Phase::NeverReset).then(|| self.dynamics.state())
    }

    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        if self.phase == Phase::NeverReset {
            return Err(EnvError::NotReset);
        }
        check_state::<D>(state)?;
        self.dynamics.set_state(state);
        self.phase = Phase::Running;
        Ok(())
    }

    fn snapshot(&self) -> Result<EnvSnapshot, EnvError> {
        let mut words = vec![self.phase.code(), u64::from(self.rng.is_some())];
        words.extend(self.rng.as_ref().map_or([0; 4], Rng::state));
        words.extend(self.dynamics.snapshot().into_iter().map(f64::to_bits));
        Ok(EnvSnapshot(words))
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        let words = &snapshot.0;
        let expected = 6 + D::default().snapshot().len();
        if words.len() != expected {
            return Err(EnvError::BadSnapshot("wrong length"));
        }
        let phase = Phase::from_code(words[0]).ok_or(EnvError::BadSnapshot("unknown episode phase"))?;
        let values: Vec<f64> = words[6..].iter().map(|w| f64::from_bits(*w)).collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(EnvError::BadSnapshot("non-finite state"));
        }
        self.phase = phase;
        self.rng = (words[1] == 1).then(|| Rng::from_state([words[2], words[3], words[4], words[5]]));
        self.dynamics.restore(&values);
        Ok(())
    }
}

/// The observation of a float64 state: each value rounded to float32, as
/// `np.array(state, dtype=np.float32)`.
pub(crate) fn f32_observation<const N: usize>(state: &[f64; N]) -> Observation {
    observation(state.map(|v| v as f32))
}

/// An observation from a fixed-size array (a plain copy; collecting from an
/// iterator costs a capacity check per element on the hot path).
pub(crate) fn observation<const N: usize>(values: [f32; N]) -> Observation {
    Observation::from_slice(&values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_square_is_libm_pow_not_a_product() {
        // CPython's x**2 (C pow) on this input is 0.78199207042592, one ulp
        // above the correctly rounded product x*x = 0.7819920704259199.
        let x = f64::from_bits(0xBFEC_4C36_2174_B820);
        assert_eq!(numpy_square(x), 0.78199207042592);
        assert_eq!(x * x, 0.7819920704259199);
        assert_eq!(numpy_square_f32(1.5), 2.25);
    }
}
