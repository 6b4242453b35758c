//! The Fisher of a policy network, four ways, for TRPO's and NPG's `fisher`
//! setting and for ACKTR: `exact` (Fisher-vector products through the mean
//! KL and conjugate gradient, in `natural_policy_step`), `kfac` (Martens and
//! Grosse, 2015; in RL, Wu, Mansimov, Liao, Grosse and Ba, 2017, "Scalable
//! trust-region method for deep reinforcement learning using
//! Kronecker-factored approximation", NIPS), `diagonal`, and `empirical`
//! (the scores of the sampled actions, not of actions drawn from π).
//!
//! All three approximations are built from per-state gradients. For a layer
//! s = W̄ ā (ā with a trailing 1 for the bias), the gradient of a per-state
//! scalar t_n with respect to W̄ is g_n ā_nᵀ with g_n = ∂t_n/∂s_n. States do
//! not mix inside the network, so one backward pass of Σ_n t_n with respect
//! to the pre-activations holds every g_n in its rows. The head's own
//! parameter (the Gaussian's log-std) is repeated once per state by
//! [`Policy::per_sample_forward`] to the same end. The Fisher is then
//! E_n Σ_k ψ_nk ψ_nkᵀ with ψ_nk the gradient of [`ActionDist::fisher_terms`].
//!
//! Flat vectors follow [`Policy::parameters`]: per layer its bias, then its
//! weight `[out, in]` row by row (the order in which `tch::nn::linear`
//! creates them), then the head's parameter. The tests compare every matrix
//! with Fisher-vector products, so a change of that order cannot go unseen.
//!
//! [`ActionDist::fisher_terms`]: crate::distributions::ActionDist::fisher_terms

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::fisher::{NgdError, check_damping, cholesky, finite};
use crate::kfac::factored_damping;
use crate::natural_gradient::conjugate_gradient;
use crate::nn::RecordedForward;
use crate::policy::Policy;

/// Which Fisher matrix preconditions the policy gradient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FisherKind {
    /// Fisher-vector products through the mean KL, solved by conjugate gradient.
    #[default]
    Exact,
    /// Kronecker-factored blocks per layer, the log-std block exact.
    Kfac,
    /// The Fisher's diagonal.
    Diagonal,
    /// E[score scoreᵀ] over the batch's own actions, solved by conjugate gradient.
    Empirical,
}

impl FisherKind {
    pub const ALL: [FisherKind; 4] = [FisherKind::Exact, FisherKind::Kfac, FisherKind::Diagonal, FisherKind::Empirical];

    pub fn name(self) -> &'static str {
        match self {
            FisherKind::Exact => "exact",
            FisherKind::Kfac => "kfac",
            FisherKind::Diagonal => "diagonal",
            FisherKind::Empirical => "empirical",
        }
    }
}

impl fmt::Display for FisherKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FisherKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FisherKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown fisher '{s}': use exact, kfac, diagonal or empirical"))
    }
}

/// Per-state gradients of per-state scalars t_k (`terms`), kept as each
/// layer's inputs ā and pre-activation gradients g, and the head's gradients.
/// Every layer is held as a convolution: ā `[n, positions, in + 1]` and g
/// `[n, positions, out]`, a dense layer having one position. The gradient
/// of t_nk with respect to W̄ is then Σ_t g_nkt ā_ntᵀ.
pub struct PerSampleGradients {
    /// ā per layer, `[n, positions, in + 1]`.
    inputs: Vec<Tensor>,
    /// Per term, per layer: g, `[n, positions, out]`.
    layer_grads: Vec<Vec<Tensor>>,
    /// Per term: the head parameter's gradient, `[n, head size]`.
    head_grads: Vec<Tensor>,
    n: i64,
}

/// A dense layer's `[n, width]` as one position, `[n, 1, width]`.
fn with_positions(t: Tensor) -> Tensor {
    if t.dim() == 2 { t.unsqueeze(1) } else { t }
}

/// Each state's gradient of a layer's [W | b̄], Σ_t g_nt ā_ntᵀ: `[n, out, in + 1]`.
fn per_state_weight_gradients(g: &Tensor, a: &Tensor) -> Tensor {
    g.transpose(1, 2).matmul(a)
}

/// A `[n, positions, width]` tensor as rows `[n · positions, width]`.
fn position_rows(t: &Tensor) -> Tensor {
    t.reshape([-1, t.size()[2]])
}

impl PerSampleGradients {
    /// `head`: the per-state leaf of [`Policy::per_sample_forward`], if any.
    pub fn new(net: &RecordedForward, head: Option<&Tensor>, terms: &[Tensor]) -> Self {
        let n = net.output.size()[0];
        let inputs = net
            .layer_inputs
            .iter()
            .map(|a| {
                let a = with_positions(a.detach());
                let ones = a.ones_like().narrow(2, 0, 1);
                Tensor::cat(&[a, ones], 2)
            })
            .collect();
        let mut wrt: Vec<Tensor> = net.pre_activations.iter().map(Tensor::shallow_clone).collect();
        wrt.extend(head.map(Tensor::shallow_clone));
        let (mut layer_grads, mut head_grads) = (vec![], vec![]);
        for term in terms {
            let total = term.sum(term.kind());
            let mut grads = Tensor::run_backward(&[total], &wrt, true, false);
            let defined = |g: Tensor, like: &Tensor| if g.defined() { g } else { like.zeros_like() };
            if let Some(h) = head {
                head_grads.push(defined(grads.pop().expect("one gradient per input"), h).reshape([n, -1]));
            }
            layer_grads.push(grads.into_iter().zip(&wrt).map(|(g, s)| with_positions(defined(g, s))).collect());
        }
        Self { inputs, layer_grads, head_grads, n }
    }

