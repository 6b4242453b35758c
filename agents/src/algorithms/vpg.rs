//! VPG, vanilla policy gradient: Williams (1992), "Simple statistical
//! gradient-following algorithms for connectionist reinforcement learning"
//! (REINFORCE), with GAE advantages (Schulman et al., 2016) and a learned
//! value baseline, as in Spinning Up's VPG.
//!
//! One Adam step per batch on −E[log π_θ(a|s) · A(s, a)]: the plain gradient
//! in parameter space, which the natural-gradient agents precondition with
//! the Fisher.

use std::time::Instant;

use natgrad_envs::{Rng, Space};
use serde::{Deserialize, Serialize};
use tch::Device;

use crate::agent::{
    Agent, CommonConfig, ConfigError, PolicyStep, Timings, UpdateStats, check, networks, prepare_advantages,
    seed_agent, update_with_critic,
};
use crate::finite::NonFinite;
use crate::hyperparameters::{Key, hyperparameters};
use crate::natural_policy_step::surrogate;
use crate::optim::Adam;
use crate::policy::Policy;
use crate::rollout::Rollout;
use crate::value::ValueFunction;

hyperparameters! {
    /// VPG's policy optimizer.
    pub struct PolicyOptimizerConfig {
        /// Adam learning rate of the policy.
        pub learning_rate: f64 = 3e-4,
    }
}

/// VPG's hyperparameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VpgConfig {
    #[serde(flatten)]
    pub common: CommonConfig,
    #[serde(flatten)]
    pub policy_optimizer: PolicyOptimizerConfig,
}

impl VpgConfig {
    /// Every key VPG accepts.
    pub fn keys() -> Vec<Key> {
        [CommonConfig::KEYS, PolicyOptimizerConfig::KEYS].concat()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.common.validate()?;
        let lr = self.policy_optimizer.learning_rate;
        check(lr > 0.0 && lr.is_finite(), "learning_rate", lr, "must be positive")
    }
}

pub struct Vpg {
    config: VpgConfig,
    policy: Policy,
    pub policy_optimizer: Adam,
    value: ValueFunction,
    rng: Rng,
}

impl Vpg {
    /// `seed` drives network initialisation and minibatch order.
    pub fn new(
        config: VpgConfig,
        obs_dim: usize,
        action_space: &Space,
        device: Device,
        seed: u64,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let rng = seed_agent(seed);
        let (policy, value) = networks(&config.common, obs_dim, action_space, device)?;
        let policy_optimizer = Adam::new(policy.parameters(), config.policy_optimizer.learning_rate);
        Ok(Self { config, policy, policy_optimizer, value, rng })
    }
}

impl Agent for Vpg {
    fn policy(&self) -> &Policy {
        &self.policy
    }
    fn value_function(&self) -> &ValueFunction {
        &self.value
    }
    fn common(&self) -> &CommonConfig {
        &self.config.common
    }
    fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
    fn optimizers(&mut self) -> Vec<(&'static str, &mut Adam)> {
        vec![("policy", &mut self.policy_optimizer), ("value", &mut self.value.optimizer)]
    }
    fn curvature_state(&self) -> Vec<(String, tch::Tensor)> {
        vec![]
    }
    fn restore_curvature_state(&mut self, _: &dyn Fn(&str) -> Option<tch::Tensor>) -> Result<(), String> {
        Ok(())
    }

    fn update(&mut self, r: &Rollout) -> Result<UpdateStats, NonFinite> {
        let adv = prepare_advantages(&r.advantages, self.config.common.normalize_advantage);
        let (policy, optimizer) = (&self.policy, &mut self.policy_optimizer);
        let policy_step = || {
            let start = Instant::now();
            // One forward pass at θ_old serves both: π_old is its values, detached.
            let dist = policy.dist(&r.obs);
            let old_dist = dist.detach();
            // The surrogate's gradient at θ_old is the policy gradient E[∇log π · A].
            let surr = surrogate(&dist, &r.actions, &r.log_probs, &adv);
            let surrogate_before = surr.double_value(&[]);
            optimizer.minimize(&(-surr));
            let timings = Timings { policy_gradient: start.elapsed(), ..Default::default() };
            Ok(PolicyStep { old_dist, surrogate_before, natural: None, timings })
        };
        update_with_critic(policy, &mut self.value, &mut self.rng, &self.config.common, r, &adv, policy_step)
    }
}
