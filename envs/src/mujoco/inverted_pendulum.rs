//! InvertedPendulum-v5: the cart-pole of Barto, Sutton and Anderson (1983)
//! in MuJoCo, as Gymnasium 1.4.0's `inverted_pendulum_v5.py`.

use super::sim::Sim;
use super::{InitialState, ObsWriter, Params, Pcg64, Task, observe_positions_and_velocities, reset_with_uniform_noise};
use crate::error::EnvError;

pub(crate) struct InvertedPendulum {
    reset_noise_scale: f64,
}

impl Task for InvertedPendulum {
    const ID: &'static str = "InvertedPendulum-v5";
    const MAX_EPISODE_STEPS: usize = 1000;
    const REWARD_THRESHOLD: Option<f64> = Some(950.0);
    const XML: &'static str = "inverted_pendulum.xml";
    const FRAME_SKIP: i64 = 2;

    fn configure(p: &mut Params<'_>, _sim: &Sim) -> Result<Self, EnvError> {
        Ok(Self { reset_noise_scale: p.float("reset_noise_scale", 0.01)? })
    }

    fn obs_dim(&self, sim: &Sim) -> usize {
        sim.nq() + sim.nv()
    }

    fn reset_model(&mut self, sim: &mut Sim, rng: &mut Pcg64, init: &InitialState) {
        reset_with_uniform_noise(sim, rng, init, self.reset_noise_scale);
    }

    fn observe(&self, sim: &Sim, obs: &mut ObsWriter<'_>) {
        observe_positions_and_velocities(sim, obs, 0, None);
    }

    fn step(&mut self, sim: &mut Sim, action: &[f32]) -> (f64, bool) {
        sim.do_simulation(action);
        let finite = sim.qpos().iter().chain(sim.qvel()).all(|v| v.is_finite());
        let terminated = !finite || sim.qpos()[1].abs() > 0.2;
        (if terminated { 0.0 } else { 1.0 }, terminated)
    }
}