    /// The per-state Fisher terms of `policy` on `obs`, the action
    /// expectation exact.
    pub fn fisher(policy: &Policy, obs: &Tensor) -> Self {
        let f = policy.per_sample_forward(obs);
        Self::new(&f.net, f.head.as_ref(), &f.dist.fisher_terms())
    }

    /// The per-state scores ∇θ log π(a_n|s_n) of the batch's own actions.
    pub fn scores(policy: &Policy, obs: &Tensor, actions: &Tensor) -> Self {
        let f = policy.per_sample_forward(obs);
        Self::new(&f.net, f.head.as_ref(), &[f.dist.log_prob(actions)])
    }

    /// K-FAC's factors per layer, A = E_n[mean_t ā_t ā_tᵀ] and
    /// G = E_n[Σ_k Σ_t g_kt g_ktᵀ], and the head's block E[Σ_k h_k h_kᵀ],
    /// exact. For a dense layer (one position) these are Martens and
    /// Grosse's E[ā āᵀ] and E[Σ_k g_k g_kᵀ]. For a convolution, A ⊗ G is
    /// KFC's approximation of the block E[vec(Σ_t g_t ā_tᵀ) vec(·)ᵀ]
    /// (Grosse and Martens, 2016): activations independent of the
    /// derivatives, statistics the same at every position and derivatives
    /// uncorrelated across positions make it Σ_t E[ā_t ā_tᵀ] ⊗ E[g_t g_tᵀ] =
    /// T · Ω ⊗ Γ with Ω and Γ the means over positions, and the T goes into G.
    pub fn kfac_factors(&self) -> KfacFactors {
        let n = self.n as f64;
        let layers = self
            .inputs
            .iter()
            .enumerate()
            .map(|(l, a)| {
                let positions = a.size()[1] as f64;
                let rows = position_rows(a);
                let g = total(self.layer_grads.iter().map(|k| {
                    let g = position_rows(&k[l]);
                    g.tr().matmul(&g)
                }))
                .expect("at least one term")
                    / n;
                (rows.tr().matmul(&rows) / (n * positions), g)
            })
            .collect();
        let head = total(self.head_grads.iter().map(|h| h.tr().matmul(h))).map(|h| h / n);
        KfacFactors { layers, head }
    }

    /// The Fisher's diagonal, flat in parameter order.
    pub fn diagonal(&self) -> Tensor {
        let n = self.n as f64;
        let mut parts = vec![];
        for (l, a) in self.inputs.iter().enumerate() {
            let squares = self.layer_grads.iter().map(|k| {
                if a.size()[1] == 1 {
                    // One position: (g āᵀ)² = g² (ā²)ᵀ, summed over states by one product.
                    k[l].squeeze_dim(1).square().tr().matmul(&a.squeeze_dim(1).square())
                } else {
                    per_state_weight_gradients(&k[l], a).square().sum_dim_intlist(0, false, a.kind())
                }
            });
            let d = total(squares).expect("at least one term") / n;
            let inputs = a.size()[2] - 1;
            parts.push(d.select(1, inputs));
            parts.push(d.narrow(1, 0, inputs).reshape([-1]));
        }
        parts.extend(
            total(self.head_grads.iter().map(|h| h.square().sum_dim_intlist(0, false, h.kind()))).map(|h| h / n),
        );
        Tensor::cat(&parts, 0)
    }

    /// Every ψ_nk as a row, `[terms · n, parameters]`: F = RᵀR / n.
    pub fn rows(&self) -> Tensor {
        let rows: Vec<Tensor> = (0..self.layer_grads.len())
            .map(|k| {
                let mut parts = vec![];
                for (g, a) in self.layer_grads[k].iter().zip(&self.inputs) {
                    let w = per_state_weight_gradients(g, a);
                    let inputs = a.size()[2] - 1;
                    parts.push(w.select(2, inputs));
                    parts.push(w.narrow(2, 0, inputs).reshape([self.n, -1]));
                }
                parts.extend(self.head_grads.get(k).map(Tensor::shallow_clone));
                Tensor::cat(&parts, 1)
            })
            .collect();
        Tensor::cat(&rows, 0)
    }

    /// R·v for the rows R of [`PerSampleGradients::rows`] without forming
    /// them: per layer ψ_nkᵀv = Σ_t g_nktᵀ V̄ ā_nt, with V̄ = [W | b] read from `v`.
    pub fn rows_times(&self, v: &Tensor) -> Tensor {
        let blocks = self.layer_blocks(v);
        let head = self.layer_parameters();
        let per_term: Vec<Tensor> = (0..self.layer_grads.len())
            .map(|k| {
                let mut out = Tensor::zeros([self.n], (v.kind(), v.device()));
                for ((g, a), block) in self.layer_grads[k].iter().zip(&self.inputs).zip(&blocks) {
                    out += (a.matmul(&block.tr()) * g).sum_dim_intlist([1, 2].as_slice(), false, v.kind());
                }
                if let Some(h) = self.head_grads.get(k) {
                    out += h.mv(&v.narrow(0, head, h.size()[1]));
                }
                out
            })
            .collect();
        Tensor::cat(&per_term, 0)
    }

