//! The policy network: an MLP giving an action distribution per state. It owns
//! its `VarStore`; the value function has its own, so the two never share
//! parameters or optimizer state.

use natgrad_envs::{Rng, Space};
use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::cnn::{Extractor, ImageTooSmall, Input, NATURE_FEATURES, NATURE_LAYERS};
use crate::distributions::ActionDist;
use crate::nn::{Mlp, RecordedForward};

/// A forward pass for per-sample gradients (K-FAC and the other Fisher
/// approximations): the network's layer inputs and pre-activations, and the
/// head's parameter repeated once per state as its own leaf `[batch, ...]`,
/// so that the gradient with respect to it holds each state's gradient in
/// its rows.
pub struct PerSampleForward {
    pub dist: ActionDist,
    pub net: RecordedForward,
    /// `None` for a categorical or Bernoulli head, which has no parameters of its own.
    pub head: Option<Tensor>,
}

/// What the policy outputs, derived from the environment's action space.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionKind {
    Discrete { n: i64 },
    Continuous { low: Vec<f32>, high: Vec<f32> },
    MultiDiscrete { nvec: Vec<i64> },
    MultiBinary { n: i64 },
}

impl ActionKind {
    /// # Panics
    /// On a `Dict`, which no environment has as its action space (the
    /// Gymnasium bridge refuses one when it makes the environment).
    pub fn from_space(space: &Space) -> Self {
        match space {
            Space::Discrete { n } => ActionKind::Discrete { n: *n as i64 },
            Space::Box(b) => ActionKind::Continuous { low: b.low.clone(), high: b.high.clone() },
            Space::MultiDiscrete { nvec } => {
                ActionKind::MultiDiscrete { nvec: nvec.iter().map(|n| *n as i64).collect() }
            }
            Space::MultiBinary { n } => ActionKind::MultiBinary { n: *n as i64 },
            Space::Dict { .. } => panic!("a Dict space holds observations; no policy acts in one"),
        }
    }

    /// Scalars per action in a batch tensor (1 for an index).
    pub fn dim(&self) -> usize {
        match self {
            ActionKind::Discrete { .. } => 1,
            ActionKind::Continuous { low, .. } => low.len(),
            ActionKind::MultiDiscrete { nvec } => nvec.len(),
            ActionKind::MultiBinary { n } => *n as usize,
        }
    }

    /// The network's outputs: logits (all components' for a multi-discrete
    /// space), or the Gaussian's mean.
    fn outputs(&self) -> i64 {
        match self {
            ActionKind::Discrete { n } | ActionKind::MultiBinary { n } => *n,
            ActionKind::Continuous { low, .. } => low.len() as i64,
            ActionKind::MultiDiscrete { nvec } => nvec.iter().sum(),
        }
    }
}

/// gSDE's settings (Raffin, Kober and Stulp, 2021, "Smooth exploration for
/// robotic reinforcement learning"), named as in Stable-Baselines3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sde {
    /// One learned log-std per (feature, action) pair, rather than one per feature.
    pub full_std: bool,
    /// Keep the std positive with expln (exp below 0, log1p + 1 above) instead of exp.
    pub use_expln: bool,
    /// Let the exploration's gradient reach the features (the policy's last
    /// hidden layer); otherwise the features are treated as constants.
    pub learn_features: bool,
}

/// Added to gSDE's variance, as Stable-Baselines3, so that a state whose
/// features are all zero still has a (tiny) spread.
pub(crate) const SDE_EPSILON: f64 = 1e-6;

#[derive(Debug)]
enum Head {
    Categorical,
    MultiCategorical {
        nvec: Vec<i64>,
    },
    Bernoulli,
    /// A learned, state-independent log-std per action dimension: `[dim]`.
    Gaussian {
        log_std: Tensor,
    },
    /// gSDE: log-std parameters `[latent, dim]` (`[latent, 1]` without
    /// `full_std`), giving each state the variance features² · std².
    StateDependent {
        log_std: Tensor,
        sde: Sde,
    },
}

/// The policy's head, for code that differentiates the policy by hand.
pub enum HeadView<'a> {
    Categorical,
    /// Each component's number of logits.
    MultiCategorical {
        nvec: &'a [i64],
    },
    Bernoulli,
    /// The shared log-std `[dim]`.
    Gaussian {
        log_std: &'a Tensor,
    },
    /// gSDE's log-std parameters `[latent, dim]` or `[latent, 1]`.
    StateDependent {
        log_std: &'a Tensor,
        sde: Sde,
    },
}

