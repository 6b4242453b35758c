//! The part TRPO and NPG share: from a batch to the natural-gradient
//! direction s ≈ F⁻¹g and its largest trust-region step β. The direction
//! comes from the Fisher the `fisher` setting names; β always uses the exact
//! Fisher (sᵀFs by one Fisher-vector product through the mean KL), so every
//! variant's quadratic model of the KL is the exact one along its direction.

use std::time::{Duration, Instant};

use tch::{Kind, Tensor};

use crate::agent::{ConfigError, NaturalStepStats, PolicyStep, Timings, check};
use crate::distributions::ActionDist;
use crate::finite::{NonFinite, ensure_finite, hints};
use crate::hyperparameters::hyperparameters;
use crate::jacobian_fvp::{FvpMethod, JacobianFisherProduct};
use crate::natural_gradient::{
    CgSolution, FisherProduct, FisherVectorProduct, conjugate_gradient, flat_grad, max_step_size,
};
use crate::policy::Policy;
use crate::policy_fisher::{
    FisherKind, KfacPreconditioner, PerSampleGradients, diagonal_direction, empirical_direction, policy_kfac_factors,
};
use crate::schedule::Schedule;

hyperparameters! {
    /// Settings of the natural-gradient direction.
    pub struct NaturalGradientConfig {
        /// Trust-region radius delta: the mean KL(pi_old || pi_new) one update
        /// may reach. A number, or lin_X (rl-baselines3-zoo's syntax): X at
        /// the start of training, falling linearly to 0 at its end.
        pub target_kl: Schedule = Schedule::Constant(0.01),
        /// Maximum conjugate-gradient iterations.
        pub cg_iters: usize = 10,
        /// Damping lambda added to the Fisher: CG solves (F + lambda I) s = g.
        pub cg_damping: f64 = 0.1,
        /// CG stops once the squared residual norm falls below this.
        pub cg_residual_tol: f64 = 1e-10,
        /// Fisher-vector products use every k-th sample of the batch (1: all).
        pub fvp_subsample: usize = 1,
        /// How an exact Fisher-vector product is computed: jacobian (J^T M J,
        /// one forward-mode and one backward pass written for natgrad's
        /// networks) or double_backprop (a backward pass through the gradient
        /// of the mean KL, as sb3-contrib and Spinning Up). The same product
        /// to rounding; jacobian is several times faster.
        pub fvp: FvpMethod = FvpMethod::Jacobian,
        /// The Fisher matrix that turns the gradient into the step's direction:
        /// exact (Fisher-vector products and conjugate gradient), kfac
        /// (Kronecker-factored per layer, Martens and Grosse 2015), diagonal,
        /// or empirical (the scores of the batch's own actions). The step
        /// size, and TRPO's line search, use the exact KL whichever it is.
        /// The approximations damp with cg_damping, which must be > 0.
        pub fisher: FisherKind = FisherKind::Exact,
        /// With fisher = kfac: decay of the factors' running averages (K-FAC's
        /// epsilon); the k-th batch is weighted by max(1/k, 1 - decay).
        pub kfac_stats_decay: f64 = 0.95,
        /// With fisher = kfac: recompute the factors' inverses every this many
        /// updates (K-FAC's T3); in between the last ones are reused.
        pub kfac_inverse_update_period: usize = 1,
        /// With fisher other than exact: also solve for the exact direction by
        /// conjugate gradient on every batch, to log fisher/cosine_to_exact
        /// and fisher/gain_ratio_to_exact (the first-order surrogate gain of
        /// a step to the trust region's edge, over the exact direction's).
        /// Costs cg_iters Fisher-vector products per update, about an exact
        /// TRPO update.
        pub fisher_diagnostics: bool = false,
        /// Also estimate how much of the natural gradient is signal rather
        /// than sampling noise, by cross-fitting the batch's two halves in
        /// time: logs trpo/signal_fraction and trpo/halves_cosine. Costs
        /// one backward pass on half the batch and two more conjugate-gradient
        /// solves per update.
        pub signal_diagnostics: bool = false,
    }
}