    /// Rᵀ·u for `u` of length terms · n, without forming R: per layer
    /// Σ_n u_nk Σ_t g_nkt ā_ntᵀ, flat in parameter order.
    pub fn rows_transposed_times(&self, u: &Tensor) -> Tensor {
        let terms = self.layer_grads.len() as i64;
        let u = u.view([terms, self.n]);
        let mut parts = vec![];
        for (l, a) in self.inputs.iter().enumerate() {
            let rows = position_rows(a);
            let m = (0..terms as usize)
                .map(|k| {
                    position_rows(&(&self.layer_grads[k][l] * u.get(k as i64).view([-1, 1, 1]))).tr().matmul(&rows)
                })
                .reduce(|x, y| x + y)
                .expect("at least one term");
            let inputs = a.size()[2] - 1;
            parts.push(m.select(1, inputs));
            parts.push(m.narrow(1, 0, inputs).reshape([-1]));
        }
        if !self.head_grads.is_empty() {
            let head = self.head_grads.iter().enumerate().map(|(k, h)| h.tr().mv(&u.get(k as i64)));
            parts.push(head.reduce(|x, y| x + y).expect("at least one term"));
        }
        Tensor::cat(&parts, 0)
    }

    /// Each layer's [W | b] `[out, in + 1]` read from the flat vector `v`.
    fn layer_blocks(&self, v: &Tensor) -> Vec<Tensor> {
        let mut offset = 0;
        self.inputs
            .iter()
            .zip(&self.layer_grads[0])
            .map(|(a, g)| {
                let (inputs, outputs) = (a.size()[2] - 1, g.size()[2]);
                let b = v.narrow(0, offset, outputs).unsqueeze(1);
                let w = v.narrow(0, offset + outputs, outputs * inputs).view([outputs, inputs]);
                offset += outputs * (inputs + 1);
                Tensor::cat(&[w, b], 1)
            })
            .collect()
    }

    /// How many of the flat parameters belong to the layers (the head's follow).
    fn layer_parameters(&self) -> i64 {
        self.inputs.iter().zip(&self.layer_grads[0]).map(|(a, g)| a.size()[2] * g.size()[2]).sum()
    }

    /// The explicit Fisher E_n Σ_k ψ_nk ψ_nkᵀ, `[parameters, parameters]`.
    pub fn matrix(&self) -> Tensor {
        let r = self.rows();
        r.tr().matmul(&r) / self.n as f64
    }

    pub fn samples(&self) -> i64 {
        self.n
    }
}

/// The sum of some tensors; `None` for none.
fn total(terms: impl Iterator<Item = Tensor>) -> Option<Tensor> {
    terms.reduce(|a, b| a + b)
}

/// States whose K-FAC statistics are recorded at once by a network that
/// reads images. A convolution's statistics hold every patch of every state
/// (NatureCNN on 84×84×4 frames: 0.69 MB a state, more than its weights),
/// so such a batch's factors are taken chunk by chunk
/// ([`kfac_factors_in_chunks`]): ACKTR on Breakout with 32 copies of 20
/// steps peaked at 3.6 GB resident in one pass, 2.4 GB by chunks
/// (docs/agents.md). Other networks take their batch at once.
pub const IMAGE_STATES_PER_CHUNK: i64 = 32;

/// K-FAC's factors of the batch `obs` from `factors` of each chunk of at
/// most `states` states: the same means as one pass over the batch, with the
/// memory of one chunk.
pub fn kfac_factors_in_chunks(obs: &Tensor, states: i64, factors: impl Fn(&Tensor) -> KfacFactors) -> KfacFactors {
    let n = obs.size()[0];
    if n <= states {
        return factors(obs);
    }
    let chunks = (0..n).step_by(states as usize).map(|start| {
        let len = states.min(n - start);
        (len as f64, factors(&obs.narrow(0, start, len)))
    });
    KfacFactors::weighted_mean(chunks.collect())
}

/// States a network takes its K-FAC statistics over at once on the batch
/// `obs`: [`IMAGE_STATES_PER_CHUNK`] when it reads images, the whole batch otherwise.
pub fn states_per_chunk(reads_images: bool, obs: &Tensor) -> i64 {
    if reads_images { IMAGE_STATES_PER_CHUNK } else { obs.size()[0] }
}

/// K-FAC's factors of `policy`'s Fisher on `obs` (the action expectation
/// exact), chunk by chunk for a policy that reads images.
pub fn policy_kfac_factors(policy: &Policy, obs: &Tensor) -> KfacFactors {
    let states = states_per_chunk(policy.has_cnn(), obs);
    kfac_factors_in_chunks(obs, states, |chunk| PerSampleGradients::fisher(policy, chunk).kfac_factors())
}

/// K-FAC's factors of a network: per layer (A, G), and the head's exact block.
pub struct KfacFactors {
    pub layers: Vec<(Tensor, Tensor)>,
    pub head: Option<Tensor>,
}

impl KfacFactors {
    /// The factors of a batch from those of its chunks, each weighted by its
    /// share of the states: every factor is a mean over states, so this is
    /// the batch's, up to the order of the sums.
    fn weighted_mean(chunks: Vec<(f64, KfacFactors)>) -> KfacFactors {
        let total: f64 = chunks.iter().map(|(states, _)| states).sum();
        let scaled = chunks.into_iter().map(|(states, f)| {
            let w = states / total;
            KfacFactors { layers: f.layers.iter().map(|(a, g)| (a * w, g * w)).collect(), head: f.head.map(|h| h * w) }
        });
        scaled
            .reduce(|sum, f| KfacFactors {
                layers: sum.layers.iter().zip(&f.layers).map(|((a, g), (fa, fg))| (a + fa, g + fg)).collect(),
                head: sum.head.zip(f.head).map(|(h, fh)| h + fh),
            })
            .expect("at least one chunk")
    }

    /// decay · self + (1 − decay) · new.
    fn blend(&self, new: &KfacFactors, decay: f64) -> KfacFactors {
        let mix = |old: &Tensor, new: &Tensor| old * decay + new * (1.0 - decay);
        KfacFactors {
            layers: self.layers.iter().zip(&new.layers).map(|((a, g), (na, ng))| (mix(a, na), mix(g, ng))).collect(),
            head: self.head.as_ref().zip(new.head.as_ref()).map(|(h, nh)| mix(h, nh)),
        }
    }
}

