//! NPG, the truncated natural policy gradient: Kakade (2001), "A natural
//! policy gradient", NIPS; in the form of Rajeswaran, Lowrey, Todorov and
//! Kakade (2017), "Towards generalization and simplicity in continuous
//! control", NIPS.
//!
//! TRPO's direction (conjugate gradient on the Fisher) and step size
//! β = sqrt(2δ / sᵀFs), applied as it is: no line search, so the KL of the
//! update is δ only to second order.

use std::time::Instant;

use natgrad_envs::Space;
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use crate::agent::{Agent, AgentCore, CommonConfig, ConfigError, UpdateStats};
use crate::cnn::Input;
use crate::finite::NonFinite;
use crate::hyperparameters::Key;
use crate::natural_gradient::{flat_params, set_flat_params};
use crate::natural_policy_step::{NaturalGradientConfig, PolicyPreconditioner, natural_direction};
use crate::rollout::Rollout;

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
    core: AgentCore,
    natural: NaturalGradientConfig,
    preconditioner: PolicyPreconditioner,
}

impl Npg {
    /// `seed` drives network initialisation and minibatch order.
    pub fn new(
        config: NpgConfig,
        input: impl Into<Input>,
        action_space: &Space,
        device: Device,
        seed: u64,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let core = AgentCore::new(config.common, input.into(), action_space, device, seed)?;
        let preconditioner = PolicyPreconditioner::new(&config.natural);
        Ok(Self { core, natural: config.natural, preconditioner })
    }
}

impl Agent for Npg {
    fn core(&self) -> &AgentCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut AgentCore {
        &mut self.core
    }
    fn curvature_state(&self) -> Vec<(String, Tensor)> {
        self.preconditioner.state()
    }
    fn restore_curvature_state(&mut self, get: &dyn Fn(&str) -> Option<Tensor>) -> Result<(), String> {
        self.preconditioner.restore(get)
    }

    fn update(&mut self, r: &Rollout) -> Result<UpdateStats, NonFinite> {
        let (natural_config, preconditioner) = (&self.natural, &mut self.preconditioner);
        let target_kl = natural_config.target_kl.value(self.core.progress_remaining);
        self.core.update(r, |policy, adv| {
            let nd = natural_direction(policy, &r.obs, &r.actions, &r.log_probs, adv, natural_config, preconditioner)?;
            let start = Instant::now();
            let mut natural = nd.step_stats(target_kl);
            if let Some(beta) = nd.max_step(target_kl) {
                let params = policy.parameters();
                set_flat_params(&params, &(flat_params(&params) + &nd.direction * beta));
                natural.step_size = beta;
                natural.predicted_kl = nd.predicted_kl(beta);
                natural.line_search_success = true;
            }
            Ok(nd.into_policy_step(natural, start.elapsed()))
        })
    }
}
