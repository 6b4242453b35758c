//! What every agent shares: the collection and critic settings, the
//! statistics an update reports, the `Agent` trait and the training loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use natgrad_envs::{EnvError, EpisodeStats, Rng, Space};
use tch::{Device, Kind, Tensor};
use thiserror::Error;

use crate::cnn::{Column, ImageShape, ImageTooSmall, Input};
use crate::distributions::ActionDist;
use crate::finite::{NonFinite, ensure_finite, ensure_finite_parameters, hints};
use crate::hyperparameters::hyperparameters;
use crate::natural_policy_step::surrogate;
use crate::optim::Adam;
use crate::policy::{Policy, PolicyError, Sde};
use crate::rollout::{Collector, Rollout};
use crate::schedule::{Schedule, progress_remaining};
use crate::value::ValueFunction;

hyperparameters! {
    /// Settings shared by every agent: how experience is collected and how the
    /// value function learns.
    pub struct CommonConfig {
        /// Environment copies stepped in lockstep.
        pub n_envs: usize = 1,
        /// Steps per copy per iteration; a batch holds n_envs * n_steps steps.
        pub n_steps: usize = 2048,
        /// Discount factor, in (0, 1].
        pub gamma: f64 = 0.99,
        /// GAE's lambda, in [0, 1]: 0 is the one-step TD error, 1 the Monte Carlo return.
        pub gae_lambda: f64 = 0.97,
        /// Standardise advantages within each batch.
        pub normalize_advantage: bool = true,
        /// Normalise observations by running statistics (as SB3's VecNormalize).
        pub normalize_observations: bool = false,
        /// Divide rewards by the running std of the discounted return.
        pub scale_rewards: bool = false,
        /// How observations reach the networks: auto (NatureCNN for images,
        /// uint8 boxes of three dimensions with bounds 0 to 255, of at least
        /// 36x36; flattened into the MLP otherwise), cnn (NatureCNN, refused
        /// for anything but such an image), or mlp (always flattened). The
        /// policy and the value function each get their own CNN.
        pub policy: PolicyNetwork = PolicyNetwork::Auto,
        /// Hidden layer sizes of the policy network.
        pub policy_hidden: Vec<i64> = vec![64, 64],
        /// Hidden layer sizes of the value network.
        pub value_hidden: Vec<i64> = vec![64, 64],
        /// Initial log standard deviation of Gaussian policies (with gSDE, of
        /// each entry of the exploration matrix).
        pub log_std_init: f64 = 0.0,
        /// gSDE, generalized state-dependent exploration (Raffin et al.,
        /// 2021): the action noise is the policy's last hidden features times a
        /// random matrix held for sde_sample_freq steps, so exploration is
        /// smooth in time. Continuous actions only.
        pub use_sde: bool = false,
        /// With use_sde: draw a new exploration matrix every this many steps;
        /// 0: only at the start of each rollout (SB3's -1).
        pub sde_sample_freq: usize = 0,
        /// With use_sde: one learned log-std per (feature, action) pair;
        /// false: one per feature, shared by the actions.
        pub full_std: bool = true,
        /// With use_sde: keep the std positive with expln (exp below 0,
        /// log1p + 1 above) instead of exp, so it cannot grow fast.
        pub use_expln: bool = false,
        /// With use_sde: let the exploration's gradient train the policy's
        /// hidden layers too (otherwise they are constants for the std).
        pub learn_features: bool = false,
        /// Adam learning rate of the value function: a number, or lin_X
        /// (rl-baselines3-zoo's syntax), X falling linearly to 0 at the end.
        pub critic_learning_rate: Schedule = Schedule::Constant(1e-3),
        /// Adam's epsilon for the value function: Stable-Baselines3's 1e-5
        /// for actor-critic policies (PyTorch's default is 1e-8). It bounds
        /// the step of weights whose gradients are tiny, as with normalised
        /// rewards.
        pub critic_adam_eps: f64 = 1e-5,
        /// Passes of the value function over each batch.
        pub n_critic_updates: usize = 10,
        /// Minibatch size of the value function's updates.
        pub critic_batch_size: usize = 128,
    }
}

/// `policy`: how observations reach the networks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyNetwork {
    /// NatureCNN for images large enough for its kernels, the MLP otherwise.
    #[default]
    Auto,
    /// NatureCNN, for images only.
    Cnn,
    /// The MLP over the flattened, encoded observation.
    Mlp,
}