/// K-FAC's running factors and their damped inverses (as Cholesky factors).
/// Statistics are averaged with decay ε_k = min(1 − 1/k, `stats_decay`) at
/// the k-th batch (Martens and Grosse, §5), so the first batch counts fully;
/// the inverses are refreshed every `inverse_update_period` batches (their T₃).
pub struct KfacPreconditioner {
    stats_decay: f64,
    inverse_update_period: usize,
    factors: Option<KfacFactors>,
    inverses: Option<KfacFactors>,
    batches: usize,
}

impl KfacPreconditioner {
    pub fn new(stats_decay: f64, inverse_update_period: usize) -> Self {
        Self { stats_decay, inverse_update_period, factors: None, inverses: None, batches: 0 }
    }

    /// Folds one batch's factors into the running averages.
    pub fn observe(&mut self, batch: KfacFactors) {
        self.batches += 1;
        let decay = (1.0 - 1.0 / self.batches as f64).min(self.stats_decay);
        self.factors = Some(match &self.factors {
            Some(old) => old.blend(&batch, decay),
            None => batch,
        });
    }

    /// The running factors, once a batch has been observed.
    pub fn factors(&self) -> Option<&KfacFactors> {
        self.factors.as_ref()
    }

    /// (A ⊗ G + damping)⁻¹ per layer block and (H + damping I)⁻¹ on the head,
    /// applied to the flat gradient `grad`; the damping is factored between A
    /// and G as in `kfac::factored_damping`. The inverses are recomputed from
    /// the running factors when due.
    pub fn apply(&mut self, grad: &Tensor, damping: f64) -> Result<Tensor, NgdError> {
        check_damping(damping)?;
        let factors = self.factors.as_ref().expect("K-FAC applied before any batch was observed");
        let due = self.inverses.is_none() || (self.batches - 1).is_multiple_of(self.inverse_update_period);
        if due {
            let singular = NgdError::NotPositiveDefinite { damping };
            let layers = factors
                .layers
                .iter()
                .map(|(a, g)| {
                    let (a, g) = factored_damping(a, g, damping);
                    Ok((cholesky(&a).ok_or(singular.clone())?, cholesky(&g).ok_or(singular.clone())?))
                })
                .collect::<Result<_, NgdError>>()?;
            let head = match &factors.head {
                Some(h) => {
                    Some(cholesky(&(h + Tensor::eye(h.size()[0], (h.kind(), h.device())) * damping)).ok_or(singular)?)
                }
                None => None,
            };
            self.inverses = Some(KfacFactors { layers, head });
        }
        let inverses = self.inverses.as_ref().expect("computed above");
        let grad = grad.detach();
        let mut offset = 0;
        let mut out = vec![];
        for (la, lg) in &inverses.layers {
            let (inputs, outputs) = (la.size()[0] - 1, lg.size()[0]);
            let b = grad.narrow(0, offset, outputs).unsqueeze(1);
            let w = grad.narrow(0, offset + outputs, outputs * inputs).view([outputs, inputs]);
            offset += outputs * (inputs + 1);
            // U = G⁻¹ V A⁻¹ solves (A ⊗ G) vec(U) = vec(V).
            let u = Tensor::cat(&[w, b], 1).cholesky_solve(lg, false).tr().cholesky_solve(la, false).tr();
            out.push(u.select(1, inputs));
            out.push(u.narrow(1, 0, inputs).reshape([-1]));
        }
        if let Some(lh) = &inverses.head {
            let rest = grad.size()[0] - offset;
            out.push(grad.narrow(0, offset, rest).unsqueeze(1).cholesky_solve(lh, false).squeeze_dim(1));
            offset += rest;
        }
        assert_eq!(offset, grad.size()[0], "gradient of the wrong length for these factors");
        let direction = Tensor::cat(&out, 0);
        finite(direction, damping)
    }

    /// The state a checkpoint needs, by name.
    pub fn state(&self, prefix: &str) -> Vec<(String, Tensor)> {
        let mut out = vec![(format!("{prefix}.batches"), Tensor::from_slice(&[self.batches as i64]))];
        for (name, f) in [("factors", &self.factors), ("inverses", &self.inverses)] {
            let Some(f) = f else { continue };
            for (l, (a, g)) in f.layers.iter().enumerate() {
                out.push((format!("{prefix}.{name}.{l}.a"), a.shallow_clone()));
                out.push((format!("{prefix}.{name}.{l}.g"), g.shallow_clone()));
            }
            if let Some(h) = &f.head {
                out.push((format!("{prefix}.{name}.head"), h.shallow_clone()));
            }
        }
        out
    }

    /// Restores [`KfacPreconditioner::state`]; `get` returns a named tensor.
    pub fn restore(&mut self, prefix: &str, get: &dyn Fn(&str) -> Option<Tensor>) -> Result<(), String> {
        // Checkpoints from before K-FAC existed hold no count: nothing observed.
        self.batches = get(&format!("{prefix}.batches")).map_or(0, |b| b.int64_value(&[0]) as usize);
        let read = |name: &str| -> Option<KfacFactors> {
            let mut layers = vec![];
            while let (Some(a), Some(g)) = (
                get(&format!("{prefix}.{name}.{}.a", layers.len())),
                get(&format!("{prefix}.{name}.{}.g", layers.len())),
            ) {
                layers.push((a, g));
            }
            (!layers.is_empty()).then(|| KfacFactors { layers, head: get(&format!("{prefix}.{name}.head")) })
        };
        self.factors = read("factors");
        self.inverses = read("inverses");
        if self.batches > 0 && self.factors.is_none() {
            return Err(format!("{prefix}: {} batches observed but no factors saved", self.batches));
        }
        Ok(())
    }
}

