//! The exact Fisher-vector product without double backprop.
//!
//! At θ_old the Hessian of the mean KL(π_old ‖ π_θ) is J ᵀM J / n: J the
//! Jacobian of every state's distribution parameters with respect to θ, M
//! the Fisher of the output distribution in those parameters (the term with
//! the output's own second derivative vanishes, since the KL's gradient in
//! the output is zero at π_old). M has a closed form: diag(p) − ppᵀ for a
//! categorical over logits (one such block per component of a product of
//! categoricals), diag(p(1 − p)) for Bernoullis over their logits,
//! diag(1/σ², 2) for a Gaussian in (μ, log σ)
//! (Martens, 2020, "New insights and perspectives on the natural gradient
//! method", §9). So a product is one forward-mode pass for J v, a few
//! elementwise operations for M, and one backward pass for Jᵀ(M J v): about
//! 25 large libtorch operations for a two-hidden-layer MLP, against the
//! hundreds of small ones double backprop records and replays.
//!
//! The passes are written out for natgrad's tanh MLP and its heads.
//! Flat vectors follow [`Policy::parameters`]: per layer its bias, then its
//! weight `[out, in]`, then the head's log-std. The tests hold every head
//! against [`crate::natural_gradient::FisherVectorProduct`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::natural_gradient::FisherProduct;
use crate::nn::weight_gradient;
use crate::policy::{HeadView, Policy, SDE_EPSILON, std_slope};

/// How the exact Fisher-vector product is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FvpMethod {
    /// J ᵀM J by hand: one forward-mode and one backward pass per product.
    #[default]
    Jacobian,
    /// Pearlmutter's trick: a backward pass through the gradient of the mean KL.
    DoubleBackprop,
}

impl FvpMethod {
    pub const ALL: [FvpMethod; 2] = [FvpMethod::Jacobian, FvpMethod::DoubleBackprop];

    pub fn name(self) -> &'static str {
        match self {
            FvpMethod::Jacobian => "jacobian",
            FvpMethod::DoubleBackprop => "double_backprop",
        }
    }
}

impl fmt::Display for FvpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FvpMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FvpMethod::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown fvp '{s}': use jacobian or double_backprop"))
    }
}

/// One layer at θ_old: what its tangent and its backward pass need.
struct Layer {
    weight: Tensor,
    /// The layer's input `[n, in]`.
    input: Tensor,
    /// tanh' of the layer's output, 1 − tanh², `[n, out]`; `None` on the
    /// output layer, which has no activation.
    slope: Option<Tensor>,
}

/// M, the Fisher of each state's output distribution.
enum OutputFisher {
    /// Over the logits: M u = p ⊙ u − p (pᵀu), per component of `nvec` (one
    /// component for a plain categorical).
    Categorical { probs: Tensor, nvec: Vec<i64> },
    /// Over the logits: M = diag(p (1 − p)).
    Bernoulli { weight: Tensor },
    /// In (μ, log σ), log σ shared by every state: M = diag(1/σ², 2).
    Gaussian { inv_var: Tensor },
    /// gSDE, log σ = ½ log(features² · std² + ε) per state: M = diag(1/σ², 2)
    /// in (μ, log σ), and log σ depends on the std parameters and, with
    /// `learn_features`, on the network through its features.
    StateDependent {
        inv_var: Tensor,
        features: Tensor,
        /// std and ∂std/∂log-std, `[latent, 1 or dim]`.
        std: Tensor,
        slope: Tensor,
        learn_features: bool,
    },
}

/// (F + λI)·v = J ᵀM J v / n + λv for a policy at θ_old on a batch of states.
pub struct JacobianFisherProduct {
    layers: Vec<Layer>,
    fisher: OutputFisher,
    n: f64,
    damping: f64,
}

