//! K-FAC: Martens and Grosse (2015), "Optimizing neural networks with
//! Kronecker-factored approximate curvature", ICML.
//!
//! For a layer s = W a + b, write W̄ = [W | b] and ā = [a; 1]. The score of W̄
//! is g āᵀ with g = ∂log p(y|x)/∂s, so the layer's block of the Fisher is
//! E[(ā āᵀ) ⊗ (g gᵀ)] (vec stacking columns). K-FAC takes the expectations
//! apart: F_l ≈ A_l ⊗ G_l with A_l = E[ā āᵀ], the layer-input second moment,
//! and G_l = E_x E_{y~p}[g gᵀ], the pre-activation-gradient second moment,
//! and ignores the blocks between layers. The inverse is then cheap:
//! (A ⊗ G)⁻¹ vec(V) = vec(G⁻¹ V A⁻¹).
//!
//! Damping λI is not Kronecker-factored, so it is split between the factors
//! (§6.3): (A + π√λ I) ⊗ (G + √λ/π I), with π = sqrt((tr A / dim A) /
//! (tr G / dim G)) balancing the two.

use tch::Tensor;

use crate::classifier::MlpClassifier;
use crate::fisher::{NgdError, check_damping, cholesky};

/// One layer's Kronecker factors.
pub struct KfacFactors {
    /// E[ā āᵀ], `[in + 1, in + 1]`; the last coordinate is the bias input 1.
    pub a: Tensor,
    /// E_x E_{y~p}[g gᵀ], `[out, out]`.
    pub g: Tensor,
}

/// The Kronecker factors of every layer of a classifier, at its current
/// parameters.
pub struct Kfac {
    layers: Vec<KfacFactors>,
}

impl Kfac {
    /// The expectation over labels in G is taken exactly, over every label
    /// value weighted by its predicted probability, not by sampling.
    pub fn new(model: &MlpClassifier) -> Self {
        let forward = model.forward();
        let n = model.inputs().size()[0] as f64;
        let log_probs = model.class_log_probs(&forward.logits);
        let class_probs = log_probs.detach().exp();
        let mut g: Vec<Tensor> =
            forward.pre_activations.iter().map(|s| Tensor::zeros([s.size()[1]; 2], (s.kind(), s.device()))).collect();
        for c in 0..model.output().classes() as i64 {
            // Each example's log-likelihood depends only on its own row of
            // every pre-activation, so the gradient of the sum holds the
            // per-example gradients in its rows.
            let total = log_probs.select(1, c).sum(log_probs.kind());
            let grads = Tensor::run_backward(&[total], &forward.pre_activations, true, false);
            let weight = class_probs.select(1, c).sqrt().unsqueeze(1);
            for (sum, grad) in g.iter_mut().zip(grads) {
                let weighted = grad * &weight;
                *sum += weighted.tr().matmul(&weighted);
            }
        }
        let layers = forward
            .layer_inputs
            .iter()
            .zip(g)
            .map(|(a, g)| {
                let a = tch::no_grad(|| Tensor::cat(&[a.detach(), a.ones_like().narrow(1, 0, 1)], 1));
                KfacFactors { a: a.tr().matmul(&a) / n, g: g / n }
            })
            .collect();
        Self { layers }
    }

    pub fn layers(&self) -> &[KfacFactors] {
        &self.layers
    }

    /// The K-FAC natural-gradient direction for the flat gradient `grad`
    /// (ordered as the classifier's parameters: W₀, b₀, W₁, b₁, ...), each
    /// layer's block solved with factored damping.
    pub fn natural_gradient(&self, grad: &Tensor, damping: f64) -> Result<Tensor, NgdError> {
        check_damping(damping)?;
        let grad = grad.detach();
        let mut offset = 0;
        let mut out = Vec::with_capacity(2 * self.layers.len());
        for layer in &self.layers {
            let (outputs, inputs) = (layer.g.size()[0], layer.a.size()[0] - 1);
            let w = grad.narrow(0, offset, outputs * inputs).view([outputs, inputs]);
            let b = grad.narrow(0, offset + outputs * inputs, outputs).unsqueeze(1);
            offset += outputs * (inputs + 1);
            let v = Tensor::cat(&[w, b], 1);
            let (a, g) = factored_damping(&layer.a, &layer.g, damping);
            let u = kronecker_solve(&a, &g, &v).ok_or(NgdError::NotPositiveDefinite { damping })?;
            out.push(u.narrow(1, 0, inputs).reshape([-1]));
            out.push(u.select(1, inputs));
        }
        assert_eq!(offset, grad.size()[0], "gradient of the wrong length for this classifier");
        Ok(Tensor::cat(&out, 0))
    }
}

