//! Walker2d-v5: the planar walker of Erez, Tassa and Todorov (2011),
//! "Infinite-horizon model predictive control for periodic tasks with
//! contacts", as Gymnasium 1.4.0's `walker2d_v5.py`.

use super::sim::Sim;
use super::{
    InitialState, ObsWriter, Params, Pcg64, Task, WalkerReward, observe_positions_and_velocities,
    reset_with_uniform_noise, step_forward,
};
use crate::error::EnvError;

pub(crate) struct Walker2d {
    reward: WalkerReward,
    healthy_z_range: (f64, f64),
    healthy_angle_range: (f64, f64),
    reset_noise_scale: f64,
    exclude_current_positions: bool,
}

impl Walker2d {
    fn is_healthy(&self, sim: &Sim) -> bool {
        let (z, angle) = (sim.qpos()[1], sim.qpos()[2]);
        let (min_z, max_z) = self.healthy_z_range;
        let (min_angle, max_angle) = self.healthy_angle_range;
        min_z < z && z < max_z && min_angle < angle && angle < max_angle
    }
}

impl Task for Walker2d {
    const ID: &'static str = "Walker2d-v5";
    const MAX_EPISODE_STEPS: usize = 1000;
    const REWARD_THRESHOLD: Option<f64> = None;
    const XML: &'static str = "walker2d_v5.xml";
    const FRAME_SKIP: i64 = 4;

    fn configure(p: &mut Params<'_>, _sim: &Sim) -> Result<Self, EnvError> {
        Ok(Self {
            reward: WalkerReward::configure(p)?,
            healthy_z_range: p.range("healthy_z_range", (0.8, 2.0))?,
            healthy_angle_range: p.range("healthy_angle_range", (-1.0, 1.0))?,
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