/// (diag(F) + λ)⁻¹ g.
pub fn diagonal_direction(batch: &PerSampleGradients, grad: &Tensor, damping: f64) -> Result<Tensor, NgdError> {
    check_damping(damping)?;
    finite(grad.detach() / (batch.diagonal() + damping), damping)
}

/// (ΨᵀΨ/n + λI)⁻¹ g for the score rows Ψ `[n, p]`, by conjugate gradient
/// with the same budget as the exact Fisher's (`cg_iters`, `residual_tol`).
/// Each product Ψᵀ(Ψv)/n goes through the layers' per-state factors and
/// never forms Ψ, whose n × p entries would outgrow memory with the network.
/// Needs λ > 0: the empirical Fisher has rank at most n.
pub fn empirical_direction(
    scores: &PerSampleGradients,
    grad: &Tensor,
    damping: f64,
    cg_iters: usize,
    residual_tol: f64,
) -> Result<Tensor, NgdError> {
    check_damping(damping)?;
    if damping <= 0.0 {
        return Err(NgdError::NotPositiveDefinite { damping });
    }
    let n = scores.samples() as f64;
    let product = |v: &Tensor| scores.rows_transposed_times(&scores.rows_times(v)) / n + v * damping;
    finite(conjugate_gradient(product, &grad.detach(), cg_iters, residual_tol).x, damping)
}

#[cfg(test)]
mod tests {
    use natgrad_envs::{BoxSpace, Space};
    use tch::{Device, Kind, Tensor};

    use super::*;
    use crate::cnn::{Column, ImageShape, Input};
    use crate::distributions::ActionDist;
    use crate::generator::{randn, seeded};
    use crate::natural_gradient::{FisherVectorProduct, flat_grad};
    use crate::policy::Sde;

    const F64: (Kind, Device) = (Kind::Double, Device::Cpu);

    fn policy(space: &Space, hidden: &[i64], sde: Option<Sde>, seed: i64) -> Policy {
        seeded(seed, || {
            let mut p = Policy::new(3, space, hidden, -0.3, sde, Device::Cpu).unwrap();
            p.var_store_mut().set_kind(Kind::Double);
            // Bigger output weights than the 0.01 init, so that the Fisher is not tiny.
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
        Space::Box(BoxSpace::new(vec![-1.0, -1.0], vec![1.0, 1.0]))
    }

    fn multi_discrete() -> Space {
        Space::MultiDiscrete { nvec: vec![3, 2] }
    }

    fn spaces() -> [(Space, Option<Sde>); 6] {
        let sde = |learn_features| Some(Sde { full_std: true, use_expln: false, learn_features });
        [
            (Space::Discrete { n: 3 }, None),
            (multi_discrete(), None),
            (Space::MultiBinary { n: 3 }, None),
            (gaussian(), None),
            (gaussian(), sde(false)),
            (gaussian(), sde(true)),
        ]
    }

    /// The exact Fisher, one Fisher-vector product through the mean KL per column.
    fn fisher_by_fvp(policy: &Policy, obs: &Tensor) -> Tensor {
        let params = policy.parameters();
        let old = policy.dist(obs).detach();
        let fvp = FisherVectorProduct::new(&old.kl(&policy.dist(obs)).mean(None::<Kind>), &params, 0.0);
        let p = params.iter().map(|t| t.numel() as i64).sum::<i64>();
        Tensor::stack(&(0..p).map(|i| fvp.apply(&Tensor::eye(p, F64).select(0, i))).collect::<Vec<_>>(), 0)
    }

    fn surrogate_gradient(policy: &Policy, obs: &Tensor) -> (Tensor, Tensor) {
        let mut rng = natgrad_envs::Rng::seed_from_u64(5);
        let actions = policy.act(obs, false, &mut rng);
        let adv = randn(110, &[obs.size()[0]], F64);
        let dist = policy.dist(obs);
        let surr = ((dist.log_prob(&actions) - dist.log_prob(&actions).detach()).exp() * adv).mean(None::<Kind>);
        (flat_grad(&surr, &policy.parameters(), false), actions)
    }

    fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).norm().double_value(&[]) / b.norm().double_value(&[])
    }

    #[test]
    fn per_sample_fisher_terms_rebuild_the_exact_fisher() {
        for (space, sde) in spaces() {
            let p = policy(&space, &[4], sde, 1);
            let obs = randn(101, &[7, 3], F64);
            let explicit = PerSampleGradients::fisher(&p, &obs).matrix();
            let err = rel_err(&explicit, &fisher_by_fvp(&p, &obs));
            assert!(err < 1e-10, "{space} {sde:?}: {err}");
        }
    }

