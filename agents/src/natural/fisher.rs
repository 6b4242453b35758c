//! The Fisher information of a model with a likelihood, and the damped
//! natural-gradient step (F + λI)⁻¹g of Amari (1998), "Natural gradient works
//! efficiently in learning", Neural Computation 10(2).
//!
//! F = E_x E_{y ~ p(y|x,θ)}[∇log p(y|x,θ) ∇log p(y|x,θ)ᵀ] is the metric the
//! KL divergence between nearby predictive distributions induces:
//! KL(p_θ ‖ p_{θ+d}) ≈ ½ dᵀF d. The natural gradient F⁻¹g is the steepest
//! descent direction measured in that metric, so it does not depend on how
//! the model is parametrised. The variants here:
//! - exact: the expectation under the model's own predictive distribution,
//!   computed as the Hessian of the mean KL (the same double backprop TRPO
//!   uses for its Fisher-vector products);
//! - empirical: the mean outer product of the scores at the observed labels,
//!   which is not the Fisher and behaves differently away from the optimum
//!   (Kunstner, Balles and Hennig, 2019, "Limitations of the empirical Fisher
//!   approximation for natural gradient descent");
//! - diagonal: the diagonal of the exact Fisher.
//!
//! K-FAC, which needs the layer structure of an MLP, is in [`crate::kfac`].

use tch::{Kind, Tensor};

use crate::natural_gradient::{FisherVectorProduct, conjugate_gradient, flat_grad, flatten_grads};

/// A differentiable model p(y | x, θ) together with its data set.
pub trait Likelihood {
    /// The parameters θ, in the order of every flat vector here.
    fn parameters(&self) -> Vec<Tensor>;
    /// log p(y_i | x_i, θ) of each observed example: `[n]`, differentiable
    /// in θ.
    fn log_likelihoods(&self) -> Tensor;
    /// The mean over the inputs of KL(p(·|x_i, θ₀) ‖ p(·|x_i, θ)), with θ₀
    /// the current parameters held constant: zero with a zero gradient at θ₀,
    /// and its Hessian there is the exact Fisher.
    fn mean_kl_from_current(&self) -> Tensor;
}

/// The mean negative log-likelihood of the observed labels: the loss whose
/// natural gradient the functions here take.
pub fn negative_log_likelihood(model: &impl Likelihood) -> Tensor {
    -model.log_likelihoods().mean(None::<Kind>)
}

/// Which Fisher matrix a natural-gradient step uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fisher {
    Exact,
    Empirical,
    Diagonal,
}

/// How (F + λI)x = g is solved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Solve {
    /// Form F (d Fisher-vector products) and solve by Cholesky: models with
    /// up to a few thousand parameters.
    Direct,
    /// Conjugate gradient on Fisher-vector products; F is never formed.
    ConjugateGradient { max_iters: usize, residual_tol: f64 },
}

#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum NgdError {
    #[error("damping must be finite and >= 0, got {0}")]
    BadDamping(f64),
    #[error(
        "the damped Fisher F + {damping}·I is not positive definite, so the natural gradient is undefined \
         (the model's predictions are saturated or two parameters have the same effect); raise the damping"
    )]
    NotPositiveDefinite { damping: f64 },
    #[error(
        "the diagonal Fisher is inverted element by element, so conjugate gradient does not apply: use Solve::Direct"
    )]
    DiagonalNeedsDirect,
}

/// The exact Fisher as a `[d, d]` matrix: the Hessian of the mean KL at the
/// current parameters, one Fisher-vector product per column.
pub fn exact_fisher(model: &impl Likelihood) -> Tensor {
    let params = model.parameters();
    let fvp = FisherVectorProduct::new(&model.mean_kl_from_current(), &params, 0.0);
    symmetrize(&products_with_basis(&params, |e| fvp.apply(e)))
}