impl NaturalGradientConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let initial = self.target_kl.initial();
        check(initial > 0.0 && initial.is_finite(), "target_kl", self.target_kl, "target_kl must be positive")?;
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
        check(
            self.fisher == FisherKind::Exact || self.cg_damping > 0.0,
            "cg_damping",
            self.cg_damping,
            "fisher = kfac, diagonal and empirical need cg_damping > 0: their matrices can be singular",
        )?;
        check(
            (0.0..1.0).contains(&self.kfac_stats_decay),
            "kfac_stats_decay",
            self.kfac_stats_decay,
            "must be in [0, 1): 0 keeps only the latest batch, 0.95 is K-FAC's",
        )?;
        check(
            self.kfac_inverse_update_period >= 1,
            "kfac_inverse_update_period",
            self.kfac_inverse_update_period,
            "must be at least 1 (1 recomputes the inverses on every update)",
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
    /// sᵀ(F + λI)s with the exact Fisher.
    pub s_f_s: f64,
    pub cg_iterations: usize,
    /// ‖g − (F + λI)s‖ with the exact Fisher, for every `fisher`.
    pub cg_residual: f64,
    /// With `fisher_diagnostics`: cos(s, s_exact), s_exact by conjugate gradient.
    pub cosine_to_exact: Option<f64>,
    /// With `fisher_diagnostics`: the surrogate's first-order gain of a step
    /// to the trust region's edge along s, over the same along s_exact:
    /// (gᵀs / √sᵀFs) / (gᵀs_exact / √s_exactᵀFs_exact).
    pub gain_to_exact: Option<f64>,
    /// With `signal_diagnostics`: the cross-fitted signal estimate.
    pub signal: Option<GradientSignal>,
    pub damping: f64,
    pub gradient_time: Duration,
    /// The time the direction took: conjugate gradient, or the approximation.
    pub direction_time: Duration,
    /// The direction and its step size (without `fisher_diagnostics`' extra solve).
    pub cg_time: Duration,
}

impl NaturalDirection {
    /// The step's statistics before any step is taken: CG's figures, the
    /// update's trust region `target_kl`, and whether the curvature or the
    /// schedule's end ruled a step out.
    pub fn step_stats(&self, target_kl: f64) -> NaturalStepStats {
        NaturalStepStats {
            target_kl,
            schedule_ended: target_kl == 0.0,
            cg_iterations: self.cg_iterations,
            cg_residual: self.cg_residual,
            skipped_bad_curvature: !self.curvature_usable(),
            cosine_to_exact: self.cosine_to_exact,
            gain_to_exact: self.gain_to_exact,
            signal_fraction: self.signal.map(|s| s.fraction),
            halves_cosine: self.signal.map(|s| s.halves_cosine),
            damping: self.damping,
            direction_time: self.direction_time,
            ..Default::default()
        }
    }

    fn curvature_usable(&self) -> bool {
        self.s_f_s.is_finite() && self.s_f_s > 0.0
    }

    /// β = sqrt(2δ / sᵀ(F + λI)s) for the trust region δ of this update;
    /// `None` when the curvature is unusable or δ is 0 (a linear schedule's end).
    pub fn max_step(&self, target_kl: f64) -> Option<f64> {
        max_step_size(self.s_f_s, target_kl).filter(|&beta| beta > 0.0)
    }

    /// ½ t² sᵀ(F + λI)s: the KL the quadratic model predicts for the step t·s.
    pub fn predicted_kl(&self, step_size: f64) -> f64 {
        0.5 * step_size * step_size * self.s_f_s
    }

    /// What the update reports of the policy's step: π_old, the surrogate
    /// before, the step's statistics, and the gradient and CG times with the
    /// time the step itself took.
    pub(crate) fn into_policy_step(self, natural: NaturalStepStats, step: Duration) -> PolicyStep {
        PolicyStep {
            timings: Timings {
                policy_gradient: self.gradient_time,
                conjugate_gradient: self.cg_time,
                line_search: step,
                ..Default::default()
            },
            old_dist: self.old_dist,
            surrogate_before: self.surrogate_before,
            natural: Some(natural),
        }
    }
}

/// The surrogate E[π_θ(a|s)/π_old(a|s) · A] of the current parameters.
pub fn surrogate(policy_dist: &ActionDist, actions: &Tensor, old_log_probs: &Tensor, advantages: &Tensor) -> Tensor {
    ((policy_dist.log_prob(actions) - old_log_probs).exp() * advantages).mean(None::<Kind>)
}