    /// A, G and the head block from their definitions, one state and one
    /// output at a time: A = E[ā āᵀ], G_l = E[J_lᵀ M J_l] with J_l the
    /// Jacobian of the network's output in layer l's pre-activation and M
    /// the Fisher of the output (diag(p) − ppᵀ of the logits, a block per
    /// component; diag(p(1 − p)) of Bernoulli logits; diag(1/σ²) of the
    /// mean), and the log-std block 2·I.
    #[test]
    fn kfac_factors_equal_their_definitions() {
        let categorical_block = |logits: &Tensor| {
            let prob = logits.softmax(-1, Kind::Double).squeeze_dim(0).detach();
            prob.diag(0) - prob.outer(&prob)
        };
        for space in [Space::Discrete { n: 3 }, multi_discrete(), Space::MultiBinary { n: 3 }, gaussian()] {
            let p = policy(&space, &[4, 5], None, 2);
            let obs = randn(102, &[6, 3], F64);
            let factors = PerSampleGradients::fisher(&p, &obs).kfac_factors();
            let sizes = p.layer_sizes();
            let mut a_def: Vec<Tensor> = sizes.iter().map(|(i, _)| Tensor::zeros([i + 1, i + 1], F64)).collect();
            let mut g_def: Vec<Tensor> = sizes.iter().map(|(_, o)| Tensor::zeros([*o, *o], F64)).collect();
            for n in 0..6 {
                let row = obs.narrow(0, n, 1);
                let outputs = sizes.last().unwrap().1;
                let f = p.per_sample_forward(&row);
                let m = match &f.dist {
                    ActionDist::Categorical { logits } => categorical_block(logits),
                    ActionDist::MultiCategorical { logits, nvec } => {
                        let blocks: Vec<Tensor> =
                            logits.split_with_sizes(nvec, -1).iter().map(categorical_block).collect();
                        Tensor::block_diag(&blocks)
                    }
                    ActionDist::Bernoulli { logits } => {
                        let p = logits.sigmoid().squeeze_dim(0).detach();
                        (&p * (-&p + 1.0)).diag(0)
                    }
                    ActionDist::DiagGaussian { log_std, .. } => (log_std.detach().reshape([-1]) * -2.0).exp().diag(0),
                };
                for l in 0..sizes.len() {
                    let a = Tensor::cat(&[f.net.layer_inputs[l].detach(), Tensor::ones([1, 1], F64)], 1);
                    a_def[l] += a.tr().matmul(&a);
                    let jacobian: Vec<Tensor> = (0..outputs)
                        .map(|j| {
                            let out = p.per_sample_forward(&row).net;
                            let y = out.output.select(1, j).sum(Kind::Double);
                            Tensor::run_backward(&[y], &[&out.pre_activations[l]], false, false).remove(0)
                        })
                        .collect();
                    let j = Tensor::cat(&jacobian, 0);
                    g_def[l] += j.tr().matmul(&m).matmul(&j);
                }
            }
            for (l, (a, g)) in factors.layers.iter().enumerate() {
                assert!(rel_err(a, &(&a_def[l] / 6.0)) < 1e-12, "{space} layer {l}: A");
                assert!(rel_err(g, &(&g_def[l] / 6.0)) < 1e-12, "{space} layer {l}: G");
            }
            match (&space, &factors.head) {
                (Space::Box(_), Some(h)) => assert!(rel_err(h, &(Tensor::eye(2, F64) * 2.0)) < 1e-12),
                (Space::Box(_), None) | (_, Some(_)) => panic!("{space}: wrong head block"),
                (_, None) => {}
            }
        }
    }

    #[test]
    fn kfac_is_exact_for_a_linear_gaussian_policy() {
        // F = E[x̄ x̄ᵀ] ⊗ Σ⁻¹ on the weights and 2I on the log-std: K-FAC's
        // blocks are the whole Fisher, so without damping it is the exact
        // natural gradient.
        let p = policy(&gaussian(), &[], None, 3);
        let obs = randn(103, &[9, 3], F64);
        let (g, _) = surrogate_gradient(&p, &obs);
        let mut kfac = KfacPreconditioner::new(0.95, 1);
        kfac.observe(PerSampleGradients::fisher(&p, &obs).kfac_factors());
        let direction = kfac.apply(&g, 0.0).unwrap();
        let exact = Tensor::linalg_solve(&fisher_by_fvp(&p, &obs), &g, true);
        let err = rel_err(&direction, &exact);
        assert!(err < 1e-10, "{err}");
        // With hidden layers it is an approximation, and measurably one.
        let p = policy(&gaussian(), &[4], None, 3);
        let (g, _) = surrogate_gradient(&p, &obs);
        let mut kfac = KfacPreconditioner::new(0.95, 1);
        kfac.observe(PerSampleGradients::fisher(&p, &obs).kfac_factors());
        let exact = Tensor::linalg_solve(&(fisher_by_fvp(&p, &obs) + Tensor::eye(g.size()[0], F64) * 1e-3), &g, true);
        assert!(rel_err(&kfac.apply(&g, 1e-3).unwrap(), &exact) > 1e-3);
    }

    #[test]
    fn diagonal_and_empirical_directions_solve_their_own_matrices() {
        for (space, sde) in spaces() {
            let p = policy(&space, &[4], sde, 4);
            let obs = randn(104, &[8, 3], F64);
            let (g, actions) = surrogate_gradient(&p, &obs);
            let damping = 0.05;
            let eye = Tensor::eye(g.size()[0], F64);
            let diagonal = fisher_by_fvp(&p, &obs).diagonal(0, 0, 1);
            let expected = &g / (diagonal + damping);
            let got = diagonal_direction(&PerSampleGradients::fisher(&p, &obs), &g, damping).unwrap();
            assert!(rel_err(&got, &expected) < 1e-10, "{space} {sde:?}: diagonal");
            // The empirical Fisher from each state's score, one backward pass per state.
            let scores: Vec<Tensor> = (0..8)
                .map(|n| {
                    let logp = p.dist(&obs.narrow(0, n, 1)).log_prob(&actions.narrow(0, n, 1));
                    flat_grad(&logp.sum(Kind::Double), &p.parameters(), false)
                })
                .collect();
            let psi = Tensor::stack(&scores, 0);
            let expected = Tensor::linalg_solve(&(psi.tr().matmul(&psi) / 8.0 + &eye * damping), &g, true);
            let got =
                empirical_direction(&PerSampleGradients::scores(&p, &obs, &actions), &g, damping, 200, 1e-30).unwrap();
            assert!(rel_err(&got, &expected) < 1e-8, "{space} {sde:?}: empirical {}", rel_err(&got, &expected));
            assert!(empirical_direction(&PerSampleGradients::scores(&p, &obs, &actions), &g, 0.0, 10, 0.0).is_err());
        }
    }

