//! The action distributions: categorical for `Discrete` spaces, a product of
//! independent categoricals for `MultiDiscrete`, independent Bernoullis for
//! `MultiBinary` (as Stable-Baselines3's `MultiCategoricalDistribution` and
//! `BernoulliDistribution`), and a diagonal Gaussian for `Box` spaces, its log
//! standard deviation either shared by every state or (gSDE) one per state.
//! Each function is the closed form of one quantity, batched over states; the
//! product distributions' log-probabilities, entropies and KLs are sums over
//! their independent components.

use natgrad_envs::Rng;
use tch::{Device, Kind, Tensor};

/// ln(2π)
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The index i with cdf(i-1) <= u < cdf(i); rounding that leaves the total a
/// hair below u picks the last index with positive probability.
pub(crate) fn sample_index(probs: &[f64], u: f64) -> usize {
    let mut cumulative = 0.0;
    for (i, p) in probs.iter().enumerate() {
        cumulative += p;
        if u < cumulative {
            return i;
        }
    }
    probs.iter().rposition(|p| *p > 0.0).unwrap_or(0)
}

/// A batch of action distributions, one per state.
#[derive(Debug)]
pub enum ActionDist {
    /// `logits`: `[batch, n]`, not necessarily normalised.
    Categorical { logits: Tensor },
    /// `mean`: `[batch, dim]`; `log_std`: `[dim]`, shared by every state, or
    /// `[batch, dim]`, one per state (gSDE).
    DiagGaussian { mean: Tensor, log_std: Tensor },
    /// `logits`: `[batch, Σ nvec]`, component k's `nvec[k]` logits after
    /// those of the components before it.
    MultiCategorical { logits: Tensor, nvec: Vec<i64> },
    /// `logits`: `[batch, n]`, one log-odds of a 1 per bit.
    Bernoulli { logits: Tensor },
}

/// Each component's log-probabilities `[batch, nvec[k]]`.
fn component_log_probs(logits: &Tensor, nvec: &[i64]) -> Vec<Tensor> {
    logits.split_with_sizes(nvec, -1).iter().map(|l| l.log_softmax(-1, l.kind())).collect()
}

/// Sums per-component values `[batch]` into one per state.
fn sum_of(parts: impl Iterator<Item = Tensor>) -> Tensor {
    parts.reduce(|a, b| a + b).expect("at least one component")
}

impl ActionDist {
    /// The same distribution cut from the graph: gradients do not flow into it.
    /// This is π_old in TRPO's surrogate and KL.
    pub fn detach(&self) -> ActionDist {
        match self {
            ActionDist::Categorical { logits } => ActionDist::Categorical { logits: logits.detach() },
            ActionDist::DiagGaussian { mean, log_std } => {
                ActionDist::DiagGaussian { mean: mean.detach(), log_std: log_std.detach() }
            }
            ActionDist::MultiCategorical { logits, nvec } => {
                ActionDist::MultiCategorical { logits: logits.detach(), nvec: nvec.clone() }
            }
            ActionDist::Bernoulli { logits } => ActionDist::Bernoulli { logits: logits.detach() },
        }
    }

    /// log π(a|s) per state: `[batch]`. Categorical actions are int64 indices
    /// `[batch]`; multi-categorical ones int64 `[batch, components]`;
    /// Bernoulli ones 0 or 1 as floats `[batch, n]`; Gaussian ones `[batch, dim]`.
    pub fn log_prob(&self, actions: &Tensor) -> Tensor {
        match self {
            ActionDist::Categorical { logits } => {
                logits.log_softmax(-1, logits.kind()).gather(-1, &actions.unsqueeze(-1), false).squeeze_dim(-1)
            }
            ActionDist::DiagGaussian { mean, log_std } => {
                let z = (actions - mean) * (-log_std).exp();
                (z.square() * -0.5 - log_std - 0.5 * LN_2PI).sum_dim_intlist(-1, false, mean.kind())
            }
            ActionDist::MultiCategorical { logits, nvec } => {
                sum_of(component_log_probs(logits, nvec).iter().enumerate().map(|(k, logp)| {
                    logp.gather(-1, &actions.select(-1, k as i64).unsqueeze(-1), false).squeeze_dim(-1)
                }))
            }
            ActionDist::Bernoulli { logits } => {
                // log p(a) = a·l − softplus(l), which is log σ(l) for a 1 and log σ(−l) for a 0.
                let actions = actions.to_kind(logits.kind());
                (actions * logits - logits.softplus()).sum_dim_intlist(-1, false, logits.kind())
            }
        }
    }

