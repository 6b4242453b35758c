//! MountainCar-v0: Moore (1990), "Efficient memory-based learning for robot
//! control", as Gymnasium 1.4.0's `MountainCarEnv` (all float64).

use super::{Dynamics, f32_observation};
use crate::env::Observation;
use crate::rng::Rng;
use crate::space::{Action, BoxSpace, Space};

const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.5;
const FORCE: f64 = 0.001;
const GRAVITY: f64 = 0.0025;

/// `[position, velocity]` after one step with `action` (0, 1, 2: push left,
/// none, right), and whether the car reached the flag.
pub fn transition(state: [f64; 2], action: i64) -> ([f64; 2], bool) {
    let [mut position, mut velocity] = state;
    velocity += (action - 1) as f64 * FORCE + (3.0 * position).cos() * -GRAVITY;
    velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
    position += velocity;
    position = position.clamp(MIN_POSITION, MAX_POSITION);
    if position == MIN_POSITION && velocity < 0.0 {
        velocity = 0.0;
    }
    let terminated = position >= GOAL_POSITION && velocity >= 0.0;
    ([position, velocity], terminated)
}

/// MountainCar-v0's state; see [`transition`].
#[derive(Clone, Debug, Default)]
pub struct MountainCar {
    state: [f64; 2],
}

impl Dynamics for MountainCar {
    const ID: &'static str = "MountainCar-v0";
    const MAX_EPISODE_STEPS: usize = 200;
    const REWARD_THRESHOLD: Option<f64> = Some(-110.0);
    const STATE_LAYOUT: &'static [&'static str] = &["position", "velocity"];

    fn observation_space() -> Space {
        Space::Box(BoxSpace::new(
            vec![MIN_POSITION as f32, -MAX_SPEED as f32],
            vec![MAX_POSITION as f32, MAX_SPEED as f32],
        ))
    }

    fn action_space() -> Space {
        Space::Discrete { n: 3 }
    }

    fn sample_initial_state(rng: &mut Rng) -> Vec<f64> {
        vec![rng.uniform_range(-0.6, -0.4), 0.0]
    }

    fn reset_to(&mut self, state: &[f64]) -> Observation {
        self.state.copy_from_slice(state);
        f32_observation(&self.state)
    }

    #[inline]
    fn step(&mut self, action: Action<'_>) -> (Observation, f64, bool) {
        let Action::Discrete(a) = action else { unreachable!("checked against the action space") };
        let (next, terminated) = transition(self.state, a);
        self.state = next;
        (f32_observation(&self.state), -1.0, terminated)
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64]) {
        self.state.copy_from_slice(state);
    }

    fn snapshot(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn restore(&mut self, values: &[f64]) {
        self.state.copy_from_slice(values);
    }
}