/// The state the `fisher` setting keeps between updates: K-FAC's running
/// factors (the other variants keep nothing).
pub struct PolicyPreconditioner {
    kind: FisherKind,
    pub kfac: KfacPreconditioner,
}

impl PolicyPreconditioner {
    pub fn new(config: &NaturalGradientConfig) -> Self {
        Self {
            kind: config.fisher,
            kfac: KfacPreconditioner::new(config.kfac_stats_decay, config.kfac_inverse_update_period),
        }
    }

    /// The running K-FAC factors, for checkpoints (empty until K-FAC observes a batch).
    pub fn state(&self) -> Vec<(String, Tensor)> {
        self.kfac.state("kfac.policy")
    }

    /// Restores [`PolicyPreconditioner::state`]; `get` returns a saved tensor by name.
    pub fn restore(&mut self, get: &dyn Fn(&str) -> Option<Tensor>) -> Result<(), String> {
        self.kfac.restore("kfac.policy", get)
    }

    /// The approximate direction (F̂ + λI)⁻¹g, or `None` for the exact Fisher,
    /// which is left to conjugate gradient.
    fn direction(
        &mut self,
        policy: &Policy,
        obs: &Tensor,
        actions: &Tensor,
        g: &Tensor,
        config: &NaturalGradientConfig,
    ) -> Option<Result<Tensor, NonFinite>> {
        let damping = config.cg_damping;
        let failed =
            |_| NonFinite { what: "the natural-gradient direction (approximate Fisher)", hint: "raise cg_damping" };
        let direction = match self.kind {
            FisherKind::Exact => return None,
            FisherKind::Kfac => {
                self.kfac.observe(policy_kfac_factors(policy, obs));
                self.kfac.apply(g, damping)
            }
            FisherKind::Diagonal => diagonal_direction(&PerSampleGradients::fisher(policy, obs), g, damping),
            FisherKind::Empirical => {
                let scores = PerSampleGradients::scores(policy, obs, actions);
                empirical_direction(&scores, g, damping, config.cg_iters, config.cg_residual_tol)
            }
        };
        Some(direction.map_err(failed))
    }
}

/// Computes the policy gradient g of the surrogate, then the natural
/// direction: by conjugate gradient with Fisher-vector products through the
/// mean KL, or from the approximate Fisher `preconditioner` keeps. Fails
/// when g or the direction is not finite: conjugate gradient would otherwise
/// turn a NaN gradient into a zero direction without a word.
pub fn natural_direction(
    policy: &Policy,
    obs: &Tensor,
    actions: &Tensor,
    old_log_probs: &Tensor,
    advantages: &Tensor,
    config: &NaturalGradientConfig,
    preconditioner: &mut PolicyPreconditioner,
) -> Result<NaturalDirection, NonFinite> {
    let start = Instant::now();
    let params = policy.parameters();
    // One forward pass at θ_old serves both: π_old is its values, detached.
    let dist = policy.dist(obs);
    let old_dist = dist.detach();
    let surr = surrogate(&dist, actions, old_log_probs, advantages);
    let surrogate_before = surr.double_value(&[]);
    let g = flat_grad(&surr, &params, false);
    ensure_finite(&g, "the policy gradient", hints::POLICY)?;
    let gradient_time = start.elapsed();

    let start = Instant::now();
    let approximate = preconditioner.direction(policy, obs, actions, &g, config).transpose()?;
    let fvp = exact_fisher_product(policy, obs, &old_dist, config);
    let fvp = fvp.as_ref();
    let approximated = approximate.is_some();
    let (direction, cg_iterations) = match approximate {
        Some(s) => (s, 0),
        None => {
            let cg = solve_exactly(fvp, &g, config)?;
            (cg.x, cg.iterations)
        }
    };
    let direction_time = start.elapsed();
    let f_s = fvp.apply(&direction);
    let s_f_s = direction.dot(&f_s).double_value(&[]);
    let cg_time = start.elapsed();
    let (cosine_to_exact, gain_to_exact) = if approximated && config.fisher_diagnostics {
        let (cosine, gain) = compare_with_exact(&direction, s_f_s, &g, fvp, config)?;
        (Some(cosine), Some(gain))
    } else {
        (None, None)
    };
    let signal = if config.signal_diagnostics {
        let halves = HalfBatch { obs, actions, old_log_probs, advantages };
        Some(gradient_signal(policy, &halves, &g, fvp, config)?)
    } else {
        None
    };
    Ok(NaturalDirection {
        old_dist,
        surrogate_before,
        s_f_s,
        cg_iterations,
        cg_residual: (&g - f_s).norm().double_value(&[]),
        cosine_to_exact,
        gain_to_exact,
        signal,
        damping: config.cg_damping,
        direction,
        gradient_time,
        direction_time,
        cg_time,
    })
}

