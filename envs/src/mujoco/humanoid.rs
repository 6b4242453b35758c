//! Humanoid-v5: Tassa, Erez and Todorov (2012), "Synthesis and stabilization
//! of complex behaviors through online trajectory optimization", as Gymnasium
//! 1.4.0's `humanoid_v5.py`.

use super::numpy_ops::{clip, sum_of_squares};
use super::sim::Sim;
use super::{InitialState, ObsWriter, Params, Pcg64, Task, reset_with_uniform_noise};
use crate::error::EnvError;

pub(crate) struct Humanoid {
    forward_reward_weight: f64,
    ctrl_cost_weight: f64,
    contact_cost_weight: f64,
    contact_cost_range: (f64, f64),
    healthy_reward: f64,
    terminate_when_unhealthy: bool,
    healthy_z_range: (f64, f64),
    reset_noise_scale: f64,
    exclude_current_positions: bool,
    include_cinert: bool,
    include_cvel: bool,
    include_qfrc_actuator: bool,
    include_cfrc_ext: bool,
    /// The mass center's x and y after the last reset or step: Gymnasium
    /// computes it from `data.xipos` at the next step, where MuJoCo left it.
    xy: [f64; 2],
}

/// Gymnasium's `mass_center`: `einsum("b,bj->j", body_mass, xipos)` (added
/// in body order) over `body_mass.sum()` (NumPy's pairwise sum), x and y.
fn mass_center(sim: &Sim) -> [f64; 2] {
    let (mass, xipos) = (sim.body_mass(), sim.xipos());
    let weighted = |j: usize| mass.iter().enumerate().fold(0.0, |acc, (b, m)| acc + m * xipos[3 * b + j]);
    let total = super::numpy_ops::sum(mass);
    [weighted(0) / total, weighted(1) / total]
}

impl Humanoid {
    fn is_healthy(&self, sim: &Sim) -> bool {
        let (min_z, max_z) = self.healthy_z_range;
        let z = sim.qpos()[2];
        min_z < z && z < max_z
    }
}

impl Task for Humanoid {
    const ID: &'static str = "Humanoid-v5";
    const MAX_EPISODE_STEPS: usize = 1000;
    const REWARD_THRESHOLD: Option<f64> = None;
    const XML: &'static str = "humanoid.xml";
    const FRAME_SKIP: i64 = 5;

    fn configure(p: &mut Params<'_>, _sim: &Sim) -> Result<Self, EnvError> {
        Ok(Self {
            forward_reward_weight: p.float("forward_reward_weight", 1.25)?,
            ctrl_cost_weight: p.float("ctrl_cost_weight", 0.1)?,
            contact_cost_weight: p.float("contact_cost_weight", 5e-7)?,
            contact_cost_range: p.range("contact_cost_range", (f64::NEG_INFINITY, 10.0))?,
            healthy_reward: p.float("healthy_reward", 5.0)?,
            terminate_when_unhealthy: p.bool("terminate_when_unhealthy", true)?,
            healthy_z_range: p.range("healthy_z_range", (1.0, 2.0))?,
            reset_noise_scale: p.float("reset_noise_scale", 1e-2)?,
            exclude_current_positions: p.bool("exclude_current_positions_from_observation", true)?,
            include_cinert: p.bool("include_cinert_in_observation", true)?,
            include_cvel: p.bool("include_cvel_in_observation", true)?,
            include_qfrc_actuator: p.bool("include_qfrc_actuator_in_observation", true)?,
            include_cfrc_ext: p.bool("include_cfrc_ext_in_observation", true)?,
            xy: [0.0; 2],
        })
    }

    fn obs_dim(&self, sim: &Sim) -> usize {
        let bodies = sim.nbody() - 1;
        sim.nq() + sim.nv() - 2 * usize::from(self.exclude_current_positions)
            + usize::from(self.include_cinert) * 10 * bodies
            + usize::from(self.include_cvel) * 6 * bodies
            + usize::from(self.include_qfrc_actuator) * (sim.nv() - 6)
            + usize::from(self.include_cfrc_ext) * 6 * bodies
    }

    fn reset_model(&mut self, sim: &mut Sim, rng: &mut Pcg64, init: &InitialState) {
        reset_with_uniform_noise(sim, rng, init, self.reset_noise_scale);
        self.xy = mass_center(sim);
    }

    fn observe(&self, sim: &Sim, obs: &mut ObsWriter<'_>) {
        let skip = 2 * usize::from(self.exclude_current_positions);
        obs.extend(sim.qpos()[skip..].iter().chain(sim.qvel()).map(|&v| v as f32));
        if self.include_cinert {
            obs.extend(sim.cinert()[10..].iter().map(|&v| v as f32));
        }
        if self.include_cvel {
            obs.extend(sim.cvel()[6..].iter().map(|&v| v as f32));
        }
        if self.include_qfrc_actuator {
            obs.extend(sim.qfrc_actuator()[6..].iter().map(|&v| v as f32));
        }
        if self.include_cfrc_ext {
            obs.extend(sim.cfrc_ext()[6..].iter().map(|&v| v as f32));
        }
    }

    fn step(&mut self, sim: &mut Sim, action: &[f32]) -> (f64, bool) {
        let before = self.xy;
        sim.do_simulation(action);
        self.xy = mass_center(sim);
        let x_velocity = (self.xy[0] - before[0]) / sim.dt();
        let healthy = self.is_healthy(sim);
        let forward_reward = self.forward_reward_weight * x_velocity;
        let healthy_reward = if healthy { self.healthy_reward } else { 0.0 };
        // Humanoid charges data.ctrl (float64), not the float32 action.
        let ctrl_cost = self.ctrl_cost_weight * sum_of_squares(sim.ctrl());
        let (low, high) = self.contact_cost_range;
        let contact_cost = clip(self.contact_cost_weight * sum_of_squares(sim.cfrc_ext()), low, high);
        ((forward_reward + healthy_reward) - (ctrl_cost + contact_cost), !healthy && self.terminate_when_unhealthy)
    }

    fn extra_state(&self) -> Vec<f64> {
        self.xy.to_vec()
    }

    fn set_extra_state(&mut self, values: &[f64]) {
        self.xy = [values[0], values[1]];
    }
}
