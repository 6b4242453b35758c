//! One rollout collector for every agent, and generalised advantage
//! estimation (Schulman et al., 2016, "High-dimensional continuous control
//! using generalized advantage estimation").

use natgrad_envs::{EnvError, EpisodeStats, Restored, Rng, VecActions, VectorEnv};
use tch::Tensor;

use crate::actor::{Actor, CpuActor, Decisions, TorchActor};
use crate::agent::CommonConfig;
use crate::encoding::ObsEncoding;
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
    assert!(n_envs > 0 && len.is_multiple_of(n_envs), "rollout length {len} is not a multiple of {n_envs} streams");
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

/// `raw` as the networks see it: encoded, then normalised by `normalizer` if
/// there is one.
fn network_input(encoding: &ObsEncoding, normalizer: Option<&ObsNormalizer>, raw: &[f32]) -> Vec<f32> {
    let encoded = encoding.encode(raw);
    match normalizer {
        Some(norm) => norm.normalize(&encoded),
        None => encoded.into_owned(),
    }
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
    /// Rewards as the agent learns from them (scaled if enabled).
    pub rewards: Tensor,
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
    pub venv: Box<dyn VectorEnv>,
    /// How the observations become the networks' input (one-hot for `Discrete`).
    pub encoding: ObsEncoding,
    /// Statistics of the encoded observations.
    pub obs_normalizer: Option<ObsNormalizer>,
    pub reward_scaler: Option<RewardScaler>,
    /// The raw observations the next step starts from.
    last_obs: Vec<f32>,
    /// Draws the actions (stream [`crate::agent::streams::ACTIONS`] of the seed).
    pub rng: Rng,
    /// Environment steps taken so far, over all copies.
    pub total_steps: usize,
}

impl Collector {
    /// Resets the environments with `seed` (copy i gets `seed + i`) and seeds
    /// action sampling from the same seed.
    pub fn new(
        mut venv: Box<dyn VectorEnv>,
        seed: u64,
        normalize_obs: bool,
        scale_rewards_gamma: Option<f64>,
    ) -> Result<Self, EnvError> {
        let last_obs = venv.reset(Some(seed))?.to_vec();
        let encoding = ObsEncoding::of(venv.observation_space());
        let mut obs_normalizer = normalize_obs.then(|| ObsNormalizer::for_columns(encoding.normalizable_columns()));
        if let Some(norm) = obs_normalizer.as_mut() {
            norm.stats.update(&encoding.encode(&last_obs));
        }
        let reward_scaler = scale_rewards_gamma.map(|gamma| RewardScaler::new(venv.num_envs(), gamma));
        let rng = Rng::derive(seed, crate::agent::streams::ACTIONS);
        Ok(Self { venv, encoding, obs_normalizer, reward_scaler, last_obs, rng, total_steps: 0 })
    }

    /// Puts the environments back as a checkpoint found them; the next step
    /// starts from their observations. Where their state could not be saved,
    /// the episodes in progress restart: the copies are reset with a seed
    /// drawn from the (restored) action stream, so a resume stays
    /// reproducible, and the caller says so (and restarts any running
    /// discounted returns it keeps for reward scaling).
    pub fn restore_envs(&mut self, snapshot: &natgrad_envs::EnvSnapshot) -> Result<Restored, EnvError> {
        let restored = self.venv.restore(snapshot)?;
        if restored == Restored::EpisodesRestart {
            let seed = self.rng.next_u64();
            self.venv.reset(Some(seed))?;
        }
        self.last_obs.copy_from_slice(self.venv.observations());
        Ok(restored)
    }

    /// Observations as the networks see them: encoded, normalised if enabled.
    fn network_input(&self, raw: &[f32]) -> Vec<f32> {
        network_input(&self.encoding, self.obs_normalizer.as_ref(), raw)
    }

    /// Runs `n_steps` steps in each copy and computes GAE(γ, λ), with
    /// `config`'s settings. On the CPU the networks run in plain Rust
    /// ([`CpuActor`]), elsewhere through libtorch. A gSDE policy draws its
    /// exploration matrices at the start and, with `sde_sample_freq` > 0,
    /// every `sde_sample_freq` steps, as Stable-Baselines3.
    pub fn collect(
        &mut self,
        policy: &Policy,
        value: &ValueFunction,
        config: &CommonConfig,
    ) -> Result<Rollout, EnvError> {
        let n = self.venv.num_envs();
        let obs_dim = self.encoding.input_dim();
        let mut actor: Box<dyn Actor + '_> = match CpuActor::new(policy, value) {
            Some(cpu) => Box::new(cpu),
            None => Box::new(TorchActor::new(policy, value, obs_dim)),
        };
        actor.reset_noise(n, &mut self.rng);
        let resample_every = Some(config.sde_sample_freq).filter(|f| *f > 0);
        let mut steps = Steps::with_capacity(config.n_steps * n, obs_dim, policy.action_kind().dim());
        for t in 0..config.n_steps {
            if resample_every.is_some_and(|f| t > 0 && t % f == 0) {
                actor.reset_noise(n, &mut self.rng);
            }
            self.step(actor.as_mut(), policy.action_kind(), &mut steps)?;
        }
        self.total_steps += steps.rewards.len();

