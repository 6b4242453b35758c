//! Ant-v5: the quadruped of Schulman et al. (2016), "High-dimensional
//! continuous control using generalized advantage estimation", as Gymnasium
//! 1.4.0's `ant_v5.py`.

use super::numpy_ops::{clip, control_cost, sum_of_clipped_squares};
use super::sim::Sim;
use super::{InitialState, ObsWriter, Params, Pcg64, Task, init_plus_normal, init_plus_uniform};
use crate::error::EnvError;
use crate::options::KwValue;

pub(crate) struct Ant {
    forward_reward_weight: f64,
    ctrl_cost_weight: f64,
    contact_cost_weight: f64,
    healthy_reward: f64,
    main_body: usize,
    terminate_when_unhealthy: bool,
    healthy_z_range: (f64, f64),
    contact_force_range: (f64, f64),
    reset_noise_scale: f64,
    exclude_current_positions: bool,
    include_cfrc_ext: bool,
    /// The main body's x and y after the last reset or step: Gymnasium reads
    /// them from `data.xpos` at the next step, where MuJoCo left them.
    xy: [f64; 2],
}

impl Ant {
    fn is_healthy(&self, sim: &Sim) -> bool {
        let finite = sim.qpos().iter().chain(sim.qvel()).all(|v| v.is_finite());
        let (min_z, max_z) = self.healthy_z_range;
        let z = sim.qpos()[2];
        finite && min_z <= z && z <= max_z
    }

    fn main_body_xy(&self, sim: &Sim) -> [f64; 2] {
        let p = sim.xpos(self.main_body);
        [p[0], p[1]]
    }
}

impl Task for Ant {
    const ID: &'static str = "Ant-v5";
    const MAX_EPISODE_STEPS: usize = 1000;
    const REWARD_THRESHOLD: Option<f64> = Some(6000.0);
    const XML: &'static str = "ant.xml";
    const FRAME_SKIP: i64 = 5;

    fn configure(p: &mut Params<'_>, sim: &Sim) -> Result<Self, EnvError> {
        let main_body = match p.body("main_body", 1)? {
            KwValue::Int(i) => usize::try_from(i).ok().filter(|i| *i < sim.nbody()),
            KwValue::Str(name) => sim.body_id(&name),
            _ => None,
        }
        .ok_or_else(|| EnvError::KwargValue {
            id: Self::ID.into(),
            key: "main_body".into(),
            expected: format!("a body of the model (an index below {} or a body's name)", sim.nbody()),
            got: "one it does not have".into(),
        })?;
        Ok(Self {
            forward_reward_weight: p.float("forward_reward_weight", 1.0)?,
            ctrl_cost_weight: p.float("ctrl_cost_weight", 0.5)?,
            contact_cost_weight: p.float("contact_cost_weight", 5e-4)?,
            healthy_reward: p.float("healthy_reward", 1.0)?,
            main_body,
            terminate_when_unhealthy: p.bool("terminate_when_unhealthy", true)?,
            healthy_z_range: p.range("healthy_z_range", (0.2, 1.0))?,
            contact_force_range: p.range("contact_force_range", (-1.0, 1.0))?,
            reset_noise_scale: p.float("reset_noise_scale", 0.1)?,
            exclude_current_positions: p.bool("exclude_current_positions_from_observation", true)?,
            include_cfrc_ext: p.bool("include_cfrc_ext_in_observation", true)?,
            xy: [0.0; 2],
        })
    }

    fn obs_dim(&self, sim: &Sim) -> usize {
        let cfrc = if self.include_cfrc_ext { 6 * (sim.nbody() - 1) } else { 0 };
        sim.nq() + sim.nv() - 2 * usize::from(self.exclude_current_positions) + cfrc
    }

    fn reset_model(&mut self, sim: &mut Sim, rng: &mut Pcg64, init: &InitialState) {
        let s = self.reset_noise_scale;
        let qpos = init_plus_uniform(&init.qpos, rng, -s, s);
        let qvel = init_plus_normal(&init.qvel, rng, s);
        sim.set_qpos_qvel(&qpos, &qvel);
        self.xy = self.main_body_xy(sim);
    }

    fn observe(&self, sim: &Sim, obs: &mut ObsWriter<'_>) {
        let skip = 2 * usize::from(self.exclude_current_positions);
        obs.extend(sim.qpos()[skip..].iter().chain(sim.qvel()).map(|&v| v as f32));
        if self.include_cfrc_ext {
            let (low, high) = self.contact_force_range;
            obs.extend(sim.cfrc_ext()[6..].iter().map(|&v| clip(v, low, high) as f32));
        }
    }

    fn step(&mut self, sim: &mut Sim, action: &[f32]) -> (f64, bool) {
        let before = self.xy;
        sim.do_simulation(action);
        self.xy = self.main_body_xy(sim);
        let x_velocity = (self.xy[0] - before[0]) / sim.dt();
        let healthy = self.is_healthy(sim);
        let forward_reward = x_velocity * self.forward_reward_weight;
        let healthy_reward = if healthy { self.healthy_reward } else { 0.0 };
        let (low, high) = self.contact_force_range;
        let contact_cost = self.contact_cost_weight * sum_of_clipped_squares(sim.cfrc_ext(), low, high);
        let costs = f64::from(control_cost(self.ctrl_cost_weight, action)) + contact_cost;
        ((forward_reward + healthy_reward) - costs, !healthy && self.terminate_when_unhealthy)
    }

    fn extra_state(&self) -> Vec<f64> {
        self.xy.to_vec()
    }

    fn set_extra_state(&mut self, values: &[f64]) {
        self.xy = [values[0], values[1]];
    }
}