/// (F + λI)·v with F the Hessian of the mean KL(π_old ‖ π_θ) at θ_old, on
/// every `fvp_subsample`-th state, computed the way `fvp` says.
fn exact_fisher_product(
    policy: &Policy,
    obs: &Tensor,
    old_dist: &ActionDist,
    config: &NaturalGradientConfig,
) -> Box<dyn FisherProduct> {
    if config.fvp_subsample > 1 {
        let idx = Tensor::arange_start_step(0, obs.size()[0], config.fvp_subsample as i64, (Kind::Int64, obs.device()));
        exact_fisher(policy, &obs.index_select(0, &idx), None, config.fvp, config.cg_damping)
    } else {
        exact_fisher(policy, obs, Some(old_dist), config.fvp, config.cg_damping)
    }
}

/// (F + λI)·v with F the exact Fisher of `policy` on `obs` at its current
/// parameters. `old_dist`: the policy's distribution on `obs` there, when
/// the caller has it. The hand-written JᵀMJ covers the MLP; a CNN policy
/// takes double backprop.
pub fn exact_fisher(
    policy: &Policy,
    obs: &Tensor,
    old_dist: Option<&ActionDist>,
    method: FvpMethod,
    damping: f64,
) -> Box<dyn FisherProduct> {
    match method {
        FvpMethod::Jacobian if !policy.has_cnn() => Box::new(JacobianFisherProduct::new(policy, obs, damping)),
        FvpMethod::Jacobian | FvpMethod::DoubleBackprop => {
            let old = match old_dist {
                Some(d) => d.detach(),
                None => tch::no_grad(|| policy.dist(obs)).detach(),
            };
            let mean_kl = old.kl(&policy.dist(obs)).mean(None::<Kind>);
            Box::new(FisherVectorProduct::new(&mean_kl, &policy.parameters(), damping))
        }
    }
}

/// Conjugate gradient on the exact Fisher, refusing a non-finite answer.
fn solve_exactly(fvp: &dyn FisherProduct, g: &Tensor, config: &NaturalGradientConfig) -> Result<CgSolution, NonFinite> {
    let cg = conjugate_gradient(|v| fvp.apply(v), g, config.cg_iters, config.cg_residual_tol);
    ensure_finite(&cg.x, "the natural-gradient direction (conjugate gradient)", "raise cg_damping")?;
    Ok(cg)
}

/// `fisher_diagnostics`: the approximate direction s against the exact s*
/// on the same batch: cos ∠(s, s*), and the first-order gain of a step to the
/// trust region's edge, (gᵀs / √sᵀFs) / (gᵀs* / √s*ᵀFs*).
fn compare_with_exact(
    direction: &Tensor,
    s_f_s: f64,
    g: &Tensor,
    fvp: &dyn FisherProduct,
    config: &NaturalGradientConfig,
) -> Result<(f64, f64), NonFinite> {
    let exact = solve_exactly(fvp, g, config)?.x;
    let gain = |s: &Tensor, s_f_s: f64| g.dot(s).double_value(&[]) / s_f_s.sqrt();
    let exact_s_f_s = exact.dot(&fvp.apply(&exact)).double_value(&[]);
    Ok((cosine(direction, &exact), gain(direction, s_f_s) / gain(&exact, exact_s_f_s)))
}

/// How much of a batch's natural gradient is signal, estimated by
/// cross-fitting its two halves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradientSignal {
    /// g_Aᵀ(F + λI)⁻¹g_B over gᵀ(F + λI)⁻¹g: the share of the natural
    /// gradient's squared norm that the two halves agree on. Near 1 when the
    /// batch's gradient is mostly signal, near 0 (either sign) when it is
    /// mostly sampling noise.
    pub fraction: f64,
    /// The cosine between the halves' gradients in the (F + λI)⁻¹ metric.
    pub halves_cosine: f64,
}

