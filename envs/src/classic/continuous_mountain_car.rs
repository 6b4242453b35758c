//! MountainCarContinuous-v0: Moore (1990), "Efficient memory-based learning
//! for robot control", continuous-action version, as Gymnasium 1.4.0's
//! `Continuous_MountainCarEnv`.
//!
//! Its arithmetic is mixed precision: reset leaves a float64 state, but every
//! step stores the state as float32, so from the second step on NumPy computes
//! in float32 wherever a float32 scalar meets a Python float. A plain float64
//! version drifts by about 1e-7 per step and can flip the goal test.

use super::{Dynamics, observation};
use crate::env::Observation;
use crate::rng::Rng;
use crate::space::{Action, BoxSpace, Space};

const MIN_ACTION: f64 = -1.0;
const MAX_ACTION: f64 = 1.0;
const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.45;
const POWER: f64 = 0.0015;

/// The state, remembering whether it is float32 (after any step) or float64
/// (fresh from reset), because the arithmetic of the next step depends on it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct State {
    pub position: f64,
    pub velocity: f64,
    pub float32: bool,
}

/// One step with the float32 action `a` (clipped to [-1, 1] for the force; the
/// control cost uses it unclipped): (next state, reward, terminated).
pub fn transition(state: State, a: f32) -> (State, f64, bool) {
    // F: what rounding the state's dtype imposes on a result.
    let f = |v: f64| if state.float32 { f64::from(v as f32) } else { v };
    let State { mut position, mut velocity, .. } = state;

    let t2 = 0.0025 * f(3.0 * position).cos();
    let in_bounds = f64::from(a) >= MIN_ACTION && f64::from(a) <= MAX_ACTION;
    // In bounds the force is the float32 action and NumPy stays in float32;
    // clipped, it is a Python float and the sum is computed in double.
    let d = if in_bounds {
        f64::from(a * POWER as f32 - t2 as f32)
    } else {
        f64::from(a).clamp(MIN_ACTION, MAX_ACTION) * POWER - t2
    };
    velocity = f(velocity + f(d));
    let vmax = f(MAX_SPEED);
    let mut position_is_double = !state.float32;
    if velocity > vmax {
        velocity = MAX_SPEED;
    }
    if velocity < -vmax {
        velocity = -MAX_SPEED;
    }
    position = f(position + f(velocity));
    if position > f(MAX_POSITION) {
        position = MAX_POSITION;
        position_is_double = true;
    }
    if position < f(MIN_POSITION) {
        position = MIN_POSITION;
    }
    if (position == MIN_POSITION || position == f(MIN_POSITION)) && velocity < 0.0 {
        velocity = 0.0;
    }
    // A float32 position is compared with the goal in float32.
    let goal = if position_is_double { GOAL_POSITION } else { f64::from(GOAL_POSITION as f32) };
    let terminated = position >= goal && velocity >= 0.0;
    let a = f64::from(a);
    let reward = if terminated { 100.0 } else { 0.0 } - a * a * 0.1;
    let next = State { position: f64::from(position as f32), velocity: f64::from(velocity as f32), float32: true };
    (next, reward, terminated)
}

/// MountainCarContinuous-v0's state; see [`transition`].
#[derive(Clone, Debug, Default)]
pub struct MountainCarContinuous {
    state: State,
}

impl Dynamics for MountainCarContinuous {
    const ID: &'static str = "MountainCarContinuous-v0";
    const MAX_EPISODE_STEPS: usize = 999;
    const REWARD_THRESHOLD: Option<f64> = Some(90.0);
    const STATE_LAYOUT: &'static [&'static str] = &["position", "velocity"];

    fn observation_space() -> Space {
        Space::Box(BoxSpace::new(
            vec![MIN_POSITION as f32, -MAX_SPEED as f32],
            vec![MAX_POSITION as f32, MAX_SPEED as f32],
        ))
    }

    fn action_space() -> Space {
        Space::Box(BoxSpace::new(vec![MIN_ACTION as f32], vec![MAX_ACTION as f32]))
    }

    fn sample_initial_state(rng: &mut Rng) -> Vec<f64> {
        vec![rng.uniform_range(-0.6, -0.4), 0.0]
    }

    /// Reset leaves a float64 state.
    fn reset_to(&mut self, state: &[f64]) -> Observation {
        self.state = State { position: state[0], velocity: state[1], float32: false };
        observation([state[0] as f32, state[1] as f32])
    }

    #[inline]
    fn step(&mut self, action: Action<'_>) -> (Observation, f64, bool) {
        let Action::Continuous(a) = action else { unreachable!("checked against the action space") };
        let (next, reward, terminated) = transition(self.state, a[0]);
        self.state = next;
        let obs = observation([next.position as f32, next.velocity as f32]);
        (obs, reward, terminated)
    }

    fn state(&self) -> Vec<f64> {
        vec![self.state.position, self.state.velocity]
    }

    /// Keeps the state's current precision: float64 right after a reset,
    /// float32 (values rounded) once a step has been taken.
    fn set_state(&mut self, state: &[f64]) {
        let f = |v: f64| if self.state.float32 { f64::from(v as f32) } else { v };
        self.state = State { position: f(state[0]), velocity: f(state[1]), float32: self.state.float32 };
    }

    /// The state and its precision (1.0: float32).
    fn snapshot(&self) -> Vec<f64> {
        vec![self.state.position, self.state.velocity, if self.state.float32 { 1.0 } else { 0.0 }]
    }

    fn restore(&mut self, values: &[f64]) {
        self.state = State { position: values[0], velocity: values[1], float32: values[2] == 1.0 };
    }
}