/// A policy that cannot be built for its spaces.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PolicyError {
    /// gSDE needs a continuous action space.
    #[error(
        "use_sde = true: gSDE explores in a continuous (Box) action space, and these actions are discrete; set use_sde = false"
    )]
    SdeNeedsBoxActions,
    #[error(transparent)]
    ImageTooSmall(#[from] ImageTooSmall),
}

/// π_θ(a|s): categorical over logits (one per component of a multi-discrete
/// space), independent Bernoullis, or a diagonal Gaussian around the MLP's
/// output, whose standard deviation is either a learned, state-independent
/// parameter or (gSDE) a function of the last hidden layer's features.
#[derive(Debug)]
pub struct Policy {
    vs: nn::VarStore,
    /// Reads image observations into features for `net`.
    cnn: Option<Extractor>,
    net: Mlp,
    head: Head,
    kind: ActionKind,
}

impl Policy {
    /// `input`: flat observations (`obs_dim`), or images for NatureCNN,
    /// whose features the MLP takes. `log_std_init` is ignored for discrete
    /// actions; `sde` turns a Gaussian head into gSDE's and is refused for
    /// discrete actions.
    pub fn new(
        input: impl Into<Input>,
        action_space: &Space,
        hidden: &[i64],
        log_std_init: f64,
        sde: Option<Sde>,
        device: Device,
    ) -> Result<Self, PolicyError> {
        Self::with_cnn(input.into(), &NATURE_LAYERS, NATURE_FEATURES, action_space, hidden, log_std_init, sde, device)
    }