/// The batch a surrogate gradient is taken on.
struct HalfBatch<'a> {
    obs: &'a Tensor,
    actions: &'a Tensor,
    old_log_probs: &'a Tensor,
    advantages: &'a Tensor,
}

/// `signal_diagnostics`. With the batch split in time into halves A and B,
/// g_A = μ + n_A and g_B = μ + n_B share the true gradient μ and carry
/// independent noise (the halves are far apart in time but at their
/// boundary). Then E[g_Aᵀ M g_B] = μᵀMμ, while the full batch's
/// E[gᵀ M g] = μᵀMμ plus the noise's share, with M = (F + λI)⁻¹. Their ratio
/// estimates the signal's share of gᵀMg, whose square root TRPO divides its
/// step by. g is the full batch's gradient: g_B follows from it by
/// linearity, as the surrogate is a mean.
fn gradient_signal(
    policy: &Policy,
    batch: &HalfBatch,
    g: &Tensor,
    fvp: &dyn FisherProduct,
    config: &NaturalGradientConfig,
) -> Result<GradientSignal, NonFinite> {
    let n = batch.obs.size()[0];
    let half = n / 2;
    let first = |t: &Tensor| t.narrow(0, 0, half);
    let surr = surrogate(
        &policy.dist(&first(batch.obs)),
        &first(batch.actions),
        &first(batch.old_log_probs),
        &first(batch.advantages),
    );
    let g_a = flat_grad(&surr, &policy.parameters(), false);
    let g_b = (g * n as f64 - &g_a * half as f64) / (n - half) as f64;
    let s_a = solve_exactly(fvp, &g_a, config)?.x;
    let s_b = solve_exactly(fvp, &g_b, config)?.x;
    let dot = |a: &Tensor, b: &Tensor| a.dot(b).double_value(&[]);
    // M is symmetric, but conjugate gradient's two solves are not exactly:
    // average both ways round.
    let cross = 0.5 * (dot(&g_a, &s_b) + dot(&g_b, &s_a));
    let (own_a, own_b) = (dot(&g_a, &s_a), dot(&g_b, &s_b));
    // ((g_A + g_B) / 2)ᵀM((g_A + g_B) / 2): gᵀMg when the halves are equal.
    let whole = 0.25 * (own_a + own_b) + 0.5 * cross;
    let own = (own_a * own_b).sqrt();
    // Halves that cancel leave a whole of rounding error: no signal.
    let vanishes = whole <= 1e-12 * 0.5 * (own_a + own_b);
    Ok(GradientSignal {
        fraction: if vanishes { 0.0 } else { cross / whole },
        halves_cosine: if own > 0.0 { cross / own } else { 0.0 },
    })
}