    /// Per-state scalars t_k `[batch]` whose gradients factor the Fisher:
    /// for any parameters θ, Σ_k ∇θ t_k ∇θ t_kᵀ = E_{a~π}[∇θ log π ∇θ log πᵀ]
    /// state by state, with the expectation over actions taken exactly.
    /// Categorical: t_c = √p_c · log p_c, since Σ_c p_c (e_c − p)(e_c − p)ᵀ =
    /// diag(p) − ppᵀ is the Fisher of the logits. Gaussian: t = μ_d / σ_d and
    /// √2 · log σ_d per dimension, the Fisher of (μ, log σ) being
    /// diag(1/σ², 2) with no cross terms. Multi-categorical: the categorical
    /// terms of every component (their Fisher is block-diagonal). Bernoulli:
    /// t_d = √(p_d (1 − p_d)) · l_d, the Fisher of a logit being p(1 − p).
    /// The weights are constants.
    pub fn fisher_terms(&self) -> Vec<Tensor> {
        match self {
            ActionDist::Categorical { logits } => categorical_fisher_terms(&logits.log_softmax(-1, logits.kind())),
            ActionDist::MultiCategorical { logits, nvec } => {
                component_log_probs(logits, nvec).iter().flat_map(categorical_fisher_terms).collect()
            }
            ActionDist::Bernoulli { logits } => {
                let p = logits.detach().sigmoid();
                let weight = (&p * (-&p + 1.0)).sqrt();
                (0..logits.size()[1]).map(|d| logits.select(1, d) * weight.select(1, d)).collect()
            }
            ActionDist::DiagGaussian { mean, log_std } => {
                let log_std = log_std.expand_as(mean);
                let inv_std = (-log_std.detach()).exp();
                let means = (0..mean.size()[1]).map(|d| mean.select(1, d) * inv_std.select(1, d));
                let stds = (0..mean.size()[1]).map(|d| log_std.select(1, d) * std::f64::consts::SQRT_2);
                means.chain(stds).collect()
            }
        }
    }

    /// Entropy per state: `[batch]`.
    pub fn entropy(&self) -> Tensor {
        match self {
            ActionDist::Categorical { logits } => {
                let logp = logits.log_softmax(-1, logits.kind());
                -(logp.exp() * &logp).sum_dim_intlist(-1, false, logits.kind())
            }
            ActionDist::DiagGaussian { mean, log_std } => {
                let entropy = (log_std + 0.5 * (1.0 + LN_2PI)).sum_dim_intlist(-1, false, mean.kind());
                entropy.expand([mean.size()[0]], false)
            }
            ActionDist::MultiCategorical { logits, nvec } => sum_of(
                component_log_probs(logits, nvec)
                    .iter()
                    .map(|logp| -(logp.exp() * logp).sum_dim_intlist(-1, false, logp.kind())),
            ),
            ActionDist::Bernoulli { logits } => {
                let (p, log_p, log_q) = (logits.sigmoid(), logits.log_sigmoid(), (-logits).log_sigmoid());
                -(&p * log_p + (-&p + 1.0) * log_q).sum_dim_intlist(-1, false, logits.kind())
            }
        }
    }

