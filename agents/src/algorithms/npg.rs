//! NPG, the truncated natural policy gradient: Kakade (2001), "A natural
//! policy gradient", NIPS; in the form of Rajeswaran, Lowrey, Todorov and
//! Kakade (2017), "Towards generalization and simplicity in continuous
//! control", NIPS.
//!
//! TRPO's direction (conjugate gradient on the Fisher) and step size
//! β = sqrt(2δ / sᵀFs), applied as it is: no line search, so the KL of the
//! update is δ only to second order.

use std::time::Instant;

use natgrad_envs::{Rng, Space};
use serde::{Deserialize, Serialize};
use tch::Device;

use crate::agent::{
    Agent, CommonConfig, ConfigError, UpdateStats, networks, prepare_advantages, seed_agent, update_with_critic,
};
use crate::finite::NonFinite;
use crate::hyperparameters::Key;
use crate::natural_gradient::{flat_params, set_flat_params};
use crate::natural_policy_step::{NaturalGradientConfig, PolicyPreconditioner, natural_direction};
use crate::policy::Policy;
use crate::rollout::Rollout;
use crate::value::ValueFunction;

/// NPG's hyperparameters: TRPO's without the line search.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NpgConfig {
    #[serde(flatten)]
    pub common: CommonConfig,
    #[serde(flatten)]
    pub natural: NaturalGradientConfig,
}

impl NpgConfig {
    /// Every key NPG accepts.
    pub fn keys() -> Vec<Key> {
        [CommonConfig::KEYS, NaturalGradientConfig::KEYS].concat()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.common.validate()?;
        self.natural.validate()
    }
}

pub struct Npg {
    config: NpgConfig,
    policy: Policy,
    value: ValueFunction,
    rng: Rng,
    preconditioner: PolicyPreconditioner,
}

impl Npg {
    /// `seed` drives network initialisation and minibatch order.
    pub fn new(
        config: NpgConfig,
        obs_dim: usize,
        action_space: &Space,
        device: Device,
        seed: u64,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let rng = seed_agent(seed);
        let (policy, value) = networks(&config.common, obs_dim, action_space, device)?;
        let preconditioner = PolicyPreconditioner::new(&config.natural);
        Ok(Self { config, policy, value, rng, preconditioner })
    }
}

impl Agent for Npg {
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
    fn optimizers(&mut self) -> Vec<(&'static str, &mut crate::optim::Adam)> {
        vec![("value", &mut self.value.optimizer)]
    }
    fn curvature_state(&self) -> Vec<(String, tch::Tensor)> {
        self.preconditioner.kfac.state("kfac.policy")
    }
    fn restore_curvature_state(&mut self, get: &dyn Fn(&str) -> Option<tch::Tensor>) -> Result<(), String> {
        self.preconditioner.kfac.restore("kfac.policy", get)
    }

    fn update(&mut self, r: &Rollout) -> Result<UpdateStats, NonFinite> {
        let adv = prepare_advantages(&r.advantages, self.config.common.normalize_advantage);
        let (policy, config, preconditioner) = (&self.policy, &self.config, &mut self.preconditioner);
        let policy_step = || {
            let nd =
                natural_direction(policy, &r.obs, &r.actions, &r.log_probs, &adv, &config.natural, preconditioner)?;
            let start = Instant::now();
            let mut natural = nd.step_stats();
            if let Some(beta) = nd.max_step {
                let params = policy.parameters();
                set_flat_params(&params, &(flat_params(&params) + &nd.direction * beta));
                natural.step_size = beta;
                natural.predicted_kl = nd.predicted_kl(beta);
                natural.line_search_success = true;
            }
            Ok(nd.into_policy_step(natural, start.elapsed()))
        };
        update_with_critic(policy, &mut self.value, &mut self.rng, &config.common, r, &adv, policy_step)
    }
}
