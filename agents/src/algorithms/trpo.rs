//! TRPO: Schulman, Levine, Moritz, Jordan and Abbeel (2015), "Trust region
//! policy optimization", ICML.
//!
//! Maximise the surrogate E[π_θ(a|s)/π_old(a|s) · A(s, a)] subject to a mean
//! KL(π_old ‖ π_θ) of at most δ. The constraint's quadratic model gives the
//! natural-gradient direction s = F⁻¹g (conjugate gradient with Fisher-vector
//! products) and the step β·s with β = sqrt(2δ / sᵀFs); a backtracking line
//! search then shrinks the step until the true KL is within δ and the
//! surrogate improved, or restores θ_old.

use std::time::Instant;

use natgrad_envs::Space;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::agent::{Agent, AgentCore, CommonConfig, ConfigError, UpdateStats, check};
use crate::cnn::Input;
use crate::finite::NonFinite;
use crate::hyperparameters::{Key, hyperparameters};
use crate::natural_gradient::backtracking_line_search;
use crate::natural_policy_step::{NaturalGradientConfig, PolicyPreconditioner, natural_direction, surrogate};
use crate::rollout::Rollout;

hyperparameters! {
    /// TRPO's backtracking line search.
    pub struct LineSearchConfig {
        /// Each backtracking step multiplies the step by this factor, in (0, 1).
        pub line_search_shrink: f64 = 0.8,
        /// Steps tried by the line search before it gives up and keeps theta_old.
        pub line_search_max_backtracks: usize = 10,
    }
}

/// TRPO's hyperparameters. Defaults follow the reference implementations
/// (Spinning Up, Stable-Baselines3-contrib).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrpoConfig {
    #[serde(flatten)]
    pub common: CommonConfig,
    #[serde(flatten)]
    pub natural: NaturalGradientConfig,
    #[serde(flatten)]
    pub line_search: LineSearchConfig,
}

impl TrpoConfig {
    /// Every key TRPO accepts.
    pub fn keys() -> Vec<Key> {
        [CommonConfig::KEYS, NaturalGradientConfig::KEYS, LineSearchConfig::KEYS].concat()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.common.validate()?;
        self.natural.validate()?;
        let shrink = self.line_search.line_search_shrink;
        check(shrink > 0.0 && shrink < 1.0, "line_search_shrink", shrink, "must be in (0, 1)")?;
        let backtracks = self.line_search.line_search_max_backtracks;
        check(backtracks >= 1, "line_search_max_backtracks", backtracks, "must be at least 1")?;
        Ok(())
    }
}

pub struct Trpo {
    core: AgentCore,
    natural: NaturalGradientConfig,
    line_search: LineSearchConfig,
    preconditioner: PolicyPreconditioner,
}

impl Trpo {
    /// `seed` drives network initialisation and minibatch order.
    pub fn new(
        config: TrpoConfig,
        input: impl Into<Input>,
        action_space: &Space,
        device: Device,
        seed: u64,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let core = AgentCore::new(config.common, input.into(), action_space, device, seed)?;
        let preconditioner = PolicyPreconditioner::new(&config.natural);
        Ok(Self { core, natural: config.natural, line_search: config.line_search, preconditioner })
    }
}

impl Agent for Trpo {
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
        let (natural_config, line_search, preconditioner) =
            (&self.natural, &self.line_search, &mut self.preconditioner);
        let target_kl = natural_config.target_kl.value(self.core.progress_remaining);
        self.core.update(r, |policy, adv| {
            let nd = natural_direction(policy, &r.obs, &r.actions, &r.log_probs, adv, natural_config, preconditioner)?;
            let start = Instant::now();
            let mut natural = nd.step_stats(target_kl);
            if let Some(beta) = nd.max_step(target_kl) {
                let full_step = &nd.direction * beta;
                let ls = backtracking_line_search(
                    &policy.parameters(),
                    &full_step,
                    nd.surrogate_before,
                    target_kl,
                    line_search.line_search_shrink,
                    line_search.line_search_max_backtracks,
                    || {
                        tch::no_grad(|| {
                            let dist = policy.dist(&r.obs);
                            let surr = surrogate(&dist, &r.actions, &r.log_probs, adv).double_value(&[]);
                            (surr, nd.old_dist.kl(&dist).mean(None::<Kind>).double_value(&[]))
                        })
                    },
                );
                natural.line_search_steps = ls.backtracks;
                natural.line_search_success = ls.accepted;
                natural.step_size = beta * ls.step_fraction;
                natural.predicted_kl = nd.predicted_kl(natural.step_size);
            }
            Ok(nd.into_policy_step(natural, start.elapsed()))
        })
    }
}