impl std::fmt::Display for PolicyNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PolicyNetwork::Auto => "auto",
            PolicyNetwork::Cnn => "cnn",
            PolicyNetwork::Mlp => "mlp",
        })
    }
}

/// An invalid hyperparameter, with the accepted range.
#[derive(Debug, Error, PartialEq)]
#[error("invalid {key} = {value}: {expected}")]
pub struct ConfigError {
    pub key: &'static str,
    pub value: String,
    pub expected: &'static str,
}

pub(crate) fn check(
    ok: bool,
    key: &'static str,
    value: impl ToString,
    expected: &'static str,
) -> Result<(), ConfigError> {
    if ok { Ok(()) } else { Err(ConfigError { key, value: value.to_string(), expected }) }
}

impl CommonConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        check(self.n_envs >= 1, "n_envs", self.n_envs, "need at least 1 environment copy")?;
        check(self.n_steps >= 1, "n_steps", self.n_steps, "need at least 1 step per copy per iteration")?;
        check(self.gamma > 0.0 && self.gamma <= 1.0, "gamma", self.gamma, "gamma must be in (0, 1]")?;
        check((0.0..=1.0).contains(&self.gae_lambda), "gae_lambda", self.gae_lambda, "gae_lambda must be in [0, 1]")?;
        let hidden_ok = |h: &[i64]| !h.is_empty() && h.iter().all(|s| *s > 0);
        check(
            hidden_ok(&self.policy_hidden),
            "policy_hidden",
            format!("{:?}", self.policy_hidden),
            "give at least one positive layer size, e.g. [64, 64]",
        )?;
        check(
            hidden_ok(&self.value_hidden),
            "value_hidden",
            format!("{:?}", self.value_hidden),
            "give at least one positive layer size, e.g. [64, 64]",
        )?;
        check(self.log_std_init.is_finite(), "log_std_init", self.log_std_init, "must be finite")?;
        let critic_lr = self.critic_learning_rate.initial();
        check(
            critic_lr > 0.0 && critic_lr.is_finite(),
            "critic_learning_rate",
            self.critic_learning_rate,
            "must be positive",
        )?;
        check(
            self.critic_adam_eps > 0.0 && self.critic_adam_eps.is_finite(),
            "critic_adam_eps",
            self.critic_adam_eps,
            "must be positive, e.g. 1e-5",
        )?;
        check(self.critic_batch_size >= 1, "critic_batch_size", self.critic_batch_size, "must be at least 1")?;
        // 0 would leave the critic untrained while its loss read 0.0, a perfect fit.
        check(
            self.n_critic_updates >= 1,
            "n_critic_updates",
            self.n_critic_updates,
            "must be at least 1: the value function learns only in these passes",
        )?;
        Ok(())
    }

    /// gSDE's settings, if `use_sde`.
    pub fn sde(&self) -> Option<Sde> {
        self.use_sde.then_some(Sde {
            full_std: self.full_std,
            use_expln: self.use_expln,
            learn_features: self.learn_features,
        })
    }

    /// What the networks read for observations of `space`, `flat_dim`
    /// values each once encoded: an image for NatureCNN or a flat vector, as
    /// `policy` says. Refuses a CNN without an image, and running
    /// normalisation of images (they are scaled to [0, 1] instead).
    pub fn network_input(&self, space: &Space, flat_dim: usize) -> Result<Input, ConfigError> {
        if let Space::Dict { keys } = space
            && self.policy != PolicyNetwork::Mlp
            && let Some(input) = self.dict_input(keys)?
        {
            return Ok(input);
        }
        let image = ImageShape::of(space);
        let fits = image.is_some_and(|s| crate::cnn::nature_fits(s.height, s.width));
        let input = match (self.policy, image) {
            (PolicyNetwork::Mlp, _) | (PolicyNetwork::Auto, None) => Input::Flat(flat_dim),
            (PolicyNetwork::Auto, Some(_)) if !fits => Input::Flat(flat_dim),
            (PolicyNetwork::Auto | PolicyNetwork::Cnn, Some(shape)) => Input::Image(shape),
            (PolicyNetwork::Cnn, None) => {
                return Err(ConfigError {
                    key: "policy",
                    value: "cnn".into(),
                    expected: "NatureCNN reads images, uint8 boxes of three dimensions with bounds 0 to 255, and these observations are not one; set policy=mlp (or auto)",
                });
            }
        };
        check(
            !(matches!(input, Input::Image(_)) && self.normalize_observations),
            "normalize_observations",
            true,
            "a CNN scales images to [0, 1] itself and never by running statistics; set normalize_observations=false",
        )?;
        Ok(input)
    }

    /// A `Dict`'s input with a CNN for each image key (CombinedExtractor),
    /// or `None` where no key is an image (the keys then go in flat). Under
    /// `auto`, an image too small for NatureCNN is flattened with the rest;
    /// `cnn` leaves it to NatureCNN, which refuses it.
    fn dict_input(&self, keys: &[(String, Space)]) -> Result<Option<Input>, ConfigError> {
        let widths = crate::encoding::key_widths(keys);
        let mut columns: Vec<Column> = vec![];
        for ((_, space), width) in keys.iter().zip(widths) {
            let image = ImageShape::of(space)
                .filter(|s| self.policy == PolicyNetwork::Cnn || crate::cnn::nature_fits(s.height, s.width));
            match (image, columns.last_mut()) {
                (Some(shape), _) => columns.push(Column::Image(shape)),
                (None, Some(Column::Flat(dim))) => *dim += width,
                (None, _) => columns.push(Column::Flat(width)),
            }
        }
        if !columns.iter().any(|c| matches!(c, Column::Image(_))) {
            return Ok(None);
        }
        Ok(Some(Input::Combined(columns)))
    }

    /// Refuses settings that do not fit `action_space` (gSDE with discrete actions).
    pub fn check_action_space(&self, action_space: &Space) -> Result<(), ConfigError> {
        let discrete = !matches!(action_space, Space::Box(_));
        check(
            !(self.use_sde && discrete),
            "use_sde",
            true,
            "gSDE explores in a continuous (Box) action space and this environment's actions are discrete; set use_sde=false",
        )
    }
}