impl JacobianFisherProduct {
    /// Records the forward pass at the policy's current parameters on `obs`.
    pub fn new(policy: &Policy, obs: &Tensor, damping: f64) -> Self {
        tch::no_grad(|| {
            let net = policy.network().forward_recorded(obs);
            let weights = policy.network().layer_parameters();
            let count = weights.len();
            let layers = weights
                .iter()
                .enumerate()
                .map(|(l, (w, _))| Layer {
                    weight: w.detach().copy(),
                    input: net.layer_inputs[l].detach(),
                    slope: (l + 1 < count).then(|| 1.0 - net.layer_inputs[l + 1].square()),
                })
                .collect();
            let fisher = match policy.head() {
                HeadView::Categorical => {
                    let nvec = vec![net.output.size()[1]];
                    OutputFisher::Categorical { probs: net.output.softmax(-1, net.output.kind()), nvec }
                }
                HeadView::MultiCategorical { nvec } => {
                    let parts: Vec<Tensor> =
                        net.output.split_with_sizes(nvec, -1).iter().map(|l| l.softmax(-1, l.kind())).collect();
                    OutputFisher::Categorical { probs: Tensor::cat(&parts, -1), nvec: nvec.to_vec() }
                }
                HeadView::Bernoulli => {
                    let p = net.output.sigmoid();
                    OutputFisher::Bernoulli { weight: &p * (-&p + 1.0) }
                }
                HeadView::Gaussian { log_std } => OutputFisher::Gaussian { inv_var: (log_std * -2.0).exp() },
                HeadView::StateDependent { log_std, sde } => {
                    let std = policy.std_of(log_std);
                    let features = net.latent.detach();
                    let dim = net.output.size()[1];
                    let variance = features.square().mm(&widen(&std, dim).square()) + SDE_EPSILON;
                    OutputFisher::StateDependent {
                        inv_var: variance.reciprocal(),
                        features,
                        slope: std_slope(log_std, sde.use_expln),
                        std,
                        learn_features: sde.learn_features,
                    }
                }
            };
            Self { layers, fisher, n: obs.size()[0] as f64, damping }
        })
    }

    /// (F + λI)·v.
    pub fn apply(&self, v: &Tensor) -> Tensor {
        tch::no_grad(|| {
            let (layer_tangents, head_tangent) = self.split(v);
            let (output, latent) = self.tangent(&layer_tangents);
            let (output_grad, latent_grad, head_grad) = self.output_fisher(&output, &latent, head_tangent.as_ref());
            let mut flat = self.transposed(output_grad, latent_grad);
            flat.extend(head_grad.map(|h| h.reshape([-1])));
            Tensor::cat(&flat, 0) + v * self.damping
        })
    }

    /// `v` as each layer's (bias, weight) tangent and the head's.
    fn split(&self, v: &Tensor) -> (Vec<(Tensor, Tensor)>, Option<Tensor>) {
        let mut offset = 0;
        let mut take = |shape: &[i64]| {
            let numel: i64 = shape.iter().product();
            let piece = v.narrow(0, offset, numel).view(shape);
            offset += numel;
            piece
        };
        let layers = self
            .layers
            .iter()
            .map(|l| {
                let shape = l.weight.size();
                (take(&shape[..1]), take(&shape))
            })
            .collect();
        let head = match &self.fisher {
            OutputFisher::Categorical { .. } | OutputFisher::Bernoulli { .. } => None,
            OutputFisher::Gaussian { inv_var } => Some(take(&inv_var.size())),
            OutputFisher::StateDependent { std, .. } => Some(take(&std.size())),
        };
        (layers, head)
    }

    /// J v for the network: the output's tangent `[n, out]` and the last
    /// hidden layer's (gSDE's features), from forward-mode differentiation.
    fn tangent(&self, layer_tangents: &[(Tensor, Tensor)]) -> (Tensor, Option<Tensor>) {
        let mut input_tangent: Option<Tensor> = None;
        for (layer, (db, dw)) in self.layers.iter().zip(layer_tangents) {
            let mut dz = db.addmm(&layer.input, &dw.tr());
            if let Some(dh) = &input_tangent {
                dz = dz.addmm(dh, &layer.weight.tr());
            }
            match &layer.slope {
                Some(slope) => input_tangent = Some(dz * slope),
                None => return (dz, input_tangent),
            }
        }
        unreachable!("an MLP ends with its output layer")
    }