    /// [`Policy::new`] with another CNN than NatureCNN for images: `layers`
    /// (filters, kernel, stride) and `features` (small ones in the tests).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn with_cnn(
        input: Input,
        layers: &[(i64, i64, i64)],
        features: i64,
        action_space: &Space,
        hidden: &[i64],
        log_std_init: f64,
        sde: Option<Sde>,
        device: Device,
    ) -> Result<Self, PolicyError> {
        let vs = nn::VarStore::new(device);
        let kind = ActionKind::from_space(action_space);
        let root = vs.root();
        let out = kind.outputs();
        let cnn = Extractor::new(&(&root / "pi_cnn"), &input, layers, features)?;
        let width = Extractor::mlp_width(cnn.as_ref(), &input);
        // A small last-layer gain starts the policy near uniform / near zero mean.
        let net = Mlp::new(&(&root / "pi"), width, hidden, out, 0.01);
        let head = match (&kind, sde) {
            (ActionKind::Discrete { .. }, None) => Head::Categorical,
            (ActionKind::MultiDiscrete { nvec }, None) => Head::MultiCategorical { nvec: nvec.clone() },
            (ActionKind::MultiBinary { .. }, None) => Head::Bernoulli,
            (
                ActionKind::Discrete { .. } | ActionKind::MultiDiscrete { .. } | ActionKind::MultiBinary { .. },
                Some(_),
            ) => {
                return Err(PolicyError::SdeNeedsBoxActions);
            }
            (ActionKind::Continuous { .. }, None) => {
                Head::Gaussian { log_std: root.var("log_std", &[out], nn::Init::Const(log_std_init)) }
            }
            (ActionKind::Continuous { .. }, Some(sde)) => {
                let columns = if sde.full_std { out } else { 1 };
                let shape = [net.latent_dim(), columns];
                Head::StateDependent { log_std: root.var("log_std", &shape, nn::Init::Const(log_std_init)), sde }
            }
        };
        Ok(Self { vs, cnn, net, head, kind })
    }

    /// Whether images reach the MLP through a CNN: then the exact Fisher is
    /// taken by double backprop, and the plain-Rust actor does not apply.
    pub fn has_cnn(&self) -> bool {
        self.cnn.is_some()
    }

    /// What the MLP reads: the observations, or the CNN's features of them.
    fn mlp_input(&self, obs: &Tensor) -> Tensor {
        match &self.cnn {
            Some(cnn) => cnn.forward(obs),
            None => obs.shallow_clone(),
        }
    }

    pub fn action_kind(&self) -> &ActionKind {
        &self.kind
    }

    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// The trainable parameters, in a fixed order (creation order).
    pub fn parameters(&self) -> Vec<Tensor> {
        self.vs.trainable_variables()
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn kind(&self) -> Kind {
        self.parameters()[0].kind()
    }

    /// gSDE's settings, if the policy explores that way.
    pub fn sde(&self) -> Option<Sde> {
        match &self.head {
            Head::StateDependent { sde, .. } => Some(*sde),
            _ => None,
        }
    }

    /// Actions for a batch of observations: sampled, or with `deterministic`
    /// the most likely one (argmax, or the Gaussian's mean). Unclipped. A
    /// gSDE policy samples each step independently here, from the same
    /// per-state Gaussian its exploration matrices draw from
    /// ([`crate::actor::Actor::reset_noise`] holds a matrix over steps).
    pub fn act(&self, obs: &Tensor, deterministic: bool, rng: &mut Rng) -> Tensor {
        tch::no_grad(|| {
            let dist = self.dist(obs);
            if deterministic { dist.mode() } else { dist.sample(rng) }
        })
    }

    /// The action distribution for a batch of observations `[batch, obs_dim]`.
    pub fn dist(&self, obs: &Tensor) -> ActionDist {
        self.dist_and_features(obs).0
    }

    /// The action distribution and gSDE's features (the last hidden layer's
    /// activations, cut from the graph unless `learn_features`): `[batch, latent]`.
    pub fn dist_and_features(&self, obs: &Tensor) -> (ActionDist, Tensor) {
        let (out, latent) = self.net.forward_with_latent(&self.mlp_input(obs));
        let dist = match &self.head {
            Head::Categorical => ActionDist::Categorical { logits: out },
            Head::MultiCategorical { nvec } => ActionDist::MultiCategorical { logits: out, nvec: nvec.clone() },
            Head::Bernoulli => ActionDist::Bernoulli { logits: out },
            Head::Gaussian { log_std } => ActionDist::DiagGaussian { mean: out, log_std: log_std.shallow_clone() },
            Head::StateDependent { sde, .. } => {
                let features = if sde.learn_features { latent.shallow_clone() } else { latent.detach() };
                let std = self.sde_std().expect("a gSDE head");
                let variance = features.square().mm(&std.square()) + SDE_EPSILON;
                ActionDist::DiagGaussian { mean: out, log_std: variance.log() * 0.5 }
            }
        };
        (dist, latent.detach())
    }

    /// The distribution as [`Policy::dist`] computes it, with what per-sample
    /// gradients need (see [`PerSampleForward`]). The head's leaf carries the
    /// current values but no gradient back to the parameter.
    pub fn per_sample_forward(&self, obs: &Tensor) -> PerSampleForward {
        let net = crate::cnn::forward_recorded(self.cnn.as_ref(), &self.net, obs);
        let n = obs.size()[0];
        let repeated = |p: &Tensor| {
            let shape: Vec<i64> = std::iter::once(n).chain(p.size()).collect();
            p.detach().unsqueeze(0).expand(&shape, false).copy().set_requires_grad(true)
        };
        let (dist, head) = match &self.head {
            Head::Categorical => (ActionDist::Categorical { logits: net.output.shallow_clone() }, None),
            Head::MultiCategorical { nvec } => {
                (ActionDist::MultiCategorical { logits: net.output.shallow_clone(), nvec: nvec.clone() }, None)
            }
            Head::Bernoulli => (ActionDist::Bernoulli { logits: net.output.shallow_clone() }, None),
            Head::Gaussian { log_std } => {
                let leaf = repeated(log_std);
                (
                    ActionDist::DiagGaussian { mean: net.output.shallow_clone(), log_std: leaf.shallow_clone() },
                    Some(leaf),
                )
            }
            Head::StateDependent { sde, .. } => {
                let leaf = repeated(self.sde_log_std().expect("a gSDE head"));
                let features = if sde.learn_features { net.latent.shallow_clone() } else { net.latent.detach() };
                let std = self.std_of(&leaf).expand([n, leaf.size()[1], self.kind.dim() as i64], false);
                let variance =
                    (features.square().unsqueeze(2) * std.square()).sum_dim_intlist(1, false, features.kind())
                        + SDE_EPSILON;
                let dist = ActionDist::DiagGaussian { mean: net.output.shallow_clone(), log_std: variance.log() * 0.5 };
                (dist, Some(leaf))
            }
        };
        PerSampleForward { dist, net, head }
    }

    /// The MLP that gives the logits or the Gaussian's mean.
    pub fn network(&self) -> &Mlp {
        &self.net
    }

    pub fn head(&self) -> HeadView<'_> {
        match &self.head {
            Head::Categorical => HeadView::Categorical,
            Head::MultiCategorical { nvec } => HeadView::MultiCategorical { nvec },
            Head::Bernoulli => HeadView::Bernoulli,
            Head::Gaussian { log_std } => HeadView::Gaussian { log_std },
            Head::StateDependent { log_std, sde } => HeadView::StateDependent { log_std, sde: *sde },
        }
    }

    /// Each layer's (in, out) sizes; the head's parameter (if any) follows
    /// the layers in [`Policy::parameters`].
    pub fn layer_sizes(&self) -> Vec<(i64, i64)> {
        self.net.layer_sizes()
    }

    fn sde_log_std(&self) -> Option<&Tensor> {
        match &self.head {
            Head::StateDependent { log_std, .. } => Some(log_std),
            _ => None,
        }
    }

    /// gSDE's std of the log-std values `log_std` (exp, or expln).
    pub(crate) fn std_of(&self, log_std: &Tensor) -> Tensor {
        match self.sde() {
            Some(Sde { use_expln: true, .. }) => expln(log_std),
            _ => log_std.exp(),
        }
    }

    /// gSDE's standard deviations of the exploration matrix's entries,
    /// `[latent, dim]`, differentiable in the log-std parameters.
    pub fn sde_std(&self) -> Option<Tensor> {
        let log_std = self.sde_log_std()?;
        Some(self.std_of(log_std).expand([log_std.size()[0], self.kind.dim() as i64], false))
    }
}

