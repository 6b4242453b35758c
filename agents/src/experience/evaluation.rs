//! Evaluation of a policy during training, as Stable-Baselines3's
//! `evaluate_policy` and rl-baselines3-zoo's `EvalCallback` do it:
//! environment copies of their own, the policy's most likely action (or, as
//! zoo evaluates Atari, sampled ones), and the training run's observation
//! statistics frozen.

use natgrad_envs::{EnvError, Rng, VectorEnv};
use tch::{Device, Kind, Tensor};

use crate::encoding::ObsEncoding;
use crate::normalize::ObsNormalizer;
use crate::policy::Policy;
use crate::rollout::{ActionScratch, env_actions};

/// The episodes of one evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    pub returns: Vec<f64>,
    pub lengths: Vec<usize>,
    /// Whether each episode ended at the goal, for the episodes whose
    /// environment says so (`is_success` in `info`).
    pub successes: Vec<bool>,
}

impl Evaluation {
    pub fn mean_return(&self) -> f64 {
        mean(&self.returns)
    }

    /// The population standard deviation of the returns, as SB3 reports it.
    pub fn std_return(&self) -> f64 {
        let m = self.mean_return();
        mean(&self.returns.iter().map(|r| (r - m).powi(2)).collect::<Vec<_>>()).sqrt()
    }

    pub fn mean_length(&self) -> f64 {
        mean(&self.lengths.iter().map(|l| *l as f64).collect::<Vec<_>>())
    }