/// The scores ∇log p(y_i | x_i, θ) at the observed labels as the rows of an
/// `[n, d]` matrix (the Jacobian of the log-likelihoods).
pub fn scores(model: &impl Likelihood) -> Tensor {
    let params = model.parameters();
    let jacobian = ScoreJacobian::new(model.log_likelihoods(), &params);
    products_with_basis(&params, |e| jacobian.jvp(e))
}

/// The empirical Fisher as a `[d, d]` matrix: the mean of the score outer
/// products, SᵀS / n.
pub fn empirical_fisher(model: &impl Likelihood) -> Tensor {
    let s = scores(model);
    s.tr().matmul(&s) / s.size()[0] as f64
}

/// The diagonal of the exact Fisher, `[d]`.
pub fn fisher_diagonal(model: &impl Likelihood) -> Tensor {
    exact_fisher(model).diagonal(0, 0, 1)
}

/// The damped natural-gradient direction (F + λI)⁻¹g for the gradient `g`
/// (flat, in the order of `model.parameters()`) of whatever objective is
/// being minimised; a step is then θ ← θ − η·direction.
pub fn natural_gradient(
    model: &impl Likelihood,
    g: &Tensor,
    fisher: Fisher,
    damping: f64,
    solve: Solve,
) -> Result<Tensor, NgdError> {
    check_damping(damping)?;
    let g = g.detach();
    match (fisher, solve) {
        (Fisher::Diagonal, Solve::Direct) => {
            let d = fisher_diagonal(model) + damping;
            // A zero (or negative, from rounding) entry has no inverse.
            if d.min().double_value(&[]) <= 0.0 {
                return Err(NgdError::NotPositiveDefinite { damping });
            }
            Ok(g / d)
        }
        (Fisher::Diagonal, Solve::ConjugateGradient { .. }) => Err(NgdError::DiagonalNeedsDirect),
        (Fisher::Exact, Solve::Direct) => solve_damped(&exact_fisher(model), &g, damping),
        (Fisher::Empirical, Solve::Direct) => solve_damped(&empirical_fisher(model), &g, damping),
        (Fisher::Exact, Solve::ConjugateGradient { max_iters, residual_tol }) => {
            let fvp = FisherVectorProduct::new(&model.mean_kl_from_current(), &model.parameters(), damping);
            finite(conjugate_gradient(|v| fvp.apply(v), &g, max_iters, residual_tol).x, damping)
        }
        (Fisher::Empirical, Solve::ConjugateGradient { max_iters, residual_tol }) => {
            let fvp = EmpiricalFisherVectorProduct::new(model, damping);
            finite(conjugate_gradient(|v| fvp.apply(v), &g, max_iters, residual_tol).x, damping)
        }
    }
}

/// Damping λ must be finite and ≥ 0.
pub fn check_damping(damping: f64) -> Result<(), NgdError> {
    if damping.is_finite() && damping >= 0.0 { Ok(()) } else { Err(NgdError::BadDamping(damping)) }
}

/// Solves (F + λI)x = g by Cholesky, refusing when F + λI is not positive
/// definite.
pub fn solve_damped(f: &Tensor, g: &Tensor, damping: f64) -> Result<Tensor, NgdError> {
    let d = f.size()[0];
    let a = f + Tensor::eye(d, (f.kind(), f.device())) * damping;
    let l = cholesky(&a).ok_or(NgdError::NotPositiveDefinite { damping })?;
    finite(g.unsqueeze(1).cholesky_solve(&l, false).squeeze_dim(1), damping)
}

/// A solution with an infinite or NaN entry came from a matrix that was
/// singular in effect (conjugate gradient divides by pᵀ(F + λI)p).
pub(crate) fn finite(x: Tensor, damping: f64) -> Result<Tensor, NgdError> {
    if x.isfinite().all().int64_value(&[]) == 0 {
        return Err(NgdError::NotPositiveDefinite { damping });
    }
    Ok(x)
}