    /// M J v / n as gradients: the output's `[n, out]`, the features' (gSDE
    /// with `learn_features`), and the head parameter's.
    fn output_fisher(
        &self,
        output: &Tensor,
        latent: &Option<Tensor>,
        head: Option<&Tensor>,
    ) -> (Tensor, Option<Tensor>, Option<Tensor>) {
        let n = self.n;
        match &self.fisher {
            OutputFisher::Categorical { probs, nvec } => {
                let pu = probs * output;
                // pᵀu per component, broadcast back over that component's logits.
                let ptu: Vec<Tensor> = pu
                    .split_with_sizes(nvec, -1)
                    .iter()
                    .zip(nvec)
                    .map(|(part, width)| part.sum_dim_intlist(-1, true, pu.kind()).expand([-1, *width], false))
                    .collect();
                ((&pu - probs * Tensor::cat(&ptu, -1)) / n, None, None)
            }
            OutputFisher::Bernoulli { weight } => (output * weight / n, None, None),
            OutputFisher::Gaussian { inv_var } => {
                // Every state's log σ is the parameter itself: the mean of 2·dlog σ.
                (output * inv_var / n, None, head.map(|h| h * 2.0))
            }
            OutputFisher::StateDependent { inv_var, features, std, slope, learn_features } => {
                let dim = output.size()[1];
                let head = head.expect("gSDE has log-std parameters");
                let (std_wide, f2) = (widen(std, dim), features.square());
                // dvar = f² · (2 std dstd) + (2 f df) · std², per state and dimension.
                let mut dvar = f2.mm(&widen(&(std * slope * head * 2.0), dim));
                if let (true, Some(df)) = (learn_features, latent) {
                    dvar += (features * df * 2.0).mm(&std_wide.square());
                }
                // dlog σ = ½ dvar / var; M's 2 on it; back to the variance: ½ / var.
                let var_grad = dvar * inv_var.square() * (0.5 / n);
                let std_grad = f2.tr().mm(&var_grad) * &std_wide * 2.0;
                let std_grad =
                    if std.size()[1] == 1 { std_grad.sum_dim_intlist(1, true, std_grad.kind()) } else { std_grad };
                let latent_grad = learn_features.then(|| features * var_grad.mm(&std_wide.square().tr()) * 2.0);
                (output * inv_var / n, latent_grad, Some(std_grad * slope))
            }
        }
    }

    /// Jᵀ of the output's gradient (and the features'), flat per layer as
    /// bias then weight.
    fn transposed(&self, output_grad: Tensor, mut latent_grad: Option<Tensor>) -> Vec<Tensor> {
        let mut grad = output_grad;
        let mut parts = Vec::with_capacity(2 * self.layers.len() + 1);
        for (l, layer) in self.layers.iter().enumerate().rev() {
            parts.push(weight_gradient(&grad, &layer.input).reshape([-1]));
            parts.push(grad.sum_dim_intlist(0, false, grad.kind()));
            if l == 0 {
                break;
            }
            let mut input_grad = grad.mm(&layer.weight);
            if let Some(extra) = latent_grad.take() {
                input_grad += extra;
            }
            grad = input_grad * self.layers[l - 1].slope.as_ref().expect("hidden layers have a tanh");
        }
        parts.reverse();
        parts
    }
}

impl FisherProduct for JacobianFisherProduct {
    fn apply(&self, v: &Tensor) -> Tensor {
        JacobianFisherProduct::apply(self, v)
    }
}

/// gSDE's std `[latent, 1 or dim]` as `[latent, dim]`.
fn widen(std: &Tensor, dim: i64) -> Tensor {
    std.expand([std.size()[0], dim], false)
}

#[cfg(test)]
mod tests {
    use natgrad_envs::{BoxSpace, Space};
    use tch::{Device, Kind, Tensor};

    use super::*;
    use crate::generator::{randn, seeded};
    use crate::natural_gradient::FisherVectorProduct;
    use crate::policy::Sde;

    fn policy(space: &Space, hidden: &[i64], sde: Option<Sde>, kind: Kind, seed: i64) -> Policy {
        seeded(seed, || {
            let mut p = Policy::new(3, space, hidden, -0.3, sde, Device::Cpu).unwrap();
            p.var_store_mut().set_kind(kind);
            // Bigger output weights than the 0.01 init, and log-stds on both sides
            // of expln's kink, so that every term of the product matters.
            tch::no_grad(|| {
                for mut v in p.parameters() {
                    let noise = v.randn_like() * 0.5;
                    v += noise;
                }
            });
            p
        })
    }

    fn gaussian() -> Space {
        Space::Box(BoxSpace::new(vec![-1.0, -1.0, -1.0], vec![1.0, 1.0, 1.0]))
    }

    /// Every head natgrad has: categorical, multi-categorical, Bernoulli,
    /// shared log-std, and gSDE with each of its switches.
    fn heads() -> Vec<(Space, Option<Sde>)> {
        let mut heads = vec![
            (Space::Discrete { n: 4 }, None),
            (Space::MultiDiscrete { nvec: vec![3, 1, 2] }, None),
            (Space::MultiBinary { n: 3 }, None),
            (gaussian(), None),
        ];
        for full_std in [true, false] {
            for use_expln in [true, false] {
                for learn_features in [true, false] {
                    heads.push((gaussian(), Some(Sde { full_std, use_expln, learn_features })));
                }
            }
        }
        heads
    }