    /// KL(self ‖ other) per state: `[batch]`.
    pub fn kl(&self, other: &ActionDist) -> Tensor {
        match (self, other) {
            (ActionDist::Categorical { logits: p }, ActionDist::Categorical { logits: q }) => {
                let logp = p.log_softmax(-1, p.kind());
                let logq = q.log_softmax(-1, q.kind());
                (logp.exp() * (&logp - logq)).sum_dim_intlist(-1, false, p.kind())
            }
            (
                ActionDist::DiagGaussian { mean: m1, log_std: s1 },
                ActionDist::DiagGaussian { mean: m2, log_std: s2 },
            ) => {
                let var_ratio = ((s1 - s2) * 2.0).exp();
                let mean_term = (m1 - m2).square() * (s2 * -2.0).exp();
                ((var_ratio + mean_term - 1.0) * 0.5 + (s2 - s1)).sum_dim_intlist(-1, false, m1.kind())
            }
            (
                ActionDist::MultiCategorical { logits: p, nvec },
                ActionDist::MultiCategorical { logits: q, nvec: other_nvec },
            ) if nvec == other_nvec => sum_of(
                component_log_probs(p, nvec)
                    .iter()
                    .zip(component_log_probs(q, nvec))
                    .map(|(logp, logq)| (logp.exp() * (logp - logq)).sum_dim_intlist(-1, false, p.kind())),
            ),
            (ActionDist::Bernoulli { logits: p }, ActionDist::Bernoulli { logits: q }) => {
                let prob = p.sigmoid();
                let ones = &prob * (p.log_sigmoid() - q.log_sigmoid());
                let zeros = (-&prob + 1.0) * ((-p).log_sigmoid() - (-q).log_sigmoid());
                (ones + zeros).sum_dim_intlist(-1, false, p.kind())
            }
            _ => panic!("KL between distributions of different action spaces is undefined"),
        }
    }

    /// One action per state, drawn from `rng` (so that a seeded run, and a
    /// checkpoint of it, fixes every draw). Categorical: inverse CDF of the
    /// probabilities with one uniform per state. Multi-categorical: the same
    /// per component, state by state, component by component. Bernoulli: a 1
    /// where a uniform falls below p, state by state, bit by bit. Gaussian:
    /// mean + std · z with standard normals z; unclipped.
    pub fn sample(&self, rng: &mut Rng) -> Tensor {
        tch::no_grad(|| match self {
            ActionDist::Categorical { logits } => {
                let probs = logits.softmax(-1, Kind::Double).to_device(Device::Cpu);
                let n = probs.size()[1] as usize;
                let probs = Vec::<f64>::try_from(&probs.reshape([-1])).expect("float probabilities");
                let actions: Vec<i64> = probs.chunks(n).map(|p| sample_index(p, rng.uniform()) as i64).collect();
                Tensor::from_slice(&actions).to_device(logits.device())
            }
            ActionDist::MultiCategorical { logits, nvec } => {
                let probs: Vec<Vec<f64>> = logits
                    .split_with_sizes(nvec, -1)
                    .iter()
                    .map(|l| Vec::<f64>::try_from(&to_f64s(&l.softmax(-1, Kind::Double))).expect("f64 probabilities"))
                    .collect();
                let rows = logits.size()[0] as usize;
                let mut actions = Vec::with_capacity(rows * nvec.len());
                for row in 0..rows {
                    for (k, n) in nvec.iter().enumerate() {
                        let n = *n as usize;
                        actions.push(sample_index(&probs[k][row * n..(row + 1) * n], rng.uniform()) as i64);
                    }
                }
                Tensor::from_slice(&actions).view([rows as i64, nvec.len() as i64]).to_device(logits.device())
            }
            ActionDist::Bernoulli { logits } => {
                let probs =
                    Vec::<f64>::try_from(&to_f64s(&logits.to_kind(Kind::Double).sigmoid())).expect("f64 probabilities");
                let bits: Vec<f64> = probs.iter().map(|p| f64::from(u8::from(rng.uniform() < *p))).collect();
                Tensor::from_slice(&bits).view_as(logits).to_kind(logits.kind()).to_device(logits.device())
            }
            ActionDist::DiagGaussian { mean, log_std } => {
                let z: Vec<f32> = (0..mean.numel()).map(|_| rng.normal() as f32).collect();
                let z = Tensor::from_slice(&z).view_as(mean).to_kind(mean.kind()).to_device(mean.device());
                mean + z * log_std.exp()
            }
        })
    }