/// (A + π√λ I, G + √λ/π I) with π = sqrt((tr A / dim A) / (tr G / dim G)),
/// or π = 1 when either trace is zero.
pub fn factored_damping(a: &Tensor, g: &Tensor, damping: f64) -> (Tensor, Tensor) {
    let mean_eigenvalue = |m: &Tensor| m.trace().double_value(&[]) / m.size()[0] as f64;
    let ratio = mean_eigenvalue(a) / mean_eigenvalue(g);
    let pi = if ratio.is_finite() && ratio > 0.0 { ratio.sqrt() } else { 1.0 };
    let eye = |m: &Tensor| Tensor::eye(m.size()[0], (m.kind(), m.device()));
    let root = damping.sqrt();
    (a + eye(a) * (pi * root), g + eye(g) * (root / pi))
}

/// U = G⁻¹ V A⁻¹, the solution of (A ⊗ G) vec(U) = vec(V) for symmetric A
/// and G, by two Cholesky solves; `None` when a factor is not (numerically)
/// positive definite.
pub fn kronecker_solve(a: &Tensor, g: &Tensor, v: &Tensor) -> Option<Tensor> {
    let (la, lg) = (cholesky(a)?, cholesky(g)?);
    let g_inv_v = v.cholesky_solve(&lg, false);
    let u = g_inv_v.tr().cholesky_solve(&la, false).tr();
    (u.isfinite().all().int64_value(&[]) != 0).then_some(u)
}

#[cfg(test)]
mod tests {
    use natgrad_envs::Rng;
    use tch::Kind;

    use super::*;
    use crate::classifier::Output;
    use crate::fisher::{Likelihood, negative_log_likelihood};
    use crate::natural_gradient::flat_grad;

    fn nll_gradient(model: &MlpClassifier) -> Tensor {
        flat_grad(&negative_log_likelihood(model), &model.parameters(), false)
    }

    type Matrix = Vec<Vec<f64>>;

    fn values(t: &Tensor) -> Vec<f64> {
        Vec::<f64>::try_from(&t.detach().to_kind(Kind::Double).reshape([-1])).unwrap()
    }

    fn model(output: Output, seed: u64) -> MlpClassifier {
        let mut rng = Rng::seed_from_u64(seed);
        let x: Vec<f64> = (0..30).map(|_| rng.normal()).collect();
        let y: Vec<i64> = (0..15).map(|_| rng.below(output.classes() as u64) as i64).collect();
        MlpClassifier::new(&Tensor::from_slice(&x).view([15, 2]), &y, &[3], output, &mut rng).unwrap()
    }

    fn outer_add(m: &mut Matrix, u: &[f64], v: &[f64], weight: f64) {
        for (row, ui) in m.iter_mut().zip(u) {
            for (cell, vj) in row.iter_mut().zip(v) {
                *cell += weight * ui * vj;
            }
        }
    }

    fn zeros(rows: usize, cols: usize) -> Matrix {
        vec![vec![0.0; cols]; rows]
    }

    /// A and G of both layers of a 2-3-k network, by a forward and backward
    /// pass written out per example in plain f64 arithmetic.
    fn factors_by_hand(model: &MlpClassifier) -> Vec<(Matrix, Matrix)> {
        let w: Vec<Vec<f64>> = model.weights().iter().map(values).collect();
        let b: Vec<Vec<f64>> = model.parameters().iter().skip(1).step_by(2).map(values).collect();
        let x = values(model.inputs());
        let labels_out = w[1].len() / 3;
        let mut a = [zeros(3, 3), zeros(4, 4)];
        let mut g = [zeros(3, 3), zeros(labels_out, labels_out)];
        let n = x.len() / 2;
        for i in 0..n {
            let x_i = [x[2 * i], x[2 * i + 1]];
            let h: Vec<f64> =
                (0..3).map(|j| (w[0][2 * j] * x_i[0] + w[0][2 * j + 1] * x_i[1] + b[0][j]).tanh()).collect();
            let z: Vec<f64> =
                (0..labels_out).map(|k| (0..3).map(|j| w[1][3 * k + j] * h[j]).sum::<f64>() + b[1][k]).collect();
            outer_add(&mut a[0], &[x_i[0], x_i[1], 1.0], &[x_i[0], x_i[1], 1.0], 1.0 / n as f64);
            let h1 = [h[0], h[1], h[2], 1.0];
            outer_add(&mut a[1], &h1, &h1, 1.0 / n as f64);
            // (probability of the label, ∂log p(label)/∂z) for every label.
            let per_label: Vec<(f64, Vec<f64>)> = if labels_out == 1 {
                let p = 1.0 / (1.0 + (-z[0]).exp());
                vec![(1.0 - p, vec![-p]), (p, vec![1.0 - p])]
            } else {
                let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
                let p: Vec<f64> = e.iter().map(|v| v / e.iter().sum::<f64>()).collect();
                (0..labels_out)
                    .map(|c| (p[c], (0..labels_out).map(|k| f64::from(u8::from(k == c)) - p[k]).collect()))
                    .collect()
            };
            for (p, dz) in per_label {
                let dh: Vec<f64> = (0..3)
                    .map(|j| (0..labels_out).map(|k| w[1][3 * k + j] * dz[k]).sum::<f64>() * (1.0 - h[j] * h[j]))
                    .collect();
                outer_add(&mut g[1], &dz, &dz, p / n as f64);
                outer_add(&mut g[0], &dh, &dh, p / n as f64);
            }
        }
        let [a0, a1] = a;
        let [g0, g1] = g;
        vec![(a0, g0), (a1, g1)]
    }