/// The Cholesky factor L of a symmetric matrix, `None` unless it is
/// positive definite with room to spare. A matrix that is singular in exact
/// arithmetic usually factors in floating point with a pivot at rounding
/// level, and then solves to a large, meaningless answer; so a pivot with
/// L_ii² ≤ d·ε·A_ii counts as singular too. The ratio L_ii²/A_ii is the part
/// of the i-th coordinate's curvature no earlier coordinate explains, and it
/// does not change when a parameter is rescaled.
pub fn cholesky(a: &Tensor) -> Option<Tensor> {
    let (l, info) = a.linalg_cholesky_ex(false, false);
    if info.int64_value(&[]) != 0 {
        return None;
    }
    let eps = if a.kind() == Kind::Double { f64::EPSILON } else { f32::EPSILON as f64 };
    let unexplained = (l.diagonal(0, 0, 1).square() / a.diagonal(0, 0, 1)).min().double_value(&[]);
    (unexplained.is_finite() && unexplained > a.size()[0] as f64 * eps).then_some(l)
}

/// Products with the Jacobian J (`[n, d]`) of a vector of per-example values
/// ℓ(θ), without forming J: Jᵀu is one backward pass, and Jv is the gradient
/// with respect to u of (Jᵀu)·v, a second one (the "double-vjp trick").
pub struct ScoreJacobian {
    values: Tensor,
    params: Vec<Tensor>,
    /// Jᵀu as a differentiable function of the dummy u.
    jt_u: Tensor,
    u: Tensor,
}

impl ScoreJacobian {
    pub fn new(values: Tensor, params: &[Tensor]) -> Self {
        tch::with_grad(|| {
            let u = values.zeros_like().detach().set_requires_grad(true);
            let jt_u = flat_grad(&(&values * &u).sum(values.kind()), params, true);
            Self { values, params: params.iter().map(Tensor::shallow_clone).collect(), jt_u, u }
        })
    }

    /// J·v: `[n]`.
    pub fn jvp(&self, v: &Tensor) -> Tensor {
        tch::with_grad(|| {
            let s = (&self.jt_u * v.detach()).sum(self.jt_u.kind());
            Tensor::run_backward(&[s], std::slice::from_ref(&self.u), true, false).remove(0)
        })
    }

    /// Jᵀ·u: `[d]`.
    pub fn vjp(&self, u: &Tensor) -> Tensor {
        tch::with_grad(|| {
            let s = (&self.values * u.detach()).sum(self.values.kind());
            flatten_grads(Tensor::run_backward(&[s], &self.params, true, false), &self.params)
        })
    }
}

/// (F_emp + λI)·v = Jᵀ(J v)/n + λv, with J the Jacobian of the
/// log-likelihoods: the empirical Fisher without forming it.
pub struct EmpiricalFisherVectorProduct {
    jacobian: ScoreJacobian,
    n: f64,
    damping: f64,
}

impl EmpiricalFisherVectorProduct {
    pub fn new(model: &impl Likelihood, damping: f64) -> Self {
        let values = model.log_likelihoods();
        let n = values.size()[0] as f64;
        Self { jacobian: ScoreJacobian::new(values, &model.parameters()), n, damping }
    }

    pub fn apply(&self, v: &Tensor) -> Tensor {
        let v = v.detach();
        self.jacobian.vjp(&self.jacobian.jvp(&v)) / self.n + v * self.damping
    }
}

/// The matrix whose j-th column is `product(e_j)`, for the basis vectors of
/// the flat parameter space: a linear map, formed one product at a time.
fn products_with_basis(params: &[Tensor], product: impl Fn(&Tensor) -> Tensor) -> Tensor {
    let d: i64 = params.iter().map(Tensor::numel).sum::<usize>() as i64;
    let eye = Tensor::eye(d, (params[0].kind(), params[0].device()));
    let columns: Vec<Tensor> = (0..d).map(|j| product(&eye.get(j))).collect();
    Tensor::stack(&columns, 1)
}