        let last_values = actor.values(&self.network_input(&self.last_obs));
        let mut truncation_values = vec![0.0f32; steps.rewards.len()];
        if !steps.truncation_rows.is_empty() {
            let finals = actor.values(&steps.final_obs);
            for (row, v) in steps.truncation_rows.iter().zip(finals) {
                truncation_values[*row] = v;
            }
        }
        let advantages = gae(
            &steps.rewards,
            &steps.decisions.values,
            &steps.terminated,
            &steps.truncated,
            &truncation_values,
            &last_values,
            config.gamma,
            config.gae_lambda,
        );
        Ok(steps.into_rollout(&advantages, policy, obs_dim))
    }

    /// One step of every copy: the actor decides, the environments move, and
    /// `steps` records it. The observations are encoded and normalised in
    /// place in the batch and the actor appends to it: with `Box`
    /// observations a step allocates nothing of its own.
    fn step(&mut self, actor: &mut dyn Actor, kind: &ActionKind, steps: &mut Steps) -> Result<(), EnvError> {
        let n = self.venv.num_envs();
        let row = steps.obs.len();
        self.encoding.encode_into(&self.last_obs, &mut steps.obs);
        if let Some(norm) = self.obs_normalizer.as_ref() {
            norm.normalize_in_place(&mut steps.obs[row..]);
        }
        let first_action = steps.decisions.actions.len();
        actor.act(&steps.obs[row..], &mut self.rng, &mut steps.decisions);
        let step = self.venv.step(env_actions(kind, &steps.decisions.actions[first_action..], &mut steps.scratch))?;
        let base = steps.rewards.len();
        match self.reward_scaler.as_mut() {
            Some(scaler) => scaler.scale_into(step.rewards, step.terminated, step.truncated, &mut steps.rewards),
            None => steps.rewards.extend(step.rewards.iter().map(|r| *r as f32)),
        }
        steps.terminated.extend_from_slice(step.terminated);
        steps.truncated.extend_from_slice(step.truncated);
        self.last_obs.copy_from_slice(step.obs);
        if let Some(norm) = self.obs_normalizer.as_mut() {
            norm.stats.update(&self.encoding.encode(&self.last_obs));
        }
        // A truncated episode's final observation is normalised now, with the
        // statistics of its own step (as SB3's VecNormalize), and valued with
        // the others at the end.
        for i in (0..n).filter(|i| step.truncated[*i] && !step.terminated[*i]) {
            steps.truncation_rows.push(base + i);
            let raw = step.final_observation(i).expect("the episode ended");
            steps.final_obs.extend(network_input(&self.encoding, self.obs_normalizer.as_ref(), raw));
        }
        steps.episodes.extend_from_slice(step.episodes);
        let now = self.total_steps + steps.rewards.len();
        steps.episode_end_steps.extend(step.episodes.iter().map(|_| now));
        Ok(())
    }
}

/// The actions as the environments take them: indices, or values clipped to
/// the box (sampled unclipped, clipped only on the way to the environment).
pub(crate) fn env_actions<'a>(kind: &ActionKind, actions: &[f32], scratch: &'a mut ActionScratch) -> VecActions<'a> {
    match kind {
        ActionKind::Discrete { .. } | ActionKind::MultiDiscrete { .. } | ActionKind::MultiBinary { .. } => {
            scratch.discrete.clear();
            scratch.discrete.extend(actions.iter().map(|a| *a as i64));
            match kind {
                ActionKind::Discrete { .. } => VecActions::Discrete(&scratch.discrete),
                _ => VecActions::Indices(&scratch.discrete),
            }
        }
        ActionKind::Continuous { low, high } => {
            let d = low.len();
            scratch.continuous.clear();
            scratch.continuous.extend(actions.iter().enumerate().map(|(j, x)| x.clamp(low[j % d], high[j % d])));
            VecActions::Continuous(&scratch.continuous)
        }
    }
}

/// Buffers reused by every step for the actions handed to the environments.
#[derive(Default)]
pub(crate) struct ActionScratch {
    discrete: Vec<i64>,
    continuous: Vec<f32>,
}

/// What a rollout records step by step, rows laid out `[t * n_envs + i]`.
#[derive(Default)]
struct Steps {
    /// As the networks saw them (normalised if enabled).
    obs: Vec<f32>,
    decisions: Decisions,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    /// The rows where an episode was truncated, and (normalised) its final observation.
    truncation_rows: Vec<usize>,
    final_obs: Vec<f32>,
    episodes: Vec<EpisodeStats>,
    episode_end_steps: Vec<usize>,
    scratch: ActionScratch,
}

