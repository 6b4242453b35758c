//! VPG, vanilla policy gradient: Williams (1992), "Simple statistical
//! gradient-following algorithms for connectionist reinforcement learning"
//! (REINFORCE), with GAE advantages (Schulman et al., 2016) and a learned
//! value baseline, as in Spinning Up's VPG.
//!
//! One Adam step per batch on −E[log π_θ(a|s) · A(s, a)]: the plain gradient
//! in parameter space, which the natural-gradient agents precondition with
//! the Fisher.

use std::time::Instant;

use natgrad_envs::Space;
use serde::{Deserialize, Serialize};
use tch::Device;

use crate::agent::{Agent, AgentCore, CommonConfig, ConfigError, PolicyStep, Timings, UpdateStats, check};
use crate::cnn::Input;
use crate::finite::NonFinite;
use crate::hyperparameters::{Key, hyperparameters};
use crate::natural_policy_step::surrogate;
use crate::optim::Adam;
use crate::rollout::Rollout;
use crate::schedule::Schedule;

hyperparameters! {
    /// VPG's policy optimizer.
    pub struct PolicyOptimizerConfig {
        /// Adam learning rate of the policy: a number, or lin_X
        /// (rl-baselines3-zoo's syntax), X falling linearly to 0 at the end.
        pub learning_rate: Schedule = Schedule::Constant(3e-4),
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
        check(lr.initial() > 0.0 && lr.initial().is_finite(), "learning_rate", lr, "must be positive")
    }
}

pub struct Vpg {
    core: AgentCore,
    pub policy_optimizer: Adam,
    learning_rate: Schedule,
}

impl Vpg {
    /// `seed` drives network initialisation and minibatch order.
    pub fn new(
        config: VpgConfig,
        input: impl Into<Input>,
        action_space: &Space,
        device: Device,
        seed: u64,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let core = AgentCore::new(config.common, input.into(), action_space, device, seed)?;
        let learning_rate = config.policy_optimizer.learning_rate;
        let policy_optimizer = Adam::new(core.policy.parameters(), learning_rate.initial());
        Ok(Self { core, policy_optimizer, learning_rate })
    }
}

impl Agent for Vpg {
    fn core(&self) -> &AgentCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut AgentCore {
        &mut self.core
    }
    fn optimizers(&mut self) -> Vec<(&'static str, &mut Adam)> {
        vec![("policy", &mut self.policy_optimizer), ("value", &mut self.core.value.optimizer)]
    }

    fn update(&mut self, r: &Rollout) -> Result<UpdateStats, NonFinite> {
        let optimizer = &mut self.policy_optimizer;
        optimizer.learning_rate = self.learning_rate.value(self.core.progress_remaining);
        self.core.update(r, |policy, adv| {
            let start = Instant::now();
            // One forward pass at θ_old serves both: π_old is its values, detached.
            let dist = policy.dist(&r.obs);
            let old_dist = dist.detach();
            // The surrogate's gradient at θ_old is the policy gradient E[∇log π · A].
            let surr = surrogate(&dist, &r.actions, &r.log_probs, adv);
            let surrogate_before = surr.double_value(&[]);
            optimizer.minimize(&(-surr));
            let timings = Timings { policy_gradient: start.elapsed(), ..Default::default() };
            Ok(PolicyStep { old_dist, surrogate_before, natural: None, timings })
        })
    }
}