    fn assert_close(t: &Tensor, m: &Matrix) {
        let got = values(t);
        let want: Vec<f64> = m.iter().flatten().copied().collect();
        assert_eq!(got.len(), want.len());
        for (x, y) in got.iter().zip(&want) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }

    #[test]
    fn factors_are_the_input_and_pre_activation_gradient_second_moments() {
        for output in [Output::Bernoulli, Output::Categorical { classes: 3 }] {
            let model = model(output, 11);
            let kfac = Kfac::new(&model);
            for (layer, (a, g)) in kfac.layers().iter().zip(factors_by_hand(&model)) {
                assert_close(&layer.a, &a);
                assert_close(&layer.g, &g);
            }
        }
    }

    /// kron(A, G) built entry by entry: row (i·dim G + k), column (j·dim G + l)
    /// holds A[i][j]·G[k][l].
    fn kronecker(a: &Tensor, g: &Tensor) -> Tensor {
        let (na, ng) = (a.size()[0], g.size()[0]);
        let (av, gv) = (values(a), values(g));
        let mut m = vec![0.0; (na * ng * na * ng) as usize];
        for i in 0..na {
            for j in 0..na {
                for k in 0..ng {
                    for l in 0..ng {
                        let (row, col) = (i * ng + k, j * ng + l);
                        m[(row * na * ng + col) as usize] = av[(i * na + j) as usize] * gv[(k * ng + l) as usize];
                    }
                }
            }
        }
        Tensor::from_slice(&m).view([na * ng, na * ng])
    }

    #[test]
    fn the_solve_equals_the_explicit_inverse_of_the_factored_matrix() {
        let model = model(Output::Categorical { classes: 3 }, 12);
        let kfac = Kfac::new(&model);
        let grad = nll_gradient(&model);
        let damping = 0.05;
        let step = kfac.natural_gradient(&grad, damping).unwrap();
        let mut offset = 0;
        for layer in kfac.layers() {
            let (out, inp) = (layer.g.size()[0], layer.a.size()[0] - 1);
            let (a, g) = factored_damping(&layer.a, &layer.g, damping);
            // The damping really is split: the factors' traces moved by π√λ·dim and √λ/π·dim.
            let pi = ((layer.a.trace().double_value(&[]) / (inp + 1) as f64)
                / (layer.g.trace().double_value(&[]) / out as f64))
                .sqrt();
            assert!(
                ((a.trace() - layer.a.trace()).double_value(&[]) - pi * damping.sqrt() * (inp + 1) as f64).abs()
                    < 1e-12
            );
            assert!(((g.trace() - layer.g.trace()).double_value(&[]) - damping.sqrt() / pi * out as f64).abs() < 1e-12);
            // vec() stacks the columns of the [out, in + 1] block [W | b].
            let block = |flat: &Tensor| {
                let w = flat.narrow(0, offset, out * inp).view([out, inp]);
                Tensor::cat(&[w, flat.narrow(0, offset + out * inp, out).unsqueeze(1)], 1)
            };
            let vec = |m: &Tensor| m.tr().reshape([-1]);
            let explicit = kronecker(&a, &g).inverse().matmul(&vec(&block(&grad)));
            let err = (vec(&block(&step)) - &explicit).abs().max().double_value(&[]);
            assert!(err < 1e-10 * explicit.abs().max().double_value(&[]), "{err}");
            offset += out * (inp + 1);
        }
        assert_eq!(offset, grad.size()[0]);
    }

    #[test]
    fn refuses_bad_damping_and_singular_factors() {
        let model = model(Output::Bernoulli, 13);
        let kfac = Kfac::new(&model);
        let grad = nll_gradient(&model);
        assert!(matches!(kfac.natural_gradient(&grad, -1.0), Err(NgdError::BadDamping(_))));
        // With more hidden units than examples, the output layer's A (6×6,
        // from two examples) is singular: only damping makes it invertible.
        let mut rng = Rng::seed_from_u64(1);
        let wide = MlpClassifier::new(
            &Tensor::from_slice(&[0.5f64, -1.0, 2.0, 0.3]).view([2, 2]),
            &[0, 1],
            &[5],
            Output::Bernoulli,
            &mut rng,
        )
        .unwrap();
        let grad = nll_gradient(&wide);
        assert_eq!(Kfac::new(&wide).natural_gradient(&grad, 0.0), Err(NgdError::NotPositiveDefinite { damping: 0.0 }));
        assert!(Kfac::new(&wide).natural_gradient(&grad, 1e-3).is_ok());
    }
}