    /// The share of episodes that ended at the goal, where the environment says.
    pub fn success_rate(&self) -> Option<f64> {
        (!self.successes.is_empty())
            .then(|| self.successes.iter().filter(|s| **s).count() as f64 / self.successes.len() as f64)
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() { f64::NAN } else { values.iter().sum::<f64>() / values.len() as f64 }
}

/// The episodes each of `copies` copies plays so that `episodes` are played in
/// all: copy i plays ⌊(episodes + i) / copies⌋, as SB3 splits them, so that
/// copies whose episodes are short do not crowd out the long ones.
pub fn episodes_per_copy(episodes: usize, copies: usize) -> Vec<usize> {
    (0..copies).map(|i| (episodes + i) / copies).collect()
}

/// Plays `episodes` episodes of `policy`'s most likely actions on `venv`
/// (with `deterministic` false, actions sampled from a generator seeded
/// with `seed`), copy i reset with `seed + i`, observations encoded as in training
/// ([`ObsEncoding`]) and normalised with `normalizer` as it stands (it
/// learns nothing here). Nothing of the training run's environments or
/// random streams is touched, so a run evaluates without changing what it
/// learns.
pub fn evaluate(
    policy: &Policy,
    venv: &mut dyn VectorEnv,
    normalizer: Option<&ObsNormalizer>,
    episodes: usize,
    deterministic: bool,
    seed: u64,
) -> Result<Evaluation, EnvError> {
    let copies = venv.num_envs();
    let targets = episodes_per_copy(episodes, copies);
    let mut played = vec![0; copies];
    let mut result = Evaluation::default();
    let (kind, dtype, device) = (policy.action_kind().clone(), policy.kind(), policy.device());
    // Deterministic actions draw nothing from it.
    let mut rng = Rng::seed_from_u64(seed);
    let mut scratch = ActionScratch::default();
    let encoding = ObsEncoding::of(venv.observation_space());
    let mut obs = venv.reset(Some(seed))?.to_vec();
    let mut input = Vec::with_capacity(copies * encoding.input_dim());
    while played.iter().zip(&targets).any(|(p, t)| p < t) {
        input.clear();
        encoding.encode_into(&obs, &mut input);
        if let Some(normalizer) = normalizer {
            normalizer.normalize_in_place(&mut input);
        }
        let input = Tensor::from_slice(&input).view([copies as i64, -1]).to_kind(dtype).to_device(device);
        let actions = policy.act(&input, deterministic, &mut rng);
        let actions = Vec::<f32>::try_from(&actions.to_device(Device::Cpu).to_kind(Kind::Float).reshape([-1]))
            .expect("a float tensor on the CPU");
        let step = venv.step(env_actions(&kind, &actions, &mut scratch))?;
        for e in step.episodes {
            if played[e.env_index] < targets[e.env_index] {
                played[e.env_index] += 1;
                result.returns.push(e.episode_return);
                result.lengths.push(e.length);
                result.successes.extend(e.success);
            }
        }
        obs.copy_from_slice(step.obs);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use natgrad_envs::{Action, MakeOptions, Space, make_vec};

    use super::*;

    #[test]
    fn copies_share_the_episodes_as_sb3_splits_them() {
        assert_eq!(episodes_per_copy(10, 1), [10]);
        assert_eq!(episodes_per_copy(10, 4), [2, 2, 3, 3]);
        assert_eq!(episodes_per_copy(3, 5), [0, 0, 1, 1, 1]);
        assert_eq!(episodes_per_copy(20, 10).iter().sum::<usize>(), 20);
    }

    #[test]
    fn the_statistics_are_those_of_the_returns() {
        let e = Evaluation { returns: vec![1.0, 3.0], lengths: vec![10, 30], successes: vec![] };
        assert_eq!((e.mean_return(), e.std_return(), e.mean_length(), e.success_rate()), (2.0, 1.0, 20.0, None));
        assert!(Evaluation::default().mean_return().is_nan());
        let goals = Evaluation { successes: vec![true, false, true, true], ..e };
        assert_eq!(goals.success_rate(), Some(0.75));
    }

    fn pendulum_policy() -> (Policy, natgrad_envs::BoxSpace) {
        let space = make_vec("Pendulum-v1", 1, &MakeOptions::default()).unwrap().action_space().clone();
        let policy = crate::generator::seeded(3, || Policy::new(3, &space, &[16], 0.0, None, Device::Cpu).unwrap());
        let Space::Box(bounds) = space else { unreachable!("Pendulum's actions are a box") };
        (policy, bounds)
    }

    /// The policy's mean actions, episode after episode, against the same
    /// policy stepped by hand on one environment.
    #[test]
    fn an_evaluation_plays_the_most_likely_actions_from_a_seeded_start() {
        let (policy, bounds) = pendulum_policy();
        let mut venv = make_vec("Pendulum-v1", 1, &MakeOptions::default()).unwrap();
        let evaluation = evaluate(&policy, venv.as_mut(), None, 2, true, 7).unwrap();

        let mut env = natgrad_envs::make("Pendulum-v1").unwrap();
        let mut obs = env.reset(Some(7)).unwrap().to_vec();
        let mut expected = Evaluation::default();
        while expected.returns.len() < 2 {
            let (mut total, mut length) = (0.0, 0);
            loop {
                let input = Tensor::from_slice(&obs).view([1, -1]);
                let mean = policy.act(&input, true, &mut Rng::seed_from_u64(0)).double_value(&[0, 0]) as f32;
                let step = env.step(Action::Continuous(&[mean.clamp(bounds.low[0], bounds.high[0])])).unwrap();
                (total, length) = (total + step.reward, length + 1);
                obs = step.obs.to_vec();
                if step.terminated || step.truncated {
                    break;
                }
            }
            expected.returns.push(total);
            expected.lengths.push(length);
            obs = env.reset(None).unwrap().to_vec();
        }
        assert_eq!(evaluation, expected);
    }

    #[test]
    fn copies_play_their_share_and_the_same_seed_the_same_episodes() {
        let (policy, _) = pendulum_policy();
        let mut venv = make_vec("Pendulum-v1", 3, &MakeOptions::default()).unwrap();
        let evaluation = evaluate(&policy, venv.as_mut(), None, 4, true, 7).unwrap();
        assert_eq!(evaluation.lengths, [200; 4]);
        assert_eq!(evaluate(&policy, venv.as_mut(), None, 4, true, 7).unwrap(), evaluation);
        assert_ne!(evaluate(&policy, venv.as_mut(), None, 4, true, 8).unwrap(), evaluation);
    }

    /// Sampled actions (zoo's Atari evaluation): the same seed plays the
    /// same episodes, and they are not the most likely actions' episodes.
    #[test]
    fn a_stochastic_evaluation_samples_reproducibly_from_its_seed() {
        let (policy, _) = pendulum_policy();
        let mut venv = make_vec("Pendulum-v1", 2, &MakeOptions::default()).unwrap();
        let sampled = evaluate(&policy, venv.as_mut(), None, 2, false, 7).unwrap();
        assert_eq!(evaluate(&policy, venv.as_mut(), None, 2, false, 7).unwrap(), sampled);
        assert_ne!(evaluate(&policy, venv.as_mut(), None, 2, true, 7).unwrap(), sampled);
        assert_ne!(evaluate(&policy, venv.as_mut(), None, 2, false, 8).unwrap().returns, sampled.returns);
    }
}
