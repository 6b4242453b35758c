//! Hopper-v5: Erez, Tassa and Todorov (2011), "Infinite-horizon model
//! predictive control for periodic tasks with contacts", as Gymnasium 1.4.0's
//! `hopper_v5.py`.

use super::sim::Sim;
use super::{
    InitialState, ObsWriter, Params, Pcg64, Task, WalkerReward, observe_positions_and_velocities,
    reset_with_uniform_noise, step_forward,
};
use crate::error::EnvError;

pub(crate) struct Hopper {
    reward: WalkerReward,
    healthy_state_range: (f64, f64),
    healthy_z_range: (f64, f64),
    healthy_angle_range: (f64, f64),
    reset_noise_scale: f64,
    exclude_current_positions: bool,
}

impl Hopper {
    fn is_healthy(&self, sim: &Sim) -> bool {
        let (z, angle) = (sim.qpos()[1], sim.qpos()[2]);
        let (min_state, max_state) = self.healthy_state_range;
        let state_ok = sim.qpos()[2..].iter().chain(sim.qvel()).all(|&v| min_state < v && v < max_state);
        let (min_z, max_z) = self.healthy_z_range;
        let (min_angle, max_angle) = self.healthy_angle_range;
        state_ok && min_z < z && z < max_z && min_angle < angle && angle < max_angle
    }
}

impl Task for Hopper {
    const ID: &'static str = "Hopper-v5";
    const MAX_EPISODE_STEPS: usize = 1000;
    const REWARD_THRESHOLD: Option<f64> = Some(3800.0);
    const XML: &'static str = "hopper.xml";
    const FRAME_SKIP: i64 = 4;

    fn configure(p: &mut Params<'_>, _sim: &Sim) -> Result<Self, EnvError> {
        Ok(Self {
            reward: WalkerReward::configure(p)?,
            healthy_state_range: p.range("healthy_state_range", (-100.0, 100.0))?,
            healthy_z_range: p.range("healthy_z_range", (0.7, f64::INFINITY))?,
            healthy_angle_range: p.range("healthy_angle_range", (-0.2, 0.2))?,
            reset_noise_scale: p.float("reset_noise_scale", 5e-3)?,
            exclude_current_positions: p.bool("exclude_current_positions_from_observation", true)?,
        })
    }

    fn obs_dim(&self, sim: &Sim) -> usize {
        sim.nq() + sim.nv() - usize::from(self.exclude_current_positions)
    }

    fn reset_model(&mut self, sim: &mut Sim, rng: &mut Pcg64, init: &InitialState) {
        reset_with_uniform_noise(sim, rng, init, self.reset_noise_scale);
    }

    fn observe(&self, sim: &Sim, obs: &mut ObsWriter<'_>) {
        observe_positions_and_velocities(sim, obs, usize::from(self.exclude_current_positions), Some(10.0));
    }

    fn step(&mut self, sim: &mut Sim, action: &[f32]) -> (f64, bool) {
        let x_velocity = step_forward(sim, action);
        self.reward.reward(x_velocity, self.is_healthy(sim), action)
    }
}