/// The random streams one experiment seed drives, for [`Rng::derive`].
/// Environment copy i is seeded with `seed + i`; network initialisation uses
/// libtorch's generator seeded with `seed`.
pub mod streams {
    /// Action sampling in the rollout collector.
    pub const ACTIONS: u64 = 1;
    /// Minibatch shuffling of the value function.
    pub const MINIBATCHES: u64 = 2;
}

/// Wall time of the parts of one iteration.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    pub rollout: Duration,
    pub policy_gradient: Duration,
    pub conjugate_gradient: Duration,
    pub line_search: Duration,
    pub critic: Duration,
}

/// What the natural-gradient step did (TRPO and NPG).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NaturalStepStats {
    pub cg_iterations: usize,
    /// ‖g − (F + damping·I)·s‖ after conjugate gradient.
    pub cg_residual: f64,
    /// The multiple of the natural direction s that was applied (β times the
    /// accepted line-search fraction); 0 when nothing was applied.
    pub step_size: f64,
    /// Backtracking steps of the line search (TRPO only).
    pub line_search_steps: usize,
    /// Whether a step was applied.
    pub line_search_success: bool,
    /// The step was skipped because sᵀFs was not positive and finite.
    pub skipped_bad_curvature: bool,
    /// The mean KL the quadratic model predicted for the applied step,
    /// ½ t² sᵀ(F + λI)s with the exact Fisher (0 when nothing was applied).
    pub predicted_kl: f64,
    /// With `fisher_diagnostics` and an approximate Fisher: the cosine between
    /// its direction and the exact one (conjugate gradient, same batch).
    pub cosine_to_exact: Option<f64>,
    /// With `fisher_diagnostics`: the first-order surrogate gain of a step to
    /// the trust region's edge along the direction, over the exact one's.
    pub gain_to_exact: Option<f64>,
    /// With `signal_diagnostics`: the share of the natural gradient's
    /// squared norm that the batch's two halves agree on (signal, not noise).
    pub signal_fraction: Option<f64>,
    /// With `signal_diagnostics`: the cosine between the two halves' natural
    /// gradients.
    pub halves_cosine: Option<f64>,
    /// The damping λ the direction was solved with.
    pub damping: f64,
    /// The time the direction took: conjugate gradient, or the approximation.
    pub direction_time: Duration,
    /// The trust region δ of this update: `target_kl`, at its scheduled
    /// value where it has a schedule.
    pub target_kl: f64,
    /// A scheduled trust region or step size had reached 0: no step was due.
    pub schedule_ended: bool,
}

