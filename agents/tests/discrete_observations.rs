//! Discrete observations reach the networks one-hot, as Stable-Baselines3's
//! `preprocess_obs` gives them, and an agent learns from them. Release mode.

use natgrad_agents::{Agent, Collector, CommonConfig, Control, Trpo, TrpoConfig, train};
use natgrad_envs::{Action, Env, EnvError, EnvSnapshot, EnvSpec, Observation, Rng, Space, Step, VecEnv, VectorEnv};
use tch::{Device, Kind};

const STATES: usize = 16;
const EPISODE: usize = 16;

/// A contextual bandit over 16 states drawn at random each step: the reward
/// is 1 when the action (0 or 1) is the state's parity, so an episode of 16
/// steps returns 16 at best and about 8 by chance. Fed the index as one
/// number, a tanh MLP has to carve 16 alternating bands out of one axis;
/// one-hot, each state has its own input weight. Measured 2026-12-04: with
/// the index fed as one number the last 20 episodes of seed 0 returned 9.15
/// after 30k steps; one-hot, 15.80 and 15.90 on seeds 0 and 1.
struct Parity {
    spec: EnvSpec,
    observation_space: Space,
    action_space: Space,
    rng: Rng,
    state: usize,
    t: usize,
}

impl Parity {
    fn new() -> Self {
        Self {
            spec: EnvSpec { id: "Parity-v0".into(), max_episode_steps: None, reward_threshold: None },
            observation_space: Space::Discrete { n: STATES },
            action_space: Space::Discrete { n: 2 },
            rng: Rng::seed_from_u64(0),
            state: 0,
            t: 0,
        }
    }

    fn observation(&self) -> Observation {
        Observation::from_slice(&[self.state as f32])
    }
}

impl Env for Parity {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }
    fn observation_space(&self) -> &Space {
        &self.observation_space
    }
    fn action_space(&self) -> &Space {
        &self.action_space
    }
    fn reset(&mut self, seed: Option<u64>) -> Result<Observation, EnvError> {
        if let Some(seed) = seed {
            self.rng = Rng::seed_from_u64(seed);
        }
        self.t = 0;
        self.state = self.rng.below(STATES as u64) as usize;
        Ok(self.observation())
    }
    fn step(&mut self, action: Action<'_>) -> Result<Step, EnvError> {
        self.action_space.check_action(action)?;
        let Action::Discrete(a) = action else { unreachable!("checked against Discrete(2)") };
        let reward = if a as usize == self.state % 2 { 1.0 } else { 0.0 };
        self.t += 1;
        self.state = self.rng.below(STATES as u64) as usize;
        Ok(Step { obs: self.observation(), reward, terminated: self.t == EPISODE, truncated: false })
    }
    fn state(&self) -> Option<Vec<f64>> {
        Some(vec![self.state as f64])
    }
    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        self.state = state[0] as usize;
        Ok(())
    }
    fn snapshot(&self) -> Result<EnvSnapshot, EnvError> {
        Err(EnvError::NotRestorable { id: self.spec.id.clone() })
    }
    fn restore(&mut self, _: &EnvSnapshot) -> Result<(), EnvError> {
        Err(EnvError::NotRestorable { id: self.spec.id.clone() })
    }
}

fn parity_envs(n: usize) -> Box<dyn VectorEnv> {
    Box::new(VecEnv::new((0..n).map(|_| Box::new(Parity::new()) as Box<dyn Env>).collect()).unwrap())
}

fn config() -> TrpoConfig {
    TrpoConfig { common: CommonConfig { n_envs: 2, n_steps: 256, ..CommonConfig::default() }, ..TrpoConfig::default() }
}

#[test]
fn the_rollout_holds_discrete_observations_one_hot() {
    let agent = Trpo::new(config(), STATES, &Space::Discrete { n: 2 }, Device::Cpu, 0).unwrap();
    let mut collector = Collector::new(parity_envs(2), 0, false, None).unwrap();
    let rollout = collector.collect(agent.policy(), agent.value_function(), agent.common()).unwrap();
    assert_eq!(rollout.obs.size(), [512, STATES as i64]);
    let rows = rollout.obs.to_kind(Kind::Double);
    assert_eq!(rows.sum(Kind::Double).double_value(&[]), 512.0, "one 1 per row");
    assert_eq!(rows.eq(1.0).logical_or(&rows.eq(0.0)).all().int64_value(&[]), 1, "only zeros and ones");
}

#[test]
fn trpo_learns_from_discrete_observations() {
    tch::set_num_threads(1);
    for seed in [0, 1] {
        let mut agent = Trpo::new(config(), STATES, &Space::Discrete { n: 2 }, Device::Cpu, seed).unwrap();
        let mut collector = Collector::new(parity_envs(2), seed, false, None).unwrap();
        let mut returns = vec![];
        train(&mut agent, &mut collector, 30_000, 0, |it, _, _| {
            returns.extend(it.episodes.iter().map(|e| e.episode_return));
            Control::Continue
        })
        .unwrap();
        let last = returns[returns.len() - 20..].iter().sum::<f64>() / 20.0;
        println!("seed {seed}: first 20 episodes {:.2}, last 20 {last:.2}", returns[..20].iter().sum::<f64>() / 20.0);
        assert!(last >= 15.0, "seed {seed}: the last 20 episodes returned {last:.2} of 16 (chance: 8)");
    }
}
