//! One rollout collector for every agent, and generalised advantage
//! estimation (Schulman et al., 2016, "High-dimensional continuous control
//! using generalized advantage estimation").

use natgrad_envs::{EnvError, EpisodeStats, Rng, VecActions, VecEnv};
use tch::{Device, Kind, Tensor};

use crate::normalize::{ObsNormalizer, RewardScaler};
use crate::policy::{ActionKind, Policy};
use crate::value::ValueFunction;

/// GAE(γ, λ) advantages for `n_envs` interleaved streams: every slice is laid
/// out `[t * n_envs + i]` over `T` steps. After a terminated step the next
/// value is 0; after a truncated one it is `truncation_values` (V of the
/// episode's final observation); after the last step of the rollout it is
/// `last_values` (V of the observation that follows). The advantage chain
/// restarts at every episode end. Returns the advantages; the value targets
/// are advantages + values.
#[allow(clippy::too_many_arguments)]
pub fn gae(
    rewards: &[f32],
    values: &[f32],
    terminated: &[bool],
    truncated: &[bool],
    truncation_values: &[f32],
    last_values: &[f32],
    gamma: f64,
    lambda: f64,
) -> Vec<f32> {
    let n_envs = last_values.len();
    let len = rewards.len();
    assert!(n_envs > 0 && len % n_envs == 0, "rollout length {len} is not a multiple of {n_envs} streams");
    for (name, s) in [("values", values.len()), ("truncation_values", truncation_values.len())] {
        assert_eq!(s, len, "{name} has {s} entries for {len} rewards");
    }
    assert_eq!(terminated.len(), len);
    assert_eq!(truncated.len(), len);
    let mut advantages = vec![0.0f32; len];
    let mut running = vec![0.0f64; n_envs];
    for j in (0..len).rev() {
        let i = j % n_envs;
        let next_value = if terminated[j] {
            0.0
        } else if truncated[j] {
            f64::from(truncation_values[j])
        } else if j + n_envs < len {
            f64::from(values[j + n_envs])
        } else {
            f64::from(last_values[i])
        };
        let episode_goes_on = !(terminated[j] || truncated[j]);
        let delta = f64::from(rewards[j]) + gamma * next_value - f64::from(values[j]);
        running[i] = delta + if episode_goes_on { gamma * lambda * running[i] } else { 0.0 };
        advantages[j] = running[i] as f32;
    }
    advantages
}

/// A batch of experience, flattened over time and copies (`T * n_envs` rows).
#[derive(Debug)]
pub struct Rollout {
    /// Observations as the networks saw them (normalised if enabled).
    pub obs: Tensor,
    /// Sampled actions: int64 `[rows]`, or float `[rows, dim]` (unclipped).
    pub actions: Tensor,
    /// log π_old(a|s) of the sampled actions.
    pub log_probs: Tensor,
    /// V(s) at collection time.
    pub values: Tensor,
    pub advantages: Tensor,
    /// Value targets: advantages + values.
    pub returns: Tensor,
    /// Episodes that ended during this rollout (raw, unscaled returns).
    pub episodes: Vec<EpisodeStats>,
    /// For each episode, the environment step count (over all copies) at
    /// which it ended.
    pub episode_end_steps: Vec<usize>,
}