impl NaturalStepStats {
    /// Why no step was applied, or `None` if one was: `bad_curvature` (sᵀFs
    /// not positive, e.g. a zero gradient), `schedule_end` (a scheduled
    /// trust region has reached 0) or `line_search` (no fraction of the step
    /// improved the surrogate within the trust region).
    pub fn skip_reason(&self) -> Option<&'static str> {
        if self.skipped_bad_curvature {
            Some("bad_curvature")
        } else if !self.line_search_success && self.schedule_ended {
            Some("schedule_end")
        } else if !self.line_search_success {
            Some("line_search")
        } else {
            None
        }
    }
}

/// The statistics of one update, for the logger.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateStats {
    /// Surrogate E[π_θ/π_old · A] before and after the policy update.
    pub surrogate_before: f64,
    pub surrogate_after: f64,
    /// The loss the policy step minimised, at the end of the update.
    pub policy_loss: f64,
    /// Mean KL(π_old ‖ π_new) over the batch, after the update.
    pub approx_kl: f64,
    /// Mean entropy of π_new over the batch.
    pub entropy: f64,
    /// Mean squared error of the value function in its last epoch.
    pub value_loss: f64,
    /// 1 − Var(returns − V) / Var(returns), with V at collection time.
    pub explained_variance: f64,
    pub natural: Option<NaturalStepStats>,
    pub timings: Timings,
}

/// What every agent is made of: the shared settings, a policy and a value
/// function (separate networks, each with its own parameters and optimizer)
/// and the agent's own random stream, all driven by one seed. An algorithm
/// embeds one and adds its update rule.
pub struct AgentCore {
    pub common: CommonConfig,
    pub policy: Policy,
    pub value: ValueFunction,
    /// The minibatch order of the critic's fit.
    pub rng: Rng,
    /// Stable-Baselines3's progress remaining (1 at the start of training,
    /// 0 at its end), which [`train`] sets before each update: scheduled
    /// hyperparameters ([`crate::schedule`]) read their value from it.
    pub progress_remaining: f64,
}

impl AgentCore {
    /// Seeds libtorch's generator with `seed` (network initialisation), derives
    /// the agent's stream from it, then makes the two networks.
    pub fn new(
        common: CommonConfig,
        input: Input,
        action_space: &Space,
        device: Device,
        seed: u64,
    ) -> Result<Self, ConfigError> {
        let (policy, value) = crate::generator::seeded(seed as i64, || networks(&common, input, action_space, device))?;
        Ok(Self { common, policy, value, rng: Rng::derive(seed, streams::MINIBATCHES), progress_remaining: 1.0 })
    }

    /// The batch's advantages as the policy step reads them: standardised if
    /// `normalize_advantage`.
    pub fn advantages(&self, rollout: &Rollout) -> Tensor {
        prepare_advantages(&rollout.advantages, self.common.normalize_advantage)
    }

    /// One actor-critic update: `policy_step` moves the policy with the
    /// batch's advantages while the critic fits on the batch (beside it on a
    /// second thread with [`set_parallel_critic`]), then the moved policy is
    /// measured against π_old (surrogate, KL, entropy) and the statistics
    /// assembled. A failure of the policy step is reported before one of the
    /// critic's.
    pub(crate) fn update(
        &mut self,
        rollout: &Rollout,
        policy_step: impl FnOnce(&Policy, &Tensor) -> Result<PolicyStep, NonFinite>,
    ) -> Result<UpdateStats, NonFinite> {
        let advantages = self.advantages(rollout);
        self.value.optimizer.learning_rate = self.common.critic_learning_rate.value(self.progress_remaining);
        let Self { common, policy, value, rng, .. } = self;
        let batch = CriticBatch::of(rollout);
        let (step, critic) = if parallel_critic() {
            std::thread::scope(|scope| {
                let threads = tch::get_num_threads();
                let critic = scope.spawn(move || {
                    // libtorch's and MKL's thread counts are partly per thread.
                    tch::set_num_threads(threads);
                    fit_critic(value, batch, common, rng)
                });
                let step = policy_step(policy, &advantages);
                let fitted = critic.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (step, fitted)
            })
        } else {
            let step = policy_step(policy, &advantages);
            (step, fit_critic(value, batch, common, rng))
        };
        let step = step?;
        let (value_loss, explained_variance, critic_time) = critic?;
        let (surrogate_after, approx_kl, entropy) = measure_policy(policy, rollout, &advantages, &step.old_dist);
        Ok(UpdateStats {
            surrogate_before: step.surrogate_before,
            surrogate_after,
            policy_loss: -surrogate_after,
            approx_kl,
            entropy,
            value_loss,
            explained_variance,
            natural: step.natural,
            timings: Timings { critic: critic_time, ..step.timings },
        })
    }
}

