//! Swimmer-v5: Coulom (2002), "Reinforcement learning using neural networks,
//! with applications to motor control", as Gymnasium 1.4.0's `swimmer_v5.py`.

use super::numpy_ops::control_cost;
use super::sim::Sim;
use super::{
    InitialState, ObsWriter, Params, Pcg64, Task, observe_positions_and_velocities, reset_with_uniform_noise,
    step_forward,
};
use crate::error::EnvError;

pub(crate) struct Swimmer {
    forward_reward_weight: f64,
    ctrl_cost_weight: f64,
    reset_noise_scale: f64,
    exclude_current_positions: bool,
}

impl Task for Swimmer {
    const ID: &'static str = "Swimmer-v5";
    const MAX_EPISODE_STEPS: usize = 1000;
    const REWARD_THRESHOLD: Option<f64> = Some(360.0);
    const XML: &'static str = "swimmer.xml";
    const FRAME_SKIP: i64 = 4;

    fn configure(p: &mut Params<'_>, _sim: &Sim) -> Result<Self, EnvError> {
        Ok(Self {
            forward_reward_weight: p.float("forward_reward_weight", 1.0)?,
            ctrl_cost_weight: p.float("ctrl_cost_weight", 1e-4)?,
            reset_noise_scale: p.float("reset_noise_scale", 0.1)?,
            exclude_current_positions: p.bool("exclude_current_positions_from_observation", true)?,
        })
    }

    fn obs_dim(&self, sim: &Sim) -> usize {
        sim.nq() + sim.nv() - 2 * usize::from(self.exclude_current_positions)
    }

    fn reset_model(&mut self, sim: &mut Sim, rng: &mut Pcg64, init: &InitialState) {
        reset_with_uniform_noise(sim, rng, init, self.reset_noise_scale);
    }

    fn observe(&self, sim: &Sim, obs: &mut ObsWriter<'_>) {
        observe_positions_and_velocities(sim, obs, 2 * usize::from(self.exclude_current_positions), None);
    }

    fn step(&mut self, sim: &mut Sim, action: &[f32]) -> (f64, bool) {
        let x_velocity = step_forward(sim, action);
        let forward_reward = self.forward_reward_weight * x_velocity;
        (forward_reward - f64::from(control_cost(self.ctrl_cost_weight, action)), false)
    }
}