    #[test]
    fn products_with_the_rows_equal_the_formed_rows() {
        for (space, sde) in spaces() {
            let p = policy(&space, &[4, 3], sde, 8);
            let obs = randn(105, &[5, 3], F64);
            let batch = PerSampleGradients::fisher(&p, &obs);
            let rows = batch.rows();
            let v = randn(111, &[rows.size()[1]], F64);
            let u = randn(112, &[rows.size()[0]], F64);
            assert!(rel_err(&batch.rows_times(&v), &rows.mv(&v)) < 1e-12, "{space} {sde:?}: R v");
            assert!(rel_err(&batch.rows_transposed_times(&u), &rows.tr().mv(&u)) < 1e-12, "{space} {sde:?}: Rᵀu");
        }
    }

    /// K-FAC, the diagonal and the empirical Fisher each turn the
    /// surrogate's gradient into an ascent direction for `p` on `obs`.
    fn assert_every_approximation_ascends(label: &str, p: &Policy, obs: &Tensor) {
        let (g, actions) = surrogate_gradient(p, obs);
        let fisher = PerSampleGradients::fisher(p, obs);
        let mut kfac = KfacPreconditioner::new(0.95, 1);
        kfac.observe(fisher.kfac_factors());
        let scores = PerSampleGradients::scores(p, obs, &actions);
        for (name, s) in [
            ("kfac", kfac.apply(&g, 0.1).unwrap()),
            ("diagonal", diagonal_direction(&fisher, &g, 0.1).unwrap()),
            ("empirical", empirical_direction(&scores, &g, 0.1, 3, 0.0).unwrap()),
        ] {
            assert!(g.dot(&s).double_value(&[]) > 0.0, "{label}: {name}");
        }
    }

    #[test]
    fn every_approximation_gives_an_ascent_direction() {
        for (space, sde) in spaces() {
            let p = policy(&space, &[4, 4], sde, 6);
            assert_every_approximation_ascends(&format!("{space} {sde:?}"), &p, &randn(106, &[10, 3], F64));
        }
    }

    /// Small CNN policies in float64: an image (two convolutions, 4 and 1
    /// positions, then the features layer), and a `Dict` of a vector, the
    /// image and another vector.
    fn cnn_policies(space: &Space, seed: i64) -> Vec<(&'static str, Policy, Tensor)> {
        let shape = ImageShape { channels: 2, height: 6, width: 6, channels_last: true };
        let inputs = [
            ("image", Input::Image(shape), 72),
            ("dict", Input::Combined(vec![Column::Flat(2), Column::Image(shape), Column::Flat(1)]), 75),
        ];
        inputs
            .into_iter()
            .map(|(name, input, width)| {
                seeded(seed, || {
                    let mut p =
                        Policy::with_cnn(input, &[(3, 3, 2), (2, 2, 1)], 3, space, &[4], -0.3, None, Device::Cpu)
                            .unwrap();
                    p.var_store_mut().set_kind(Kind::Double);
                    tch::no_grad(|| {
                        for mut v in p.parameters() {
                            let noise = v.randn_like() * 0.3;
                            v += noise;
                        }
                        // Positive biases keep the CNN's ReLUs alive whatever the
                        // draw, so that every layer carries curvature.
                        for (name, mut v) in p.var_store().variables() {
                            if name.contains("cnn") && name.ends_with("bias") {
                                let _ = v.fill_(1.0);
                            }
                        }
                    });
                    let obs = (Tensor::rand([5, width], F64) * 255.0).floor();
                    (name, p, obs)
                })
            })
            .collect()
    }

    /// Every per-state quantity through convolutions: the Fisher the rows
    /// make is the exact one (so patches, positions and the parameters'
    /// order agree with libtorch's convolution), the diagonal is its
    /// diagonal, and the products with the rows are the formed rows'.
    #[test]
    fn per_sample_gradients_through_convolutions_are_exact() {
        for space in [Space::Discrete { n: 3 }, gaussian()] {
            for (name, p, obs) in cnn_policies(&space, 11) {
                let batch = PerSampleGradients::fisher(&p, &obs);
                let exact = fisher_by_fvp(&p, &obs);
                assert!(rel_err(&batch.matrix(), &exact) < 1e-10, "{space} {name}: matrix");
                assert!(rel_err(&batch.diagonal(), &exact.diagonal(0, 0, 1)) < 1e-10, "{space} {name}: diagonal");
                let rows = batch.rows();
                let v = randn(113, &[rows.size()[1]], F64);
                let u = randn(114, &[rows.size()[0]], F64);
                assert!(rel_err(&batch.rows_times(&v), &rows.mv(&v)) < 1e-12, "{space} {name}: R v");
                assert!(rel_err(&batch.rows_transposed_times(&u), &rows.tr().mv(&u)) < 1e-12, "{space} {name}: Rᵀu");
            }
        }
    }