/// A learning agent: an [`AgentCore`] and a rule to update it from a rollout.
/// An algorithm implements `core`, `core_mut` and `update`; the rest has
/// defaults that read the core, which agents with more state (a policy
/// optimizer, K-FAC's factors) extend.
pub trait Agent {
    fn core(&self) -> &AgentCore;
    fn core_mut(&mut self) -> &mut AgentCore;
    /// Learns from a batch; fails, naming it, when a gradient, a direction or
    /// the critic's loss is NaN or infinite.
    fn update(&mut self, rollout: &Rollout) -> Result<UpdateStats, NonFinite>;

    /// Every optimizer with its name, for checkpoints: the critic's Adam.
    fn optimizers(&mut self) -> Vec<(&'static str, &mut Adam)> {
        vec![("value", &mut self.core_mut().value.optimizer)]
    }
    /// What else an update depends on (K-FAC's running factors), by name,
    /// for checkpoints.
    fn curvature_state(&self) -> Vec<(String, Tensor)> {
        vec![]
    }
    /// Restores [`Agent::curvature_state`]; `get` returns a saved tensor by name.
    fn restore_curvature_state(&mut self, _get: &dyn Fn(&str) -> Option<Tensor>) -> Result<(), String> {
        Ok(())
    }

    fn policy(&self) -> &Policy {
        &self.core().policy
    }
    fn value_function(&self) -> &ValueFunction {
        &self.core().value
    }
    fn common(&self) -> &CommonConfig {
        &self.core().common
    }
    /// The agent's own random stream (minibatch order), for checkpoints.
    fn rng(&mut self) -> &mut Rng {
        &mut self.core_mut().rng
    }
}

/// Advantages standardised to zero mean and unit variance, if asked.
pub(crate) fn prepare_advantages(advantages: &Tensor, normalize: bool) -> Tensor {
    if normalize && advantages.size()[0] > 1 {
        (advantages - advantages.mean(None::<Kind>)) / (advantages.std(true) + 1e-8)
    } else {
        advantages.shallow_clone()
    }
}

pub(crate) fn explained_variance(values: &Tensor, returns: &Tensor) -> f64 {
    let var_returns = returns.var(true).double_value(&[]);
    if var_returns == 0.0 { f64::NAN } else { 1.0 - (returns - values).var(true).double_value(&[]) / var_returns }
}

/// A fresh policy and value function with `common`'s sizes.
fn networks(
    common: &CommonConfig,
    input: Input,
    action_space: &Space,
    device: Device,
) -> Result<(Policy, ValueFunction), ConfigError> {
    common.check_action_space(action_space)?;
    let too_small = |e: ImageTooSmall| ConfigError {
        key: "policy",
        value: format!("{} (a {}x{} image)", common.policy, e.height, e.width),
        expected: "an image of at least 36x36 for NatureCNN's kernels; enlarge it (gymnasium.wrappers.ResizeObservation) or set policy=mlp to flatten it",
    };
    let hidden = &common.policy_hidden;
    let policy = Policy::new(input.clone(), action_space, hidden, common.log_std_init, common.sde(), device).map_err(
        |e| match e {
            PolicyError::ImageTooSmall(e) => too_small(e),
            PolicyError::SdeNeedsBoxActions => unreachable!("the action space was checked"),
        },
    )?;
    let (lr, eps) = (common.critic_learning_rate.initial(), common.critic_adam_eps);
    let value = ValueFunction::new(input, &common.value_hidden, lr, eps, device).map_err(too_small)?;
    Ok((policy, value))
}