/// Rounding leaves a matrix built column by column slightly asymmetric;
/// Cholesky only reads one triangle, so make both agree.
fn symmetrize(m: &Tensor) -> Tensor {
    (m + m.tr()) * 0.5
}

#[cfg(test)]
mod tests {
    use natgrad_envs::Rng;
    use tch::Kind;

    use super::*;
    use crate::classifier::{MlpClassifier, Output, toy_problem};
    use crate::kfac::Kfac;

    /// The toy problem with the first feature multiplied by `scale`.
    fn toy(n: usize, seed: u64, scale: f64) -> (Tensor, Vec<i64>) {
        let (x, y) = toy_problem(n, seed);
        (x * Tensor::from_slice(&[scale, 1.0]), y)
    }

    fn logistic_at(theta: &[f64], x: &Tensor, y: &[i64]) -> MlpClassifier {
        let model = MlpClassifier::logistic_regression(x, y).unwrap();
        model.set_flat_parameters(&Tensor::from_slice(theta));
        model
    }

    /// A 2-4-3 tanh MLP with a categorical output, at random weights.
    fn small_mlp(seed: u64) -> MlpClassifier {
        let mut rng = Rng::seed_from_u64(seed);
        let x: Vec<f64> = (0..40).map(|_| rng.normal()).collect();
        let y: Vec<i64> = (0..20).map(|_| rng.below(3) as i64).collect();
        MlpClassifier::new(
            &Tensor::from_slice(&x).view([20, 2]),
            &y,
            &[4],
            Output::Categorical { classes: 3 },
            &mut rng,
        )
        .unwrap()
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    fn loss(model: &impl Likelihood) -> f64 {
        negative_log_likelihood(model).double_value(&[])
    }

    fn gradient(model: &impl Likelihood) -> Tensor {
        flat_grad(&negative_log_likelihood(model), &model.parameters(), false)
    }

    /// [x, 1]: the design matrix of logistic regression with a bias.
    fn with_bias(x: &Tensor) -> Tensor {
        Tensor::cat(&[x.shallow_clone(), x.ones_like().narrow(1, 0, 1)], 1)
    }

    #[test]
    fn exact_fisher_of_logistic_regression_is_the_closed_form() {
        let (x, y) = toy(50, 1, 1.0);
        let model = logistic_at(&[1.5, -0.7, 0.3], &x, &y);
        let p = model.probabilities();
        let xb = with_bias(&x);
        let closed = xb.tr().matmul(&(&xb * (&p * (p.ones_like() - &p)).unsqueeze(1))) / 50.0;
        assert!(max_abs_diff(&exact_fisher(&model), &closed) < 1e-12);
        assert!(max_abs_diff(&fisher_diagonal(&model), &closed.diagonal(0, 0, 1)) < 1e-12);
    }

    #[test]
    fn empirical_fisher_is_the_mean_score_outer_product() {
        let (x, y) = toy(30, 2, 1.0);
        let model = logistic_at(&[0.4, 2.0, -1.1], &x, &y);
        // Each score by its own backward pass, summed as outer products.
        let params = model.parameters();
        let mut sum = Tensor::zeros([3, 3], (Kind::Double, tch::Device::Cpu));
        for i in 0..30 {
            let s = flat_grad(&model.log_likelihoods().get(i), &params, false);
            sum += s.outer(&s);
        }
        let empirical = empirical_fisher(&model);
        assert!(max_abs_diff(&empirical, &(sum / 30.0)) < 1e-12);
        // And the closed form of the score, (y − p)·[x, 1].
        let residual = Tensor::from_slice(&y).to_kind(Kind::Double) - model.probabilities();
        let scores = with_bias(&x) * residual.unsqueeze(1);
        assert!(max_abs_diff(&empirical, &(scores.tr().matmul(&scores) / 30.0)) < 1e-12);
    }

    #[test]
    fn exact_fisher_of_an_mlp_is_the_expected_score_outer_product() {
        let model = small_mlp(3);
        let params = model.parameters();
        let forward = model.forward();
        let log_p = model.class_log_probs(&forward.logits);
        let p = log_p.exp().detach();
        let d = exact_fisher(&model).size()[0];
        let mut sum = Tensor::zeros([d, d], (Kind::Double, tch::Device::Cpu));
        for i in 0..20 {
            for c in 0..3 {
                let s = tch::with_grad(|| {
                    flatten_grads(Tensor::run_backward(&[log_p.get(i).get(c)], &params, true, false), &params)
                });
                sum += s.outer(&s) * p.get(i).get(c);
            }
        }
        assert!(max_abs_diff(&exact_fisher(&model), &(sum / 20.0)) < 1e-12);
    }

    #[test]
    fn every_variant_steps_downhill() {
        let (x, y) = toy(40, 4, 1.0);
        let cg = Solve::ConjugateGradient { max_iters: 50, residual_tol: 1e-20 };
        for theta in [[0.0, 0.0, 0.0], [3.0, -1.0, 0.5], [-2.0, 4.0, -1.0]] {
            let model = logistic_at(&theta, &x, &y);
            check_descent(&model, None);
        }
        check_descent(&small_mlp(5), None);
        for model in [logistic_at(&[1.0, 1.0, -1.0], &x, &y), small_mlp(6)] {
            let g = gradient(&model);
            for (fisher, solve) in [(Fisher::Exact, cg), (Fisher::Empirical, cg)] {
                check_descent(&model, Some(natural_gradient(&model, &g, fisher, 1e-3, solve).unwrap()));
            }
            check_descent(&model, Some(Kfac::new(&model).natural_gradient(&g, 1e-3).unwrap()));
        }
    }

    /// The gradient, and the direct natural gradients with every Fisher, or
    /// only `direction`, lower the loss for a small step.
    fn check_descent(model: &MlpClassifier, direction: Option<Tensor>) {
        let theta = model.flat_parameters();
        let g = gradient(model);
        let directions = match direction {
            Some(d) => vec![d],
            None => [Fisher::Exact, Fisher::Empirical, Fisher::Diagonal]
                .into_iter()
                .map(|f| natural_gradient(model, &g, f, 1e-3, Solve::Direct).unwrap())
                .chain([g.shallow_clone()])
                .collect(),
        };
        let before = loss(model);
        for d in directions {
            assert!(g.dot(&d).double_value(&[]) > 0.0, "not a descent direction");
            model.set_flat_parameters(&(&theta - d * 1e-3));
            assert!(loss(model) < before, "{} >= {before}", loss(model));
            model.set_flat_parameters(&theta);
        }
    }

    /// The predicted probabilities after each of `steps` steps of size `lr`.
    fn trajectory(model: &MlpClassifier, steps: usize, lr: f64, fisher: Option<Fisher>) -> Vec<Tensor> {
        (0..steps)
            .map(|_| {
                let g = gradient(model);
                let d = match fisher {
                    Some(f) => natural_gradient(model, &g, f, 0.0, Solve::Direct).unwrap(),
                    None => g,
                };
                model.set_flat_parameters(&(model.flat_parameters() - d * lr));
                model.probabilities()
            })
            .collect()
    }

    #[test]
    fn natural_gradient_descent_does_not_see_a_rescaled_feature_but_gradient_descent_does() {
        let (x, y) = toy(100, 7, 1.0);
        let (scaled, _) = toy(100, 7, 10.0);
        let fit = |x: &Tensor, fisher| trajectory(&MlpClassifier::logistic_regression(x, &y).unwrap(), 10, 0.5, fisher);
        let largest_gap =
            |a: Vec<Tensor>, b: Vec<Tensor>| a.iter().zip(&b).map(|(a, b)| max_abs_diff(a, b)).fold(0.0, f64::max);
        let ngd = largest_gap(fit(&x, Some(Fisher::Exact)), fit(&scaled, Some(Fisher::Exact)));
        assert!(ngd < 1e-6, "NGD changed by {ngd}");
        let gd = largest_gap(fit(&x, None), fit(&scaled, None));
        assert!(gd > 1e-2, "GD changed by only {gd}");
    }

    #[test]
    fn conjugate_gradient_agrees_with_the_direct_solve() {
        let model = small_mlp(8);
        let g = gradient(&model);
        let d = g.size()[0] as usize;
        let cg = Solve::ConjugateGradient { max_iters: 4 * d, residual_tol: 1e-28 };
        for fisher in [Fisher::Exact, Fisher::Empirical] {
            let direct = natural_gradient(&model, &g, fisher, 1e-2, Solve::Direct).unwrap();
            let iterative = natural_gradient(&model, &g, fisher, 1e-2, cg).unwrap();
            let err = (&direct - &iterative).norm().double_value(&[]) / direct.norm().double_value(&[]);
            assert!(err < 1e-8, "{fisher:?}: {err}");
        }
    }

    #[test]
    fn bad_requests_are_refused() {
        let (x, y) = toy(20, 9, 1.0);
        let model = logistic_at(&[0.1, 0.2, 0.3], &x, &y);
        let g = gradient(&model);
        for bad in [-1e-3, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                natural_gradient(&model, &g, Fisher::Exact, bad, Solve::Direct),
                Err(NgdError::BadDamping(_))
            ));
        }
        let cg = Solve::ConjugateGradient { max_iters: 10, residual_tol: 1e-10 };
        assert_eq!(natural_gradient(&model, &g, Fisher::Diagonal, 0.0, cg), Err(NgdError::DiagonalNeedsDirect));
        // Two identical features have the same effect: F is singular.
        let twice = Tensor::cat(&[x.narrow(1, 0, 1), x.narrow(1, 0, 1)], 1);
        let model = logistic_at(&[0.1, 0.2, 0.3], &twice, &y);
        let g = gradient(&model);
        for fisher in [Fisher::Exact, Fisher::Empirical] {
            assert_eq!(
                natural_gradient(&model, &g, fisher, 0.0, Solve::Direct),
                Err(NgdError::NotPositiveDefinite { damping: 0.0 })
            );
            assert!(natural_gradient(&model, &g, fisher, 1e-3, Solve::Direct).is_ok());
        }
    }

    #[test]
    fn the_singularity_check_ignores_the_parameters_scales() {
        let a = Tensor::from_slice(&[2.0f64, 0.5, 0.5, 1.0]).view([2, 2]);
        // Parameters whose scales differ by 10⁸, as a feature rescaled by 10⁴ would give.
        let d = Tensor::from_slice(&[1e4f64, 1e-4]);
        let rescale = |m: &Tensor| m * d.unsqueeze(1) * d.unsqueeze(0);
        assert!(cholesky(&a).is_some());
        assert!(cholesky(&rescale(&a)).is_some(), "a rescaled healthy matrix was called singular");
        // Singular up to rounding, rescaled or not.
        let singular = Tensor::from_slice(&[1.0f64, 1.0, 1.0, 1.0 + f64::EPSILON]).view([2, 2]);
        assert!(cholesky(&singular).is_none());
        assert!(cholesky(&rescale(&singular)).is_none());
    }

    /// The example of docs/natural-gradient.md, which needs torch and so
    /// runs here rather than among natgrad-envs's doctests.
    #[test]
    fn the_guide_example_runs() -> Result<(), Box<dyn std::error::Error>> {
        let (inputs, labels) = toy(100, 0, 1.0);
        let model = MlpClassifier::logistic_regression(&inputs, &labels)?;
        let start = loss(&model);
        for _ in 0..10 {
            let g = flat_grad(&negative_log_likelihood(&model), &model.parameters(), false);
            let step = natural_gradient(&model, &g, Fisher::Exact, 1e-3, Solve::Direct)?;
            model.set_flat_parameters(&(model.flat_parameters() - step));
        }
        assert!(loss(&model) < 0.1 * start, "{} from {start}", loss(&model));
        Ok(())
    }
}
