//! HalfCheetah-v5: Wawrzyński (2009), "A cat-like robot real-time learning to
//! run", as Gymnasium 1.4.0's `half_cheetah_v5.py`.

use super::numpy_ops::control_cost;
use super::sim::Sim;
use super::{
    InitialState, ObsWriter, Params, Pcg64, Task, init_plus_normal, init_plus_uniform,
    observe_positions_and_velocities, step_forward,
};
use crate::error::EnvError;

pub(crate) struct HalfCheetah {
    forward_reward_weight: f64,
    ctrl_cost_weight: f64,
    reset_noise_scale: f64,
    exclude_current_positions: bool,
}

impl Task for HalfCheetah {
    const ID: &'static str = "HalfCheetah-v5";
    const MAX_EPISODE_STEPS: usize = 1000;
    const REWARD_THRESHOLD: Option<f64> = Some(4800.0);
    const XML: &'static str = "half_cheetah.xml";
    const FRAME_SKIP: i64 = 5;

    fn configure(p: &mut Params<'_>, _sim: &Sim) -> Result<Self, EnvError> {
        Ok(Self {
            forward_reward_weight: p.float("forward_reward_weight", 1.0)?,
            ctrl_cost_weight: p.float("ctrl_cost_weight", 0.1)?,
            reset_noise_scale: p.float("reset_noise_scale", 0.1)?,
            exclude_current_positions: p.bool("exclude_current_positions_from_observation", true)?,
        })
    }

    fn obs_dim(&self, sim: &Sim) -> usize {
        sim.nq() + sim.nv() - usize::from(self.exclude_current_positions)
    }

    fn reset_model(&mut self, sim: &mut Sim, rng: &mut Pcg64, init: &InitialState) {
        let s = self.reset_noise_scale;
        let qpos = init_plus_uniform(&init.qpos, rng, -s, s);
        let qvel = init_plus_normal(&init.qvel, rng, s);
        sim.set_qpos_qvel(&qpos, &qvel);
    }

    fn observe(&self, sim: &Sim, obs: &mut ObsWriter<'_>) {
        observe_positions_and_velocities(sim, obs, usize::from(self.exclude_current_positions), None);
    }

    fn step(&mut self, sim: &mut Sim, action: &[f32]) -> (f64, bool) {
        let x_velocity = step_forward(sim, action);
        let forward_reward = self.forward_reward_weight * x_velocity;
        (forward_reward - f64::from(control_cost(self.ctrl_cost_weight, action)), false)
    }
}