/// What an agent's policy step hands back for the update's statistics.
pub(crate) struct PolicyStep {
    /// π_old over the batch, detached.
    pub old_dist: ActionDist,
    pub surrogate_before: f64,
    pub natural: Option<NaturalStepStats>,
    /// The step's parts (policy gradient, conjugate gradient, line search).
    pub timings: Timings,
}

/// Whether the critic fits on a thread of its own while the policy steps.
/// An execution setting, like libtorch's thread count: the two parts of an
/// update read the same batch and write disjoint networks, and the critic's
/// minibatch order comes from the agent's own stream either way, so every
/// result is the same with it on or off.
static PARALLEL_CRITIC: AtomicBool = AtomicBool::new(false);

/// Fit the critic beside the policy step (on) or after it (off, the default).
pub fn set_parallel_critic(on: bool) {
    PARALLEL_CRITIC.store(on, Ordering::Relaxed);
}

pub fn parallel_critic() -> bool {
    PARALLEL_CRITIC.load(Ordering::Relaxed)
}

/// The moved policy on the batch: (surrogate, mean KL from π_old, entropy).
pub(crate) fn measure_policy(
    policy: &Policy,
    rollout: &Rollout,
    advantages: &Tensor,
    old_dist: &ActionDist,
) -> (f64, f64, f64) {
    tch::no_grad(|| {
        let dist = policy.dist(&rollout.obs);
        (
            surrogate(&dist, &rollout.actions, &rollout.log_probs, advantages).double_value(&[]),
            old_dist.kl(&dist).mean(None::<Kind>).double_value(&[]),
            dist.entropy().mean(None::<Kind>).double_value(&[]),
        )
    })
}

/// What the critic learns from, owned so that it can move to the critic's
/// thread (a tensor is `Send` but not `Sync`); shallow copies of the batch.
struct CriticBatch {
    obs: Tensor,
    values: Tensor,
    returns: Tensor,
}

impl CriticBatch {
    fn of(rollout: &Rollout) -> Self {
        Self {
            obs: rollout.obs.shallow_clone(),
            values: rollout.values.shallow_clone(),
            returns: rollout.returns.detach(),
        }
    }
}

/// Fits the critic on the batch: (value loss, explained variance, time).
fn fit_critic(
    value: &mut ValueFunction,
    batch: CriticBatch,
    common: &CommonConfig,
    rng: &mut Rng,
) -> Result<(f64, f64, Duration), NonFinite> {
    let start = Instant::now();
    let ev = explained_variance(&batch.values, &batch.returns);
    let loss = value.fit(&batch.obs, &batch.returns, common.n_critic_updates, common.critic_batch_size, rng);
    if !loss.is_finite() {
        return Err(NonFinite { what: "the value loss", hint: hints::CRITIC });
    }
    ensure_finite_parameters(
        &value.var_store().trainable_variables(),
        "the value function's parameters",
        hints::CRITIC,
    )?;
    Ok((loss, ev, start.elapsed()))
}

/// Checks a batch before anything learns from it, in the order the
/// quantities are made, so that the first one named is where it began.
pub fn ensure_finite_batch(r: &Rollout) -> Result<(), NonFinite> {
    let env = "the environment produced them (check its dynamics, or the actions it was given)";
    ensure_finite(&r.obs, "the observations", env)?;
    ensure_finite(&r.rewards, "the rewards", env)?;
    ensure_finite(&r.log_probs, "the policy's log-probabilities of its actions", hints::POLICY)?;
    ensure_finite(&r.values, "the value function's predictions", hints::CRITIC)?;
    ensure_finite(&r.advantages, "the advantages", hints::CRITIC)?;
    ensure_finite(&r.returns, "the value targets", hints::CRITIC)
}

/// One iteration of [`train`]: its batch's finished episodes and the update.
#[derive(Debug)]
pub struct Iteration {
    pub index: usize,
    /// Environment steps so far, over all copies.
    pub total_steps: usize,
    pub episodes: Vec<EpisodeStats>,
    /// The step count at which each episode ended.
    pub episode_end_steps: Vec<usize>,
    pub stats: UpdateStats,
}

