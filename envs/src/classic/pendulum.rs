//! Pendulum-v1: the classic inverted-pendulum swing-up, as Gymnasium 1.4.0's
//! `PendulumEnv` (float64 state, float32 torque).

use std::f64::consts::PI;

use super::{Dynamics, numpy_square as sq, numpy_square_f32, observation};
use crate::env::Observation;
use crate::rng::Rng;
use crate::space::{Action, BoxSpace, Space};

const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f32 = 2.0;
const DT: f64 = 0.05;
const G: f64 = 10.0;
const M: f64 = 1.0;
const L: f64 = 1.0;

/// The angle mapped into [-pi, pi) with Python's floor modulo (Rust's
/// `rem_euclid`, not `%`, which keeps the dividend's sign).
pub fn angle_normalize(x: f64) -> f64 {
    (x + PI).rem_euclid(2.0 * PI) - PI
}

/// `[theta, theta_dot]` after one step with the float32 torque `a`, and the
/// reward (minus the cost of the old state and the clipped torque).
pub fn transition(state: [f64; 2], a: f32) -> ([f64; 2], f64) {
    let [th, thdot] = state;
    let u = a.clamp(-MAX_TORQUE, MAX_TORQUE);
    let costs = sq(angle_normalize(th)) + 0.1 * sq(thdot) + f64::from(0.001_f32 * numpy_square_f32(u));
    let newthdot = thdot + (3.0 * G / (2.0 * L) * th.sin() + f64::from((3.0 / (M * L * L)) as f32 * u)) * DT;
    let newthdot = newthdot.clamp(-MAX_SPEED, MAX_SPEED);
    let newth = th + newthdot * DT;
    ([newth, newthdot], -costs)
}

fn observe(s: &[f64; 2]) -> Observation {
    observation([s[0].cos() as f32, s[0].sin() as f32, s[1] as f32])
}

/// Pendulum-v1's state; see [`transition`]. Never terminates.
#[derive(Clone, Debug, Default)]
pub struct Pendulum {
    state: [f64; 2],
}

impl Dynamics for Pendulum {
    const ID: &'static str = "Pendulum-v1";
    const MAX_EPISODE_STEPS: usize = 200;
    const REWARD_THRESHOLD: Option<f64> = None;
    const STATE_LAYOUT: &'static [&'static str] = &["theta", "theta_dot"];

    fn observation_space() -> Space {
        let high = [1.0, 1.0, MAX_SPEED as f32];
        Space::Box(BoxSpace::new(high.iter().map(|h| -h).collect(), high.to_vec()))
    }

    fn action_space() -> Space {
        Space::Box(BoxSpace::new(vec![-MAX_TORQUE], vec![MAX_TORQUE]))
    }

    fn sample_initial_state(rng: &mut Rng) -> Vec<f64> {
        vec![rng.uniform_range(-PI, PI), rng.uniform_range(-1.0, 1.0)]
    }

    fn reset_to(&mut self, state: &[f64]) -> Observation {
        self.state.copy_from_slice(state);
        observe(&self.state)
    }

    #[inline]
    fn step(&mut self, action: Action<'_>) -> (Observation, f64, bool) {
        let Action::Continuous(a) = action else { unreachable!("checked against the action space") };
        let (next, reward) = transition(self.state, a[0]);
        self.state = next;
        (observe(&self.state), reward, false)
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