    /// The most likely action: argmax (per component), a 1 where p > ½, or
    /// the mean.
    pub fn mode(&self) -> Tensor {
        tch::no_grad(|| match self {
            ActionDist::Categorical { logits } => logits.argmax(-1, false),
            ActionDist::DiagGaussian { mean, .. } => mean.shallow_clone(),
            ActionDist::MultiCategorical { logits, nvec } => {
                let parts: Vec<Tensor> =
                    logits.split_with_sizes(nvec, -1).iter().map(|l| l.argmax(-1, false)).collect();
                Tensor::stack(&parts, -1)
            }
            ActionDist::Bernoulli { logits } => logits.gt(0.0).to_kind(logits.kind()),
        })
    }
}

/// The categorical terms t_c = √p_c · log p_c of [`ActionDist::fisher_terms`]
/// from log-probabilities `[batch, n]`.
fn categorical_fisher_terms(logp: &Tensor) -> Vec<Tensor> {
    let weight = (logp.detach() * 0.5).exp();
    (0..logp.size()[1]).map(|c| logp.select(1, c) * weight.select(1, c)).collect()
}

/// A tensor's values as a flat f64 tensor on the CPU.
fn to_f64s(t: &Tensor) -> Tensor {
    t.to_kind(Kind::Double).to_device(Device::Cpu).reshape([-1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::randn;

    fn t(v: &[f64]) -> Tensor {
        Tensor::from_slice(v)
    }

    fn close(a: &Tensor, b: &[f64]) {
        let a = Vec::<f64>::try_from(&a.to_kind(Kind::Double).reshape([-1])).unwrap();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn categorical_log_prob_entropy_and_kl_match_closed_forms() {
        let logits = t(&[1.0, 2.0, 0.5]).view([1, 3]);
        let z: f64 = [1.0f64, 2.0, 0.5].iter().map(|l| l.exp()).sum();
        let p: Vec<f64> = [1.0f64, 2.0, 0.5].iter().map(|l| l.exp() / z).collect();
        let d = ActionDist::Categorical { logits: &logits + 7.0 }; // shift-invariant
        close(&d.log_prob(&Tensor::from_slice(&[1i64])), &[p[1].ln()]);
        close(&d.entropy(), &[-p.iter().map(|x| x * x.ln()).sum::<f64>()]);
        let q_logits = [0.0f64, 0.0, 3.0];
        let zq: f64 = q_logits.iter().map(|l| l.exp()).sum();
        let q: Vec<f64> = q_logits.iter().map(|l| l.exp() / zq).collect();
        let other = ActionDist::Categorical { logits: t(&q_logits).view([1, 3]) };
        let kl: f64 = p.iter().zip(&q).map(|(a, b)| a * (a / b).ln()).sum();
        close(&d.kl(&other), &[kl]);
    }

    #[test]
    fn gaussian_log_prob_entropy_and_kl_match_closed_forms() {
        let (m1, s1, m2, s2) = ([0.5, -1.0], [0.2f64, -0.4f64], [0.0, 1.0], [-0.1f64, 0.3f64]);
        let d = ActionDist::DiagGaussian { mean: t(&m1).view([1, 2]), log_std: t(&s1) };
        let e = ActionDist::DiagGaussian { mean: t(&m2).view([1, 2]), log_std: t(&s2) };
        let a = [0.3, 0.7];
        let logp: f64 = (0..2)
            .map(|k| {
                let sd = s1[k].exp();
                -0.5 * ((a[k] - m1[k]) / sd).powi(2) - sd.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
            })
            .sum();
        close(&d.log_prob(&t(&a).view([1, 2])), &[logp]);
        let entropy: f64 = s1.iter().map(|s| s + 0.5 * (1.0 + (2.0 * std::f64::consts::PI).ln())).sum();
        close(&d.entropy(), &[entropy]);
        let kl: f64 = (0..2)
            .map(|k| {
                let (v1, v2) = ((2.0 * s1[k]).exp(), (2.0 * s2[k]).exp());
                s2[k] - s1[k] + (v1 + (m1[k] - m2[k]).powi(2)) / (2.0 * v2) - 0.5
            })
            .sum();
        close(&d.kl(&e), &[kl]);
    }

    #[test]
    fn multi_categorical_quantities_are_sums_over_its_categoricals() {
        let (a, b) = (randn(1, &[4, 3], (Kind::Double, Device::Cpu)), randn(2, &[4, 2], (Kind::Double, Device::Cpu)));
        let (c, d) = (randn(3, &[4, 3], (Kind::Double, Device::Cpu)), randn(4, &[4, 2], (Kind::Double, Device::Cpu)));
        let nvec = vec![3, 2];
        let joint = ActionDist::MultiCategorical { logits: Tensor::cat(&[&a, &b], 1), nvec: nvec.clone() };
        let other = ActionDist::MultiCategorical { logits: Tensor::cat(&[&c, &d], 1), nvec };
        let (pa, pb) = (ActionDist::Categorical { logits: a }, ActionDist::Categorical { logits: b });
        let (qa, qb) = (ActionDist::Categorical { logits: c }, ActionDist::Categorical { logits: d });
        let actions = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 1, 0, 0]).view([4, 2]);
        let sum = pa.log_prob(&actions.select(1, 0)) + pb.log_prob(&actions.select(1, 1));
        close(&joint.log_prob(&actions), &Vec::<f64>::try_from(&sum).unwrap());
        close(&joint.entropy(), &Vec::<f64>::try_from(&(pa.entropy() + pb.entropy())).unwrap());
        close(&joint.kl(&other), &Vec::<f64>::try_from(&(pa.kl(&qa) + pb.kl(&qb))).unwrap());
        let mode = joint.mode();
        assert!(mode.select(1, 0).equal(&pa.mode()) && mode.select(1, 1).equal(&pb.mode()));
    }

    #[test]
    fn bernoulli_log_prob_entropy_and_kl_match_closed_forms() {
        let (l, m) = ([0.3f64, -1.2, 2.0], [-0.5f64, 0.4, 1.0]);
        let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
        let d = ActionDist::Bernoulli { logits: t(&l).view([1, 3]) };
        let e = ActionDist::Bernoulli { logits: t(&m).view([1, 3]) };
        let bits = [1.0, 0.0, 1.0];
        let logp: f64 =
            (0..3).map(|k| if bits[k] == 1.0 { sigmoid(l[k]).ln() } else { (1.0 - sigmoid(l[k])).ln() }).sum();
        close(&d.log_prob(&t(&bits).view([1, 3])), &[logp]);
        let entropy: f64 = l.iter().map(|x| sigmoid(*x)).map(|p| -(p * p.ln() + (1.0 - p) * (1.0 - p).ln())).sum();
        close(&d.entropy(), &[entropy]);
        let kl: f64 = (0..3)
            .map(|k| {
                let (p, q) = (sigmoid(l[k]), sigmoid(m[k]));
                p * (p / q).ln() + (1.0 - p) * ((1.0 - p) / (1.0 - q)).ln()
            })
            .sum();
        close(&d.kl(&e), &[kl]);
        close(&d.mode(), &[1.0, 0.0, 1.0]);
    }

    #[test]
    fn kl_of_a_distribution_with_itself_is_zero_with_zero_gradient() {
        let logits = randn(5, &[4, 3], (Kind::Double, Device::Cpu)).set_requires_grad(true);
        let d = ActionDist::Categorical { logits: logits.shallow_clone() };
        let kl = d.detach().kl(&d).mean(None::<Kind>);
        assert!(kl.double_value(&[]).abs() < 1e-15);
        let g = Tensor::run_backward(&[kl], &[&logits], false, false);
        assert!(g[0].abs().max().double_value(&[]) < 1e-15);

        let mean = randn(6, &[4, 2], (Kind::Double, Device::Cpu)).set_requires_grad(true);
        let log_std = Tensor::from_slice(&[0.1f64, -0.2]).set_requires_grad(true);
        let d = ActionDist::DiagGaussian { mean: mean.shallow_clone(), log_std: log_std.shallow_clone() };
        let kl = d.detach().kl(&d).mean(None::<Kind>);
        assert!(kl.double_value(&[]).abs() < 1e-15);
        let g = Tensor::run_backward(&[kl], &[&mean, &log_std], false, false);
        assert!(g.iter().all(|g| g.abs().max().double_value(&[]) < 1e-15));
    }

    #[test]
    fn samples_follow_the_distribution_and_mode_is_argmax_or_mean() {
        let mut rng = Rng::seed_from_u64(0);
        let d = ActionDist::Categorical { logits: t(&[0.0, (3.0f64).ln()]).view([1, 2]).repeat([20000, 1]) };
        let frac = d.sample(&mut rng).to_kind(Kind::Double).mean(None::<Kind>).double_value(&[]);
        assert!((frac - 0.75).abs() < 0.02, "{frac}");
        close(&d.mode().narrow(0, 0, 1), &[1.0]);
        let g =
            ActionDist::DiagGaussian { mean: t(&[2.0]).view([1, 1]).repeat([20000, 1]), log_std: t(&[(0.5f64).ln()]) };
        let s = g.sample(&mut rng);
        assert!((s.mean(None::<Kind>).double_value(&[]) - 2.0).abs() < 0.02);
        assert!((s.std(true).double_value(&[]) - 0.5).abs() < 0.02);
        close(&g.mode().narrow(0, 0, 1), &[2.0]);
        // Each component and each bit with its own frequency.
        let logits = t(&[0.0, (3.0f64).ln(), 0.0, 0.0, 0.0]).view([1, 5]).repeat([20000, 1]);
        let m = ActionDist::MultiCategorical { logits, nvec: vec![2, 3] };
        let s = m.sample(&mut rng);
        assert_eq!(s.size(), [20000, 2]);
        let frac = s.select(1, 0).to_kind(Kind::Double).mean(None::<Kind>).double_value(&[]);
        assert!((frac - 0.75).abs() < 0.02, "{frac}");
        let mean = s.select(1, 1).to_kind(Kind::Double).mean(None::<Kind>).double_value(&[]);
        assert!((mean - 1.0).abs() < 0.03, "{mean}");
        let b = ActionDist::Bernoulli { logits: t(&[(0.25f64 / 0.75).ln(), 0.0]).view([1, 2]).repeat([20000, 1]) };
        let bits = b.sample(&mut rng).mean_dim(0, false, Kind::Double);
        assert!((bits.double_value(&[0]) - 0.25).abs() < 0.02 && (bits.double_value(&[1]) - 0.5).abs() < 0.02);
        // The same generator state gives the same actions.
        let (mut a, mut b) = (Rng::seed_from_u64(4), Rng::seed_from_u64(4));
        assert!(d.sample(&mut a).equal(&d.sample(&mut b)));
    }

    #[test]
    fn inverse_cdf_picks_the_interval_holding_u() {
        assert_eq!(sample_index(&[0.25, 0.5, 0.25], 0.0), 0);
        assert_eq!(sample_index(&[0.25, 0.5, 0.25], 0.25), 1);
        assert_eq!(sample_index(&[0.25, 0.5, 0.25], 0.7499), 1);
        assert_eq!(sample_index(&[0.25, 0.5, 0.25], 0.75), 2);
        // Probabilities summing to a hair under 1 never pick a zero-probability action.
        assert_eq!(sample_index(&[0.3, 0.6999999, 0.0], 0.99999999), 1);
    }
}
