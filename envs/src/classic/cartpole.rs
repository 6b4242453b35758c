//! CartPole-v1: Barto, Sutton and Anderson (1983), "Neuronlike adaptive
//! elements that can solve difficult learning control problems", as
//! Gymnasium 1.4.0's `CartPoleEnv` (explicit Euler, all float64).

use super::{Dynamics, f32_observation};
use crate::env::Observation;
use crate::rng::Rng;
use crate::space::{Action, BoxSpace, Space};

const GRAVITY: f64 = 9.8;
const MASSCART: f64 = 1.0;
const MASSPOLE: f64 = 0.1;
const LENGTH: f64 = 0.5; // half the pole's length
const FORCE_MAG: f64 = 10.0;
const TAU: f64 = 0.02;
const X_THRESHOLD: f64 = 2.4;

// Computed, not written as literals, to round exactly as Gymnasium's Python does.
fn total_mass() -> f64 {
    MASSPOLE + MASSCART
}
fn polemass_length() -> f64 {
    MASSPOLE * LENGTH
}
fn theta_threshold() -> f64 {
    12.0 * 2.0 * std::f64::consts::PI / 360.0
}

// Gymnasium's four comparisons, kept as they are: a range check would call a
// NaN state terminal, which Gymnasium does not.
#[allow(clippy::manual_range_contains)]
/// `[x, x_dot, theta, theta_dot]` after one Euler step with `action` (0: push
/// left, 1: push right), and whether the new state is terminal.
pub fn transition(state: [f64; 4], action: i64) -> ([f64; 4], bool) {
    let [x, x_dot, theta, theta_dot] = state;
    let force = if action == 1 { FORCE_MAG } else { -FORCE_MAG };
    let (sintheta, costheta) = (theta.sin(), theta.cos());
    let temp = (force + polemass_length() * (theta_dot * theta_dot) * sintheta) / total_mass();
    let thetaacc = (GRAVITY * sintheta - costheta * temp)
        / (LENGTH * (4.0 / 3.0 - MASSPOLE * (costheta * costheta) / total_mass()));
    let xacc = temp - polemass_length() * thetaacc * costheta / total_mass();
    let next = [x + TAU * x_dot, x_dot + TAU * xacc, theta + TAU * theta_dot, theta_dot + TAU * thetaacc];
    let [x, _, theta, _] = next;
    let terminated = x < -X_THRESHOLD || x > X_THRESHOLD || theta < -theta_threshold() || theta > theta_threshold();
    (next, terminated)
}

/// CartPole-v1's state; see [`transition`].
#[derive(Clone, Debug, Default)]
pub struct CartPole {
    state: [f64; 4],
}

impl Dynamics for CartPole {
    const ID: &'static str = "CartPole-v1";
    const MAX_EPISODE_STEPS: usize = 500;
    const REWARD_THRESHOLD: Option<f64> = Some(475.0);
    const STATE_LAYOUT: &'static [&'static str] = &["x", "x_dot", "theta", "theta_dot"];

    fn observation_space() -> Space {
        let high = [(X_THRESHOLD * 2.0) as f32, f32::INFINITY, (theta_threshold() * 2.0) as f32, f32::INFINITY];
        Space::Box(BoxSpace::new(high.iter().map(|h| -h).collect(), high.to_vec()))
    }

    fn action_space() -> Space {
        Space::Discrete { n: 2 }
    }

    fn sample_initial_state(rng: &mut Rng) -> Vec<f64> {
        (0..4).map(|_| rng.uniform_range(-0.05, 0.05)).collect()
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
        // Gymnasium pays 1.0 on every step, the terminating one included.
        (f32_observation(&self.state), 1.0, terminated)
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