/// Why training stopped early.
#[derive(Debug, Error)]
pub enum TrainError {
    #[error(transparent)]
    Env(#[from] EnvError),
    /// Divergence in `iteration`: the agent may already be in the non-finite
    /// state, so the caller must not save it.
    #[error("iteration {iteration}: {source}")]
    NonFinite { iteration: usize, source: NonFinite },
}

/// Whether training goes on after an iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// Collects a rollout and updates the agent until `total_steps` environment
/// steps have been taken (the last batch is whole, so it may overshoot by less
/// than one batch) or `on_iteration` says stop. Iterations are numbered from
/// `first_index` (a resumed run's count so far). `on_iteration` also gets the
/// agent and the collector, to save or inspect them between iterations; it is
/// never called with a non-finite batch or non-finite parameters: training
/// stops with [`TrainError::NonFinite`] instead.
pub fn train(
    agent: &mut dyn Agent,
    collector: &mut Collector,
    total_steps: usize,
    first_index: usize,
    mut on_iteration: impl FnMut(&Iteration, &mut dyn Agent, &mut Collector) -> Control,
) -> Result<(), TrainError> {
    let mut index = first_index;
    while collector.total_steps < total_steps {
        let start = Instant::now();
        let common = agent.common().clone();
        let rollout = collector.collect(agent.policy(), agent.value_function(), &common)?;
        let rollout_time = start.elapsed();
        let diverged = |source| TrainError::NonFinite { iteration: index, source };
        ensure_finite_batch(&rollout).map_err(diverged)?;
        agent.core_mut().progress_remaining = progress_remaining(collector.total_steps, total_steps);
        let mut stats = agent.update(&rollout).map_err(diverged)?;
        ensure_finite_parameters(&agent.policy().parameters(), "the policy's parameters", hints::POLICY)
            .map_err(diverged)?;
        stats.timings.rollout = rollout_time;
        let iteration = Iteration {
            index,
            total_steps: collector.total_steps,
            episodes: rollout.episodes,
            episode_end_steps: rollout.episode_end_steps,
            stats,
        };
        index += 1;
        if on_iteration(&iteration, agent, collector) == Control::Stop {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use natgrad_envs::BoxSpace;

    use super::*;

    fn image(side: usize) -> Space {
        let n = side * side;
        Space::Box(BoxSpace { low: vec![0.0; n], high: vec![255.0; n], shape: vec![side, side, 1], uint8: true })
    }

    /// A Dict with an image key gets a CNN for it, the other keys' encoded
    /// columns beside it (adjacent ones merged); policy=mlp, a Dict without
    /// images and, under auto, an image too small for NatureCNN go in flat.
    #[test]
    fn a_dict_with_images_gets_a_cnn_per_image_key() {
        let shape = ImageShape { channels: 1, height: 36, width: 36, channels_last: true };
        let dict = |picture: Space| Space::Dict {
            keys: vec![
                ("a".into(), Space::Discrete { n: 3 }),
                ("b".into(), Space::Box(BoxSpace::new(vec![-1.0; 2], vec![1.0; 2]))),
                ("c".into(), picture),
                ("d".into(), Space::MultiBinary { n: 4 }),
            ],
        };
        let auto = CommonConfig::default();
        let space = dict(image(36));
        let input = auto.network_input(&space, 3 + 2 + 1296 + 4).unwrap();
        assert_eq!(input, Input::Combined(vec![Column::Flat(5), Column::Image(shape), Column::Flat(4)]));
        let mlp = CommonConfig { policy: PolicyNetwork::Mlp, ..CommonConfig::default() };
        assert_eq!(mlp.network_input(&space, 1305).unwrap(), Input::Flat(1305));
        assert_eq!(auto.network_input(&dict(image(8)), 73).unwrap(), Input::Flat(73));
        let cnn = CommonConfig { policy: PolicyNetwork::Cnn, ..CommonConfig::default() };
        let small = ImageShape { height: 8, width: 8, ..shape };
        let forced = cnn.network_input(&dict(image(8)), 73).unwrap();
        assert_eq!(forced, Input::Combined(vec![Column::Flat(5), Column::Image(small), Column::Flat(4)]));
        // Images are never normalised by running statistics; the Box key is.
        let normalized = CommonConfig { normalize_observations: true, ..CommonConfig::default() };
        assert!(normalized.network_input(&space, 1305).is_ok());
        let columns = crate::encoding::ObsEncoding::of(&space).normalizable_columns();
        assert_eq!(columns.iter().filter(|c| **c).count(), 2);
        assert!(columns[3] && columns[4] && !columns[5]);
    }
}
