//! The policy network: an MLP giving an action distribution per state. It owns
//! its `VarStore`; the value function has its own, so the two never share
//! parameters or optimizer state.

use natgrad_envs::{Rng, Space};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use crate::distributions::ActionDist;
use crate::nn::Mlp;

/// What the policy outputs, derived from the environment's action space.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionKind {
    Discrete { n: i64 },
    Continuous { low: Vec<f32>, high: Vec<f32> },
}

impl ActionKind {
    pub fn from_space(space: &Space) -> Self {
        match space {
            Space::Discrete { n } => ActionKind::Discrete { n: *n as i64 },
            Space::Box(b) => ActionKind::Continuous { low: b.low.clone(), high: b.high.clone() },
        }
    }

    /// Scalars per action in a batch tensor (1 for an index).
    pub fn dim(&self) -> usize {
        match self {
            ActionKind::Discrete { .. } => 1,
            ActionKind::Continuous { low, .. } => low.len(),
        }
    }
}

/// π_θ(a|s): categorical over logits, or a diagonal Gaussian around the MLP's
/// output with a learned, state-independent log standard deviation.
#[derive(Debug)]
pub struct Policy {
    vs: nn::VarStore,
    net: Mlp,
    log_std: Option<Tensor>,
    kind: ActionKind,
}

impl Policy {
    /// `log_std_init` is ignored for discrete actions.
    pub fn new(obs_dim: usize, action_space: &Space, hidden: &[i64], log_std_init: f64, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let kind = ActionKind::from_space(action_space);
        let root = vs.root();
        let (out, log_std) = match &kind {
            ActionKind::Discrete { n } => (*n, None),
            ActionKind::Continuous { low, .. } => {
                let dim = low.len() as i64;
                (dim, Some(root.var("log_std", &[dim], nn::Init::Const(log_std_init))))
            }
        };
        // A small last-layer gain starts the policy near uniform / near zero mean.
        let net = Mlp::new(&(&root / "pi"), obs_dim as i64, hidden, out, 0.01);
        Self { vs, net, log_std, kind }
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

    /// Actions for a batch of observations: sampled, or with `deterministic`
    /// the most likely one (argmax, or the Gaussian's mean). Unclipped.
    pub fn act(&self, obs: &Tensor, deterministic: bool, rng: &mut Rng) -> Tensor {
        tch::no_grad(|| {
            let dist = self.dist(obs);
            if deterministic { dist.mode() } else { dist.sample(rng) }
        })
    }

    /// The action distribution for a batch of observations `[batch, obs_dim]`.
    pub fn dist(&self, obs: &Tensor) -> ActionDist {
        let out = self.net.forward(obs);
        match &self.log_std {
            None => ActionDist::Categorical { logits: out },
            Some(log_std) => ActionDist::DiagGaussian { mean: out, log_std: log_std.shallow_clone() },
        }
    }
}

#[cfg(test)]
mod tests {
    use natgrad_envs::BoxSpace;

    use super::*;

    #[test]
    fn deterministic_actions_are_the_mode_and_samples_vary() {
        tch::manual_seed(0);
        let space = Space::Box(BoxSpace::new(vec![-1.0], vec![1.0]));
        let policy = Policy::new(3, &space, &[8], 0.0, Device::Cpu);
        let obs = Tensor::randn([5, 3], (Kind::Float, Device::Cpu));
        let mean = match policy.dist(&obs) {
            ActionDist::DiagGaussian { mean, .. } => mean,
            _ => unreachable!(),
        };
        let mut rng = Rng::seed_from_u64(0);
        assert!(policy.act(&obs, true, &mut rng).equal(&mean.detach()));
        assert!(!policy.act(&obs, false, &mut rng).equal(&policy.act(&obs, false, &mut rng)));
        let discrete = Policy::new(3, &Space::Discrete { n: 4 }, &[8], 0.0, Device::Cpu);
        let a = discrete.act(&obs, true, &mut rng);
        assert_eq!(a.size(), [5]);
        assert_eq!(a.kind(), Kind::Int64);
    }
}