    fn double_backprop(policy: &Policy, obs: &Tensor, damping: f64) -> FisherVectorProduct {
        let old = tch::no_grad(|| policy.dist(obs)).detach();
        let kl = old.kl(&policy.dist(obs)).mean(None::<Kind>);
        FisherVectorProduct::new(&kl, &policy.parameters(), damping)
    }

    fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).norm().double_value(&[]) / b.norm().double_value(&[])
    }

    fn parameter_count(policy: &Policy) -> i64 {
        policy.parameters().iter().map(|t| t.numel() as i64).sum()
    }

    #[test]
    fn equals_double_backprop_on_every_head() {
        for hidden in [&[5, 4][..], &[6][..], &[][..]] {
            for (space, sde) in heads() {
                let p = policy(&space, hidden, sde, Kind::Double, 2);
                let obs = randn(10, &[9, 3], (Kind::Double, Device::Cpu));
                let (reference, jacobian) = (double_backprop(&p, &obs, 0.0), JacobianFisherProduct::new(&p, &obs, 0.0));
                for trial in 0..3 {
                    let v = randn(11 + trial, &[parameter_count(&p)], (Kind::Double, Device::Cpu));
                    let (want, got) = (reference.apply(&v), jacobian.apply(&v));
                    let err = rel_err(&got, &want);
                    assert!(err < 1e-12, "{space} {sde:?} hidden {hidden:?} trial {trial}: relative error {err}");
                }
            }
        }
    }

    /// Each parameter block on its own (a one-hot block of v), so that a
    /// block whose product is zero in both, or swapped with another of the
    /// same size, cannot hide behind the others.
    #[test]
    fn every_parameter_block_matches() {
        for (space, sde) in heads() {
            let p = policy(&space, &[5, 4], sde, Kind::Double, 3);
            let obs = randn(20, &[6, 3], (Kind::Double, Device::Cpu));
            let (reference, jacobian) = (double_backprop(&p, &obs, 0.0), JacobianFisherProduct::new(&p, &obs, 0.0));
            let mut offset = 0;
            for param in p.parameters() {
                let n = param.numel() as i64;
                let v = Tensor::zeros([parameter_count(&p)], (Kind::Double, Device::Cpu));
                v.narrow(0, offset, n).copy_(&randn(21 + offset, &[n], (Kind::Double, Device::Cpu)));
                let want = reference.apply(&v);
                assert!(want.norm().double_value(&[]) > 0.0, "{space} {sde:?}: block at {offset} has no curvature");
                let err = rel_err(&jacobian.apply(&v), &want);
                assert!(err < 1e-12, "{space} {sde:?}: block at {offset} ({:?}): {err}", param.size());
                offset += n;
            }
        }
    }

    #[test]
    fn damping_and_single_precision_match_too() {
        for (space, sde) in heads() {
            let p = policy(&space, &[64, 64], sde, Kind::Float, 4);
            let obs = randn(30, &[256, 3], (Kind::Float, Device::Cpu));
            for damping in [0.0, 0.1] {
                let (reference, jacobian) =
                    (double_backprop(&p, &obs, damping), JacobianFisherProduct::new(&p, &obs, damping));
                let v = randn(31, &[parameter_count(&p)], (Kind::Float, Device::Cpu));
                let err = rel_err(&jacobian.apply(&v), &reference.apply(&v));
                assert!(err < 1e-5, "{space} {sde:?} damping {damping}: {err}");
            }
        }
    }

    #[test]
    fn the_product_is_taken_at_the_recorded_parameters() {
        // Moving the policy after recording must not change the products:
        // CG works at θ_old while the line search moves θ.
        let p = policy(&Space::Discrete { n: 3 }, &[5], None, Kind::Double, 5);
        let obs = randn(40, &[6, 3], (Kind::Double, Device::Cpu));
        let jacobian = JacobianFisherProduct::new(&p, &obs, 0.0);
        let v = randn(41, &[parameter_count(&p)], (Kind::Double, Device::Cpu));
        let before = jacobian.apply(&v);
        tch::no_grad(|| {
            for mut t in p.parameters() {
                t += 1.0;
            }
        });
        assert!(jacobian.apply(&v).equal(&before));
    }

    #[test]
    fn method_names_parse_and_unknown_ones_say_what_exists() {
        for m in FvpMethod::ALL {
            assert_eq!(m.name().parse::<FvpMethod>(), Ok(m));
        }
        assert_eq!(
            "hessian".parse::<FvpMethod>().unwrap_err(),
            "unknown fvp 'hessian': use jacobian or double_backprop"
        );
    }
}