impl Rollout {
    pub fn len(&self) -> usize {
        self.obs.size()[0] as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Steps a vectorized environment with a policy and records rollouts. Holds
/// everything about the environment side that a checkpoint must keep: the
/// environments, the last observations and the normalisation statistics.
pub struct Collector {
    pub venv: VecEnv,
    pub obs_normalizer: Option<ObsNormalizer>,
    pub reward_scaler: Option<RewardScaler>,
    /// The raw observations the next step starts from.
    last_obs: Vec<f32>,
    device: Device,
    /// Draws the actions (stream [`crate::agent::streams::ACTIONS`] of the seed).
    pub rng: Rng,
    /// Environment steps taken so far, over all copies.
    pub total_steps: usize,
}

impl Collector {
    /// Resets the environments with `seed` (copy i gets `seed + i`) and seeds
    /// action sampling from the same seed.
    pub fn new(
        mut venv: VecEnv,
        seed: u64,
        normalize_obs: bool,
        scale_rewards_gamma: Option<f64>,
        device: Device,
    ) -> Self {
        let last_obs = venv.reset(Some(seed)).to_vec();
        let mut obs_normalizer = normalize_obs.then(|| ObsNormalizer::new(venv.obs_dim()));
        if let Some(norm) = obs_normalizer.as_mut() {
            norm.stats.update(&last_obs);
        }
        let reward_scaler = scale_rewards_gamma.map(|gamma| RewardScaler::new(venv.num_envs(), gamma));
        let rng = Rng::derive(seed, crate::agent::streams::ACTIONS);
        Self { venv, obs_normalizer, reward_scaler, last_obs, device, rng, total_steps: 0 }
    }

    /// Puts the environments back as a checkpoint found them; the next step
    /// starts from their observations.
    pub fn restore_envs(&mut self, snapshot: &natgrad_envs::EnvSnapshot) -> Result<(), EnvError> {
        self.venv.restore(snapshot)?;
        self.last_obs.copy_from_slice(self.venv.observations());
        Ok(())
    }

    fn to_tensor(&self, raw: &[f32]) -> Tensor {
        let values = match &self.obs_normalizer {
            Some(norm) => norm.normalize(raw),
            None => raw.to_vec(),
        };
        let dim = self.venv.obs_dim() as i64;
        Tensor::from_slice(&values).view([-1, dim]).to_device(self.device)
    }

    /// The current observations as the networks would see them.
    pub fn observation_tensor(&self) -> Tensor {
        self.to_tensor(&self.last_obs)
    }

    /// Runs `n_steps` steps in each copy and computes GAE(γ, λ).
    pub fn collect(
        &mut self,
        policy: &Policy,
        value: &ValueFunction,
        n_steps: usize,
        gamma: f64,
        lambda: f64,
    ) -> Result<Rollout, EnvError> {
        let n = self.venv.num_envs();
        let kind = policy.kind();
        let (mut obs, mut actions, mut log_probs, mut values) = (vec![], vec![], vec![], vec![]);
        let mut rewards = Vec::with_capacity(n_steps * n);
        let mut terminated = Vec::with_capacity(n_steps * n);
        let mut truncated = Vec::with_capacity(n_steps * n);
        // Final observations of truncated episodes, valued in one batch at the end.
        let mut truncation_rows = vec![];
        let mut final_obs = vec![];
        let mut episodes = vec![];
        let mut episode_end_steps = vec![];
        let mut discrete = vec![0i64; n];
        let mut continuous = vec![];
        for _ in 0..n_steps {
            let o = self.observation_tensor().to_kind(kind);
            let (a, logp, v) = tch::no_grad(|| {
                let dist = policy.dist(&o);
                let a = dist.sample(&mut self.rng);
                let logp = dist.log_prob(&a);
                (a, logp, value.forward(&o))
            });
            let env_actions = match policy.action_kind() {
                ActionKind::Discrete { .. } => {
                    discrete = Vec::<i64>::try_from(&a.to_device(Device::Cpu)).expect("int64 actions");
                    VecActions::Discrete(&discrete)
                }
                ActionKind::Continuous { low, high } => {
                    // Sampled unclipped; clipped only on the way to the environment.
                    continuous = Vec::<f32>::try_from(&a.to_kind(Kind::Float).to_device(Device::Cpu).reshape([-1]))
                        .expect("float actions");
                    let d = low.len();
                    for (j, x) in continuous.iter_mut().enumerate() {
                        *x = x.clamp(low[j % d], high[j % d]);
                    }
                    VecActions::Continuous(&continuous)
                }
            };
            let step = self.venv.step(env_actions)?;
            let base = rewards.len();
            let done: Vec<bool> = (0..n).map(|i| step.terminated[i] || step.truncated[i]).collect();
            match self.reward_scaler.as_mut() {
                Some(scaler) => rewards.extend(scaler.scale(step.rewards, &done)),
                None => rewards.extend(step.rewards.iter().map(|r| *r as f32)),
            }
            terminated.extend_from_slice(step.terminated);
            truncated.extend_from_slice(step.truncated);
            for i in 0..n {
                if step.truncated[i] && !step.terminated[i] {
                    truncation_rows.push(base + i);
                    final_obs.extend_from_slice(step.final_observation(i).expect("the episode ended"));
                }
            }
            episodes.extend_from_slice(step.episodes);
            let now = self.total_steps + rewards.len();
            episode_end_steps.extend(step.episodes.iter().map(|_| now));
            self.last_obs.copy_from_slice(step.obs);
            if let Some(norm) = self.obs_normalizer.as_mut() {
                norm.stats.update(&self.last_obs);
            }
            obs.push(o);
            actions.push(a);
            log_probs.push(logp);
            values.push(v);
        }
        self.total_steps += n_steps * n;

        let (last_values, final_values) = tch::no_grad(|| {
            let last = value.forward(&self.observation_tensor().to_kind(kind));
            let finals =
                (!truncation_rows.is_empty()).then(|| value.forward(&self.to_tensor(&final_obs).to_kind(kind)));
            (last, finals)
        });
        let values = Tensor::cat(&values, 0);
        let values_vec = to_f32_vec(&values);
        let mut truncation_values = vec![0.0f32; rewards.len()];
        if let Some(finals) = final_values {
            for (row, v) in truncation_rows.iter().zip(to_f32_vec(&finals)) {
                truncation_values[*row] = v;
            }
        }
        let advantages = gae(
            &rewards,
            &values_vec,
            &terminated,
            &truncated,
            &truncation_values,
            &to_f32_vec(&last_values),
            gamma,
            lambda,
        );
        let advantages = Tensor::from_slice(&advantages).to_device(self.device).to_kind(kind);
        let returns = &advantages + &values;
        Ok(Rollout {
            obs: Tensor::cat(&obs, 0),
            actions: Tensor::cat(&actions, 0),
            log_probs: Tensor::cat(&log_probs, 0),
            values,
            advantages,
            returns,
            episodes,
            episode_end_steps,
        })
    }
}

fn to_f32_vec(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&t.to_kind(Kind::Float).to_device(Device::Cpu).reshape([-1])).expect("a float tensor")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((f64::from(*x) - y).abs() < 1e-6, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn gae_by_hand_with_termination_truncation_and_cutoff() {
        // One stream, 4 steps: an episode terminated at t=1, a new one
        // truncated at t=2, a third cut off by the rollout after t=3.
        let (g, l) = (0.9, 0.8);
        let r = [1.0, 2.0, 3.0, 4.0];
        let v = [0.5, 0.25, 1.0, 2.0];
        let term = [false, true, false, false];
        let trunc = [false, false, true, false];
        let tv = [0.0, 0.0, 10.0, 0.0];
        let last = [5.0];
        let adv = gae(&r, &v, &term, &trunc, &tv, &last, g, l);
        let d3 = 4.0 + g * 5.0 - 2.0; // bootstrap from the next observation
        let d2 = 3.0 + g * 10.0 - 1.0; // bootstrap from V(final observation)
        let d1 = 2.0 - 0.25; // terminal: no bootstrap
        let d0 = 1.0 + g * 0.25 - 0.5;
        close(&adv, &[d0 + g * l * d1, d1, d2, d3]);
    }

    #[test]
    fn gae_keeps_interleaved_streams_apart() {
        // Two streams, 2 steps each: [t0 e0, t0 e1, t1 e0, t1 e1].
        let (g, l) = (0.99, 0.95);
        let r = [1.0, 0.0, 1.0, 0.0];
        let v = [0.0, 1.0, 0.0, 1.0];
        let none = [false; 4];
        let adv = gae(&r, &v, &none, &none, &[0.0; 4], &[2.0, 3.0], g, l);
        let e0_1 = 1.0 + g * 2.0;
        let e0_0 = 1.0 + g * 0.0 + g * l * e0_1;
        let e1_1 = 0.0 + g * 3.0 - 1.0;
        let e1_0 = 0.0 + g * 1.0 - 1.0 + g * l * e1_1;
        close(&adv, &[e0_0, e1_0, e0_1, e1_1]);
    }

    #[test]
    fn gae_with_lambda_one_and_no_ends_is_the_discounted_return_minus_value() {
        let adv = gae(&[1.0; 3], &[0.0; 3], &[false; 3], &[false; 3], &[0.0; 3], &[0.0], 0.5, 1.0);
        close(&adv, &[1.75, 1.5, 1.0]);
    }
}
