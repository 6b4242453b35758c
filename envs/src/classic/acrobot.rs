//! Acrobot-v1: Sutton (1996), "Generalization in reinforcement learning:
//! successful examples using sparse coarse coding", with the dynamics of
//! Sutton and Barto's book as in Gymnasium 1.4.0's `AcrobotEnv` ("book"
//! variant, one RK4 step of 0.2 s, all float64).

use std::f64::consts::PI;

use super::{Dynamics, numpy_square as sq, observation};
use crate::env::Observation;
use crate::rng::Rng;
use crate::space::{Action, BoxSpace, Space};

const DT: f64 = 0.2;
const LINK_LENGTH_1: f64 = 1.0;
const LINK_MASS_1: f64 = 1.0;
const LINK_MASS_2: f64 = 1.0;
const LINK_COM_POS_1: f64 = 0.5;
const LINK_COM_POS_2: f64 = 0.5;
const LINK_MOI: f64 = 1.0;
const AVAIL_TORQUE: [f64; 3] = [-1.0, 0.0, 1.0];

fn max_vel_1() -> f64 {
    4.0 * PI
}
fn max_vel_2() -> f64 {
    9.0 * PI
}

/// Time derivative of `[theta1, theta2, dtheta1, dtheta2, torque]`, written in
/// Gymnasium's operation order (every `**2` is C `pow`).
fn dsdt(s: [f64; 5]) -> [f64; 5] {
    let (m1, m2, l1, lc1, lc2, i1, i2, g) =
        (LINK_MASS_1, LINK_MASS_2, LINK_LENGTH_1, LINK_COM_POS_1, LINK_COM_POS_2, LINK_MOI, LINK_MOI, 9.8);
    let [theta1, theta2, dtheta1, dtheta2, a] = s;
    let d1 = m1 * sq(lc1) + m2 * (sq(l1) + sq(lc2) + 2.0 * l1 * lc2 * theta2.cos()) + i1 + i2;
    let d2 = m2 * (sq(lc2) + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * g * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * sq(dtheta2) * theta2.sin() - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * g * (theta1 - PI / 2.0).cos()
        + phi2;
    let ddtheta2 =
        (a + d2 / d1 * phi1 - m2 * l1 * lc2 * sq(dtheta1) * theta2.sin() - phi2) / (m2 * sq(lc2) + i2 - sq(d2) / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0]
}

/// One classic fourth-order Runge-Kutta step of length `dt`, in the operation
/// order of Gymnasium's `rk4`.
fn rk4_step(y0: [f64; 5], dt: f64) -> [f64; 5] {
    let dt2 = dt / 2.0;
    let axpy = |y: &[f64; 5], h: f64, k: &[f64; 5]| -> [f64; 5] { std::array::from_fn(|i| y[i] + h * k[i]) };
    let k1 = dsdt(y0);
    let k2 = dsdt(axpy(&y0, dt2, &k1));
    let k3 = dsdt(axpy(&y0, dt2, &k2));
    let k4 = dsdt(axpy(&y0, dt, &k3));
    std::array::from_fn(|i| y0[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// Gymnasium's `wrap`: shifts by whole turns into [-pi, pi].
fn wrap_angle(mut x: f64) -> f64 {
    let turn = PI - -PI;
    while x > PI {
        x -= turn;
    }
    while x < -PI {
        x += turn;
    }
    x
}

fn bound(x: f64, limit: f64) -> f64 {
    x.max(-limit).min(limit)
}

fn is_terminal(s: &[f64; 4]) -> bool {
    -s[0].cos() - (s[1] + s[0]).cos() > 1.0
}

/// The state after one step with `action` (0, 1, 2: torque -1, 0, +1), and
/// whether the tip is above the bar.
pub fn transition(state: [f64; 4], action: i64) -> ([f64; 4], bool) {
    let [t1, t2, d1, d2] = state;
    let ns = rk4_step([t1, t2, d1, d2, AVAIL_TORQUE[action as usize]], DT);
    let next = [wrap_angle(ns[0]), wrap_angle(ns[1]), bound(ns[2], max_vel_1()), bound(ns[3], max_vel_2())];
    (next, is_terminal(&next))
}

fn observe(s: &[f64; 4]) -> Observation {
    observation([s[0].cos(), s[0].sin(), s[1].cos(), s[1].sin(), s[2], s[3]].map(|v| v as f32))
}

/// The observation `reset()` returns: right after a reset Gymnasium's state is
/// a float32 array, so the trigonometry runs in float32 (NumPy's float32
/// `cos`/`sin` may differ from libm's by one ulp).
fn reset_observation(s: &[f64; 4]) -> Observation {
    let f = s.map(|v| v as f32);
    observation([f[0].cos(), f[0].sin(), f[1].cos(), f[1].sin(), f[2], f[3]])
}

/// Acrobot-v1's state `[theta1, theta2, dtheta1, dtheta2]`; see [`transition`].
#[derive(Clone, Debug, Default)]
pub struct Acrobot {
    state: [f64; 4],
}

impl Dynamics for Acrobot {
    const ID: &'static str = "Acrobot-v1";
    const MAX_EPISODE_STEPS: usize = 500;
    const REWARD_THRESHOLD: Option<f64> = Some(-100.0);
    const STATE_LAYOUT: &'static [&'static str] = &["theta1", "theta2", "dtheta1", "dtheta2"];

    fn observation_space() -> Space {
        let high = [1.0, 1.0, 1.0, 1.0, max_vel_1() as f32, max_vel_2() as f32];
        Space::Box(BoxSpace::new(high.iter().map(|h| -h).collect(), high.to_vec()))
    }

    fn action_space() -> Space {
        Space::Discrete { n: 3 }
    }

    fn sample_initial_state(rng: &mut Rng) -> Vec<f64> {
        // Gymnasium draws U(-0.1, 0.1)^4 and stores it as float32.
        (0..4).map(|_| f64::from(rng.uniform_range(-0.1, 0.1) as f32)).collect()
    }

    fn reset_to(&mut self, state: &[f64]) -> Observation {
        self.state.copy_from_slice(state);
        reset_observation(&self.state)
    }

    #[inline]
    fn step(&mut self, action: Action<'_>) -> (Observation, f64, bool) {
        let Action::Discrete(a) = action else { unreachable!("checked against the action space") };
        let (next, terminated) = transition(self.state, a);
        self.state = next;
        (observe(&self.state), if terminated { 0.0 } else { -1.0 }, terminated)
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
