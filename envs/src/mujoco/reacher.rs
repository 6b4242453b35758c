//! Reacher-v5: a two-link arm reaching a random target, as Gymnasium 1.4.0's
//! `reacher_v5.py`.

use super::numpy_ops::{norm, sum_of_squares_f32};
use super::sim::Sim;
use super::{InitialState, ObsWriter, Params, Pcg64, Task};
use crate::error::EnvError;
use crate::options::NumpyDot;

pub(crate) struct Reacher {
    /// `np.linalg.norm`'s arithmetic, which depends on the CPU ([`NumpyDot`]).
    dot: NumpyDot,
    reward_dist_weight: f64,
    reward_control_weight: f64,
    fingertip: usize,
    target: usize,
}

impl Reacher {
    fn fingertip_to_target(&self, sim: &Sim) -> [f64; 3] {
        let (f, t) = (sim.xpos(self.fingertip), sim.xpos(self.target));
        [f[0] - t[0], f[1] - t[1], f[2] - t[2]]
    }
}

impl Task for Reacher {
    const ID: &'static str = "Reacher-v5";
    const MAX_EPISODE_STEPS: usize = 50;
    const REWARD_THRESHOLD: Option<f64> = Some(-3.75);
    const XML: &'static str = "reacher.xml";
    const FRAME_SKIP: i64 = 2;

    fn configure(p: &mut Params<'_>, sim: &Sim) -> Result<Self, EnvError> {
        let body = |name: &str| {
            sim.body_id(name).ok_or_else(|| EnvError::MujocoLoad {
                path: "the model".into(),
                message: format!("Reacher needs a body named '{name}'"),
            })
        };
        Ok(Self {
            dot: p.numpy_dot,
            reward_dist_weight: p.float("reward_dist_weight", 1.0)?,
            reward_control_weight: p.float("reward_control_weight", 1.0)?,
            fingertip: body("fingertip")?,
            target: body("target")?,
        })
    }

    fn obs_dim(&self, sim: &Sim) -> usize {
        2 + 2 + (sim.nq() - 2) + 2 + 2
    }

    fn reset_model(&mut self, sim: &mut Sim, rng: &mut Pcg64, init: &InitialState) {
        let mut qpos: Vec<f64> = init.qpos.iter().map(|v| rng.uniform(-0.1, 0.1) + v).collect();
        let goal = loop {
            let goal = [rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2)];
            if norm(&goal, self.dot) < 0.2 {
                break goal;
            }
        };
        let n = qpos.len();
        qpos[n - 2..].copy_from_slice(&goal);
        let mut qvel: Vec<f64> = init.qvel.iter().map(|v| v + rng.uniform(-0.005, 0.005)).collect();
        let n = qvel.len();
        qvel[n - 2..].fill(0.0);
        sim.set_qpos_qvel(&qpos, &qvel);
    }

    fn observe(&self, sim: &Sim, obs: &mut ObsWriter<'_>) {
        let qpos = sim.qpos();
        obs.extend(qpos[..2].iter().map(|v| v.cos() as f32));
        obs.extend(qpos[..2].iter().map(|v| v.sin() as f32));
        obs.extend(qpos[2..].iter().map(|&v| v as f32));
        obs.extend(sim.qvel()[..2].iter().map(|&v| v as f32));
        obs.extend(self.fingertip_to_target(sim)[..2].iter().map(|&v| v as f32));
    }

    fn step(&mut self, sim: &mut Sim, action: &[f32]) -> (f64, bool) {
        sim.do_simulation(action);
        let reward_dist = -norm(&self.fingertip_to_target(sim), self.dot) * self.reward_dist_weight;
        // -np.square(action).sum() * weight: a float32 scalar times a Python number stays float32.
        let reward_ctrl = -sum_of_squares_f32(action) * self.reward_control_weight as f32;
        (reward_dist + f64::from(reward_ctrl), false)
    }
}