/// The slope of gSDE's std in its log-std parameter, elementwise: the std
/// itself for exp; exp(x) below 0 and 1 / (1 + x) above for expln.
pub(crate) fn std_slope(log_std: &Tensor, use_expln: bool) -> Tensor {
    if !use_expln {
        return log_std.exp();
    }
    let below = log_std.clamp_max(0.0).exp();
    let above = (log_std.clamp_min(0.0) + 1.0).reciprocal();
    below.where_self(&log_std.le(0.0), &above)
}

/// exp(x) for x ≤ 0 and log1p(x) + 1 above: a positive function that grows
/// only logarithmically, so a large log-std cannot blow the variance up.
fn expln(x: &Tensor) -> Tensor {
    // Each branch is evaluated on arguments where it is finite, so that the
    // masked-out branch cannot put 0 · ∞ = NaN into the gradient.
    let below = x.clamp_max(0.0).exp();
    let above = x.clamp_min(0.0).log1p() + 1.0;
    below.where_self(&x.le(0.0), &above)
}

#[cfg(test)]
mod tests {
    use natgrad_envs::BoxSpace;

    use super::*;
    use crate::generator::{randn, seeded};

    #[test]
    fn deterministic_actions_are_the_mode_and_samples_vary() {
        let space = Space::Box(BoxSpace::new(vec![-1.0], vec![1.0]));
        let policy = seeded(0, || Policy::new(3, &space, &[8], 0.0, None, Device::Cpu).unwrap());
        let obs = randn(1, &[5, 3], (Kind::Float, Device::Cpu));
        let mean = match policy.dist(&obs) {
            ActionDist::DiagGaussian { mean, .. } => mean,
            _ => unreachable!(),
        };
        let mut rng = Rng::seed_from_u64(0);
        assert!(policy.act(&obs, true, &mut rng).equal(&mean.detach()));
        assert!(!policy.act(&obs, false, &mut rng).equal(&policy.act(&obs, false, &mut rng)));
        let discrete = seeded(2, || Policy::new(3, &Space::Discrete { n: 4 }, &[8], 0.0, None, Device::Cpu).unwrap());
        let a = discrete.act(&obs, true, &mut rng);
        assert_eq!(a.size(), [5]);
        assert_eq!(a.kind(), Kind::Int64);
    }
}
