//! The part TRPO and NPG share: from a batch to the natural-gradient
//! direction s ≈ F⁻¹g and its largest trust-region step β.

use std::time::{Duration, Instant};

use tch::{Kind, Tensor};

use crate::agent::{ConfigError, NaturalStepStats, Timings, check};
use crate::distributions::ActionDist;
use crate::finite::{NonFinite, ensure_finite, hints};
use crate::hyperparameters::hyperparameters;
use crate::natural_gradient::{FisherVectorProduct, conjugate_gradient, flat_grad, max_step_size};
use crate::policy::Policy;

hyperparameters! {
    /// Settings of the natural-gradient direction.
    pub struct NaturalGradientConfig {
        /// Trust-region radius delta: the mean KL(pi_old || pi_new) one update may reach.
        pub target_kl: f64 = 0.01,
        /// Maximum conjugate-gradient iterations.
        pub cg_iters: usize = 10,
        /// Damping lambda added to the Fisher: CG solves (F + lambda I) s = g.
        pub cg_damping: f64 = 0.1,
        /// CG stops once the squared residual norm falls below this.
        pub cg_residual_tol: f64 = 1e-10,
        /// Fisher-vector products use every k-th sample of the batch (1: all).
        pub fvp_subsample: usize = 1,
    }
}

impl NaturalGradientConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        check(
            self.target_kl > 0.0 && self.target_kl.is_finite(),
            "target_kl",
            self.target_kl,
            "target_kl must be positive",
        )?;
        check(self.cg_iters >= 1, "cg_iters", self.cg_iters, "need at least 1 conjugate-gradient iteration")?;
        check(self.cg_damping >= 0.0 && self.cg_damping.is_finite(), "cg_damping", self.cg_damping, "must be >= 0")?;
        check(
            self.cg_residual_tol >= 0.0 && self.cg_residual_tol.is_finite(),
            "cg_residual_tol",
            self.cg_residual_tol,
            "must be finite and >= 0 (an infinite tolerance stops conjugate gradient before its first step)",
        )?;
        check(
            self.fvp_subsample >= 1,
            "fvp_subsample",
            self.fvp_subsample,
            "must be at least 1 (1 uses every sample)",
        )?;
        Ok(())
    }
}

/// The batch quantities a natural step needs, all at θ_old.
pub struct NaturalDirection {
    /// π_old over the whole batch, detached.
    pub old_dist: ActionDist,
    /// The surrogate at θ_old (the mean advantage, as the ratio is 1).
    pub surrogate_before: f64,
    /// s ≈ (F + λI)⁻¹ g.
    pub direction: Tensor,
    /// β = sqrt(2δ / sᵀ(F + λI)s); `None` when the curvature is unusable.
    pub max_step: Option<f64>,
    pub cg_iterations: usize,
    pub cg_residual: f64,
    pub gradient_time: Duration,
    pub cg_time: Duration,
}

impl NaturalDirection {
    /// The step's statistics before any step is taken: CG's figures, and
    /// whether the curvature ruled a step out.
    pub fn step_stats(&self) -> NaturalStepStats {
        NaturalStepStats {
            cg_iterations: self.cg_iterations,
            cg_residual: self.cg_residual,
            skipped_bad_curvature: self.max_step.is_none(),
            ..Default::default()
        }
    }

    /// The gradient and CG times, with the time the step itself took.
    pub fn timings(&self, step: Duration) -> Timings {
        Timings {
            policy_gradient: self.gradient_time,
            conjugate_gradient: self.cg_time,
            line_search: step,
            ..Default::default()
        }
    }
}

/// The surrogate E[π_θ(a|s)/π_old(a|s) · A] of the current parameters.
pub fn surrogate(policy_dist: &ActionDist, actions: &Tensor, old_log_probs: &Tensor, advantages: &Tensor) -> Tensor {
    ((policy_dist.log_prob(actions) - old_log_probs).exp() * advantages).mean(None::<Kind>)
}

/// Computes the policy gradient g of the surrogate, then solves for the
/// natural direction with Fisher-vector products through the mean KL. Fails
/// when g or the direction is not finite: conjugate gradient would otherwise
/// turn a NaN gradient into a zero direction without a word.
pub fn natural_direction(
    policy: &Policy,
    obs: &Tensor,
    actions: &Tensor,
    old_log_probs: &Tensor,
    advantages: &Tensor,
    config: &NaturalGradientConfig,
) -> Result<NaturalDirection, NonFinite> {
    let start = Instant::now();
    let params = policy.parameters();
    let old_dist = tch::no_grad(|| policy.dist(obs)).detach();
    let surr = surrogate(&policy.dist(obs), actions, old_log_probs, advantages);
    let surrogate_before = surr.double_value(&[]);
    let g = flat_grad(&surr, &params, false);
    ensure_finite(&g, "the policy gradient", hints::POLICY)?;
    let gradient_time = start.elapsed();

    let start = Instant::now();
    let (fvp_obs, fvp_old) = if config.fvp_subsample > 1 {
        let idx = Tensor::arange_start_step(0, obs.size()[0], config.fvp_subsample as i64, (Kind::Int64, obs.device()));
        (obs.index_select(0, &idx), tch::no_grad(|| policy.dist(&obs.index_select(0, &idx))).detach())
    } else {
        (obs.shallow_clone(), old_dist.detach())
    };
    let mean_kl = fvp_old.kl(&policy.dist(&fvp_obs)).mean(None::<Kind>);
    let fvp = FisherVectorProduct::new(&mean_kl, &params, config.cg_damping);
    let cg = conjugate_gradient(|v| fvp.apply(v), &g, config.cg_iters, config.cg_residual_tol);
    ensure_finite(&cg.x, "the natural-gradient direction (conjugate gradient)", "raise cg_damping")?;
    let s_f_s = cg.x.dot(&fvp.apply(&cg.x)).double_value(&[]);
    let cg_time = start.elapsed();
    Ok(NaturalDirection {
        old_dist,
        surrogate_before,
        direction: cg.x,
        max_step: max_step_size(s_f_s, config.target_kl),
        cg_iterations: cg.iterations,
        cg_residual: cg.residual_norm,
        gradient_time,
        cg_time,
    })
}