    /// KFC's factors (Grosse and Martens, 2016) from their definitions, with
    /// the patches cut out by hand: A = E_n[mean_t ā_t ā_tᵀ] and
    /// G = E_n[Σ_t J_tᵀ M J_t], with J_t the Jacobian of the output in the
    /// pre-activations at position t and M the categorical's diag(p) − ppᵀ.
    #[test]
    fn convolution_factors_are_kfcs() {
        let (_, p, obs) = cnn_policies(&Space::Discrete { n: 3 }, 12).remove(0);
        let factors = PerSampleGradients::fisher(&p, &obs).kfac_factors();
        let (kernel, stride, positions) = (3, 2, 4);
        let images = obs.view([5, 6, 6, 2]).permute([0, 3, 1, 2]) / 255.0;
        let mut a_def = Tensor::zeros([2 * 9 + 1, 2 * 9 + 1], F64);
        let mut g_def = Tensor::zeros([3, 3], F64);
        for n in 0..5 {
            for (t, (i, j)) in [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate() {
                let patch = images.get(n).narrow(1, i * stride, kernel).narrow(2, j * stride, kernel).reshape([-1]);
                let a = Tensor::cat(&[patch, Tensor::ones([1], F64)], 0).unsqueeze(0);
                a_def += a.tr().matmul(&a) / positions as f64;
                let row = obs.narrow(0, n, 1);
                let f = p.per_sample_forward(&row);
                let ActionDist::Categorical { logits } = &f.dist else { panic!("a categorical head") };
                let prob = logits.softmax(-1, Kind::Double).squeeze_dim(0).detach();
                let m = prob.diag(0) - prob.outer(&prob);
                let jacobian: Vec<Tensor> = (0..3)
                    .map(|k| {
                        let out = p.per_sample_forward(&row).net;
                        let y = out.output.select(1, k).sum(Kind::Double);
                        let g = Tensor::run_backward(&[y], &[&out.pre_activations[0]], false, false).remove(0);
                        g.get(0).get(t as i64).unsqueeze(0)
                    })
                    .collect();
                let j = Tensor::cat(&jacobian, 0);
                g_def += j.tr().matmul(&m).matmul(&j);
            }
        }
        let (a, g) = &factors.layers[0];
        assert!(rel_err(a, &(a_def / 5.0)) < 1e-12, "A");
        assert!(rel_err(g, &(g_def / 5.0)) < 1e-12, "G");
        assert_eq!(factors.layers.len(), 2 + 1 + 2, "two convolutions, the features layer and the MLP's two");
    }

    /// A batch's factors taken chunk by chunk (uneven chunks included) are
    /// its factors in one pass; an image policy's go by chunks.
    #[test]
    fn factors_by_chunks_equal_the_whole_batch() {
        for space in [Space::Discrete { n: 3 }, gaussian()] {
            for (name, p, obs) in cnn_policies(&space, 14) {
                let whole = PerSampleGradients::fisher(&p, &obs).kfac_factors();
                let by = |states| {
                    kfac_factors_in_chunks(&obs, states, |chunk| PerSampleGradients::fisher(&p, chunk).kfac_factors())
                };
                for chunked in [by(2), by(1), policy_kfac_factors(&p, &obs)] {
                    // A layer whose ReLUs the draw left dead has G = 0 in both.
                    let close =
                        |x: &Tensor, y: &Tensor| (x - y).norm().double_value(&[]) <= 1e-12 * y.norm().double_value(&[]);
                    for ((a, g), (ca, cg)) in whole.layers.iter().zip(&chunked.layers) {
                        assert!(close(ca, a) && close(cg, g), "{space} {name}");
                    }
                    let (_, last_g) = whole.layers.last().unwrap();
                    assert!(last_g.norm().double_value(&[]) > 0.0, "{space} {name}: no curvature");
                    let head = whole.head.as_ref().zip(chunked.head.as_ref()).map(|(h, ch)| rel_err(h, ch));
                    assert!(head.is_none_or(|e| e < 1e-12), "{space} {name}: head");
                    assert_eq!(whole.head.is_some(), chunked.head.is_some());
                }
            }
        }
    }

    /// K-FAC, the diagonal and the empirical Fisher through convolutions
    /// each give an ascent direction, as for the dense layers.
    #[test]
    fn every_approximation_gives_an_ascent_direction_through_convolutions() {
        for space in [Space::Discrete { n: 3 }, gaussian()] {
            for (name, p, obs) in cnn_policies(&space, 13) {
                assert_every_approximation_ascends(&format!("{space} {name}"), &p, &obs);
            }
        }
    }

    #[test]
    fn kfac_averages_its_factors_and_refreshes_inverses_on_schedule() {
        let p = policy(&Space::Discrete { n: 3 }, &[4], None, 7);
        let (obs1, obs2) = (randn(107, &[6, 3], F64), randn(108, &[6, 3], F64) * 2.0);
        let f1 = || PerSampleGradients::fisher(&p, &obs1).kfac_factors();
        let f2 = || PerSampleGradients::fisher(&p, &obs2).kfac_factors();
        let (g, _) = surrogate_gradient(&p, &obs1);
        // Decay min(1 − 1/k, 0.9): the first batch counts fully, the second by half.
        let mut kfac = KfacPreconditioner::new(0.9, 2);
        kfac.observe(f1());
        let first = kfac.apply(&g, 0.1).unwrap();
        kfac.observe(f2());
        let (a1, a2) = (&f1().layers[0].0, &f2().layers[0].0);
        assert!(rel_err(&kfac.factors().unwrap().layers[0].0, &((a1 + a2) * 0.5)) < 1e-14);
        // Batch 2 of period 2: the inverses are still batch 1's.
        assert!(kfac.apply(&g, 0.1).unwrap().equal(&first));
        kfac.observe(f2());
        assert!(!kfac.apply(&g, 0.1).unwrap().equal(&first));
        // A checkpoint's state restores the same directions.
        let mut restored = KfacPreconditioner::new(0.9, 2);
        let state: std::collections::HashMap<String, Tensor> = kfac.state("k").into_iter().collect();
        restored.restore("k", &|name| state.get(name).map(Tensor::shallow_clone)).unwrap();
        kfac.observe(f1());
        restored.observe(f1());
        assert!(kfac.apply(&g, 0.1).unwrap().equal(&restored.apply(&g, 0.1).unwrap()));
    }
}