impl Steps {
    fn with_capacity(rows: usize, obs_dim: usize, action_dim: usize) -> Self {
        Self {
            obs: Vec::with_capacity(rows * obs_dim),
            decisions: Decisions {
                actions: Vec::with_capacity(rows * action_dim),
                log_probs: Vec::with_capacity(rows),
                values: Vec::with_capacity(rows),
            },
            rewards: Vec::with_capacity(rows),
            terminated: Vec::with_capacity(rows),
            truncated: Vec::with_capacity(rows),
            ..Default::default()
        }
    }

    /// The batch as tensors on the policy's device and in its float kind.
    fn into_rollout(self, advantages: &[f32], policy: &Policy, obs_dim: usize) -> Rollout {
        let (device, kind) = (policy.device(), policy.kind());
        let tensor = |v: &[f32]| Tensor::from_slice(v).to_device(device).to_kind(kind);
        let action_kind = policy.action_kind();
        let indices = || -> Vec<i64> { self.decisions.actions.iter().map(|a| *a as i64).collect() };
        let actions = match action_kind {
            ActionKind::Discrete { .. } => Tensor::from_slice(&indices()).to_device(device),
            ActionKind::MultiDiscrete { .. } => {
                Tensor::from_slice(&indices()).view([-1, action_kind.dim() as i64]).to_device(device)
            }
            ActionKind::Continuous { .. } | ActionKind::MultiBinary { .. } => {
                tensor(&self.decisions.actions).view([-1, action_kind.dim() as i64])
            }
        };
        let values = tensor(&self.decisions.values);
        let advantages = tensor(advantages);
        let returns = &advantages + &values;
        Rollout {
            obs: tensor(&self.obs).view([-1, obs_dim as i64]),
            actions,
            log_probs: tensor(&self.decisions.log_probs),
            rewards: tensor(&self.rewards),
            values,
            advantages,
            returns,
            episodes: self.episodes,
            episode_end_steps: self.episode_end_steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use natgrad_envs::{MakeOptions, Space, make_vec};
    use tch::{Device, Kind};

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

    #[test]
    fn a_truncated_episodes_final_observation_is_normalised_with_the_statistics_of_its_step() {
        // MountainCar cut at 5 steps: every episode is truncated, and V of
        // each final observation is the bootstrap of its episode's last step.
        let options = MakeOptions { max_episode_steps: Some(5), ..Default::default() };
        let (n, steps, gamma) = (2usize, 12usize, 0.9);
        let (policy, value) = crate::generator::seeded(0, || {
            let policy = Policy::new(2, &Space::Discrete { n: 3 }, &[8], 0.0, None, Device::Cpu).unwrap();
            (policy, ValueFunction::new(2, &[8], 1e-3, 1e-5, Device::Cpu).unwrap())
        });
        let mut collector = Collector::new(make_vec("MountainCar-v0", n, &options).unwrap(), 1, true, None).unwrap();
        let config = CommonConfig { n_envs: n, n_steps: steps, gamma, gae_lambda: 0.5, ..Default::default() };
        let rollout = collector.collect(&policy, &value, &config).unwrap();
        let floats = |t: &Tensor| Vec::<f32>::try_from(&t.to_kind(Kind::Float).reshape([-1])).unwrap();
        let (rewards, values, advantages) =
            (floats(&rollout.rewards), floats(&rollout.values), floats(&rollout.advantages));
        let actions = Vec::<i64>::try_from(&rollout.actions).unwrap();

        // The same steps again, with the statistics kept by hand.
        let mut replay = make_vec("MountainCar-v0", n, &options).unwrap();
        let mut norm = ObsNormalizer::new(2);
        norm.stats.update(replay.reset(Some(1)).unwrap());
        let mut checked = 0;
        for t in 0..steps {
            let step = replay.step(VecActions::Discrete(&actions[t * n..(t + 1) * n])).unwrap();
            norm.stats.update(step.obs);
            for i in (0..n).filter(|i| step.truncated[*i]) {
                let row = t * n + i;
                let last = norm.normalize(step.final_observation(i).unwrap());
                let bootstrap =
                    tch::no_grad(|| value.forward(&Tensor::from_slice(&last).view([1, 2]))).double_value(&[0]);
                let expected = f64::from(rewards[row]) + gamma * bootstrap - f64::from(values[row]);
                assert!(
                    (f64::from(advantages[row]) - expected).abs() < 1e-5,
                    "row {row}: {} vs {expected}",
                    advantages[row]
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 2 * n, "two episodes per copy ended in 12 steps");
    }
}
