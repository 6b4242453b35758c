//! Walker2d-v5: the planar walker of Erez, Tassa and Todorov (2011), "Infinite-horizon model
//! predictive control for periodic tasks with contacts", as Gymnasium 1.4.0's
//! `walker2d_v5.py`.

use super::numpy_ops::{clip, control_cost};
use super::sim::Sim;
use super::{InitialState, ObsWriter, Params, Pcg64, Task, init_plus_uniform};
use crate::error::EnvError;

/// The healthy ranges are Gymnasium's defaults: tuples cannot be given as
/// keyword arguments on natgrad's command line.
pub(crate) struct Walker2d {
    forward_reward_weight: f64,
    ctrl_cost_weight: f64,
    healthy_reward: f64,
    terminate_when_unhealthy: bool,
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
            forward_reward_weight: p.float("forward_reward_weight", 1.0)?,
            ctrl_cost_weight: p.float("ctrl_cost_weight", 1e-3)?,
            healthy_reward: p.float("healthy_reward", 1.0)?,
            terminate_when_unhealthy: p.bool("terminate_when_unhealthy", true)?,
            healthy_z_range: (0.8, 2.0),
            healthy_angle_range: (-1.0, 1.0),
            reset_noise_scale: p.float("reset_noise_scale", 5e-3)?,
            exclude_current_positions: p.bool("exclude_current_positions_from_observation", true)?,
        })
    }

    fn obs_dim(&self, sim: &Sim) -> usize {
        sim.nq() + sim.nv() - usize::from(self.exclude_current_positions)
    }

    fn reset_model(&mut self, sim: &mut Sim, rng: &mut Pcg64, init: &InitialState) {
        let s = self.reset_noise_scale;
        let qpos = init_plus_uniform(&init.qpos, rng, -s, s);
        let qvel = init_plus_uniform(&init.qvel, rng, -s, s);
        sim.set_qpos_qvel(&qpos, &qvel);
    }

    fn observe(&self, sim: &Sim, obs: &mut ObsWriter<'_>) {
        let skip = usize::from(self.exclude_current_positions);
        obs.extend(sim.qpos()[skip..].iter().map(|&v| v as f32));
        obs.extend(sim.qvel().iter().map(|&v| clip(v, -10.0, 10.0) as f32));
    }

    fn step(&mut self, sim: &mut Sim, action: &[f32]) -> (f64, bool) {
        let x_before = sim.qpos()[0];
        sim.do_simulation(action);
        let x_velocity = (sim.qpos()[0] - x_before) / sim.dt();
        let healthy = self.is_healthy(sim);
        let forward_reward = self.forward_reward_weight * x_velocity;
        let healthy_reward = if healthy { self.healthy_reward } else { 0.0 };
        let reward = (forward_reward + healthy_reward) - f64::from(control_cost(self.ctrl_cost_weight, action));
        (reward, !healthy && self.terminate_when_unhealthy)
    }
}
