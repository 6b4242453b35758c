//! InvertedDoublePendulum-v5: a cart with two poles, as Gymnasium 1.4.0's
//! `inverted_double_pendulum_v5.py`.

use super::numpy_ops::clip;
use super::sim::Sim;
use super::{InitialState, ObsWriter, Params, Pcg64, Task, init_plus_normal, init_plus_uniform};
use crate::classic::numpy_square;
use crate::error::EnvError;

pub(crate) struct InvertedDoublePendulum {
    healthy_reward: f64,
    reset_noise_scale: f64,
}

impl Task for InvertedDoublePendulum {
    const ID: &'static str = "InvertedDoublePendulum-v5";
    const MAX_EPISODE_STEPS: usize = 1000;
    const REWARD_THRESHOLD: Option<f64> = Some(9100.0);
    const XML: &'static str = "inverted_double_pendulum.xml";
    const FRAME_SKIP: i64 = 5;

    fn configure(p: &mut Params<'_>, _sim: &Sim) -> Result<Self, EnvError> {
        Ok(Self {
            healthy_reward: p.float("healthy_reward", 10.0)?,
            reset_noise_scale: p.float("reset_noise_scale", 0.1)?,
        })
    }

    fn obs_dim(&self, sim: &Sim) -> usize {
        1 + 2 * (sim.nq() - 1) + sim.nv() + 1
    }

    fn reset_model(&mut self, sim: &mut Sim, rng: &mut Pcg64, init: &InitialState) {
        let s = self.reset_noise_scale;
        let qpos = init_plus_uniform(&init.qpos, rng, -s, s);
        // init_qvel + standard_normal(nv) * scale: the same product either way round.
        let qvel = init_plus_normal(&init.qvel, rng, s);
        sim.set_qpos_qvel(&qpos, &qvel);
    }

    fn observe(&self, sim: &Sim, obs: &mut ObsWriter<'_>) {
        let qpos = sim.qpos();
        obs.push(qpos[0] as f32);
        obs.extend(qpos[1..].iter().map(|v| v.sin() as f32));
        obs.extend(qpos[1..].iter().map(|v| v.cos() as f32));
        obs.extend(sim.qvel().iter().map(|&v| clip(v, -10.0, 10.0) as f32));
        obs.push(clip(sim.qfrc_constraint()[0], -10.0, 10.0) as f32);
    }

    fn step(&mut self, sim: &mut Sim, action: &[f32]) -> (f64, bool) {
        sim.do_simulation(action);
        let [x, _, y] = sim.site_xpos0();
        let terminated = y <= 1.0;
        let (v1, v2) = (sim.qvel()[1], sim.qvel()[2]);
        let dist_penalty = 0.01 * numpy_square(x) + numpy_square(y - 2.0);
        let vel_penalty = 1e-3 * numpy_square(v1) + 5e-3 * numpy_square(v2);
        let alive_bonus = self.healthy_reward * if terminated { 0.0 } else { 1.0 };
        (alive_bonus - dist_penalty - vel_penalty, terminated)
    }
}