/// cos ∠(a, b); 0 when either is zero.
fn cosine(a: &Tensor, b: &Tensor) -> f64 {
    let norms = a.norm().double_value(&[]) * b.norm().double_value(&[]);
    if norms > 0.0 { a.dot(b).double_value(&[]) / norms } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use natgrad_envs::Space;
    use tch::{Device, Kind};

    use super::*;
    use crate::cnn::{ImageShape, Input};
    use crate::generator::{rand, randn, seeded};

    /// A batch whose second half repeats its first with the advantages
    /// times `sign`, with its π_old, in float64.
    fn doubled_batch(sign: f64) -> (Policy, [Tensor; 4]) {
        let space = Space::Box(natgrad_envs::BoxSpace::new(vec![-1.0, -1.0], vec![1.0, 1.0]));
        let mut p = seeded(1, || Policy::new(3usize, &space, &[8], 0.0, None, Device::Cpu).unwrap());
        p.var_store_mut().set_kind(Kind::Double);
        let opts = (Kind::Double, Device::Cpu);
        let (obs, actions, adv) = (randn(2, &[6, 3], opts), randn(3, &[6, 2], opts), randn(4, &[6], opts));
        let obs = Tensor::cat(&[&obs, &obs], 0);
        let actions = Tensor::cat(&[&actions, &actions], 0);
        let adv = Tensor::cat(&[&adv, &(&adv * sign)], 0);
        let old_log_probs = tch::no_grad(|| p.dist(&obs).log_prob(&actions));
        (p, [obs, actions, old_log_probs, adv])
    }

    fn signal_of(sign: f64) -> GradientSignal {
        let (p, [obs, actions, old_log_probs, advantages]) = doubled_batch(sign);
        let config = NaturalGradientConfig { signal_diagnostics: true, cg_iters: 50, ..Default::default() };
        let mut preconditioner = PolicyPreconditioner::new(&config);
        let nd = natural_direction(&p, &obs, &actions, &old_log_probs, &advantages, &config, &mut preconditioner);
        nd.unwrap().signal.expect("signal_diagnostics is on")
    }

    /// Halves that agree are all signal; halves that cancel are all noise
    /// (their sum, the batch's gradient, is zero).
    #[test]
    fn the_signal_fraction_is_what_the_halves_agree_on() {
        let same = signal_of(1.0);
        assert!((same.fraction - 1.0).abs() < 1e-9, "{same:?}");
        assert!((same.halves_cosine - 1.0).abs() < 1e-9, "{same:?}");
        let opposite = signal_of(-1.0);
        assert_eq!(opposite.fraction, 0.0, "{opposite:?}");
        assert!((opposite.halves_cosine + 1.0).abs() < 1e-9, "{opposite:?}");
    }

    /// Off by default; on, it leaves the step as it was, bit for bit.
    #[test]
    fn the_signal_is_measured_only_when_asked_and_changes_nothing() {
        let (p, [obs, actions, old_log_probs, advantages]) = doubled_batch(0.5);
        let direction = |config: &NaturalGradientConfig| {
            let mut preconditioner = PolicyPreconditioner::new(config);
            natural_direction(&p, &obs, &actions, &old_log_probs, &advantages, config, &mut preconditioner).unwrap()
        };
        let off = NaturalGradientConfig::default();
        assert!(!off.signal_diagnostics);
        let (plain, measured) =
            (direction(&off), direction(&NaturalGradientConfig { signal_diagnostics: true, ..off }));
        assert!(plain.signal.is_none());
        let signal = measured.signal.expect("signal_diagnostics is on");
        // Parallel halves of unequal size, g_B = g_A / 2: the cross term is
        // half of g_AᵀMg_A, the whole ((1 + 1/2) / 2)² = 9/16 of it.
        assert!((signal.fraction - 8.0 / 9.0).abs() < 1e-9, "{signal:?}");
        assert!((signal.halves_cosine - 1.0).abs() < 1e-9, "{signal:?}");
        assert!(plain.direction.equal(&measured.direction));
        assert_eq!(plain.max_step(0.01), measured.max_step(0.01));
    }

    /// The default `fvp = jacobian` covers MLPs; a CNN policy's product is
    /// taken by double backprop instead, and equals it.
    #[test]
    fn a_cnn_policy_takes_the_double_backprop_product() {
        let shape = ImageShape { channels: 1, height: 6, width: 6, channels_last: false };
        let space = Space::Discrete { n: 3 };
        let mut p = seeded(1, || {
            Policy::with_cnn(Input::Image(shape), &[(2, 3, 2), (2, 2, 1)], 3, &space, &[4], 0.0, None, Device::Cpu)
                .unwrap()
        });
        p.var_store_mut().set_kind(Kind::Double);
        let obs = (rand(2, &[5, 36], (Kind::Double, Device::Cpu)) * 255.0).floor();
        let old = tch::no_grad(|| p.dist(&obs)).detach();
        let config = NaturalGradientConfig::default();
        assert_eq!(config.fvp, FvpMethod::Jacobian);
        let product = exact_fisher_product(&p, &obs, &old, &config);
        let kl = old.kl(&p.dist(&obs)).mean(None::<Kind>);
        let reference = FisherVectorProduct::new(&kl, &p.parameters(), config.cg_damping);
        let n: i64 = p.parameters().iter().map(|t| t.numel() as i64).sum();
        let v = randn(3, &[n], (Kind::Double, Device::Cpu));
        let (got, want) = (product.apply(&v), reference.apply(&v));
        assert!((&got - &want).norm().double_value(&[]) <= 1e-12 * want.norm().double_value(&[]));
    }
}
