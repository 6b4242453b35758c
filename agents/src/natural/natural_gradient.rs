//! The natural-gradient core shared by TRPO and NPG: flat parameter vectors,
//! the Fisher-vector product, conjugate gradient, the trust-region step size
//! and the backtracking line search (Schulman et al., 2015, "Trust region
//! policy optimization", Appendix C; Kakade, 2001, "A natural policy gradient").

use tch::Tensor;

/// The parameters as one flat vector (a copy, outside the graph).
pub fn flat_params(params: &[Tensor]) -> Tensor {
    tch::no_grad(|| Tensor::cat(&params.iter().map(|p| p.detach().reshape([-1])).collect::<Vec<_>>(), 0))
}

/// Writes a flat vector back into the parameters, exactly (a copy per tensor).
pub fn set_flat_params(params: &[Tensor], flat: &Tensor) {
    tch::no_grad(|| {
        let mut offset = 0;
        for p in params {
            let n = p.numel() as i64;
            let mut p = p.shallow_clone();
            p.copy_(&flat.narrow(0, offset, n).view_as(&p));
            offset += n;
        }
        assert_eq!(offset, flat.size()[0], "flat vector of the wrong length");
    })
}

/// ∂y/∂params as one flat vector. `create_graph` keeps the result
/// differentiable, for a second backward pass through it.
pub fn flat_grad(y: &Tensor, params: &[Tensor], create_graph: bool) -> Tensor {
    flatten_grads(Tensor::run_backward(&[y], params, create_graph, create_graph), params)
}

/// Concatenates per-parameter gradients; libtorch leaves the gradient of a
/// parameter that `y` does not depend on undefined, which is a zero.
pub(crate) fn flatten_grads(grads: Vec<Tensor>, params: &[Tensor]) -> Tensor {
    let flat: Vec<Tensor> = grads
        .iter()
        .zip(params)
        .map(|(g, p)| if g.defined() { g.reshape([-1]) } else { p.zeros_like().reshape([-1]) })
        .collect();
    Tensor::cat(&flat, 0)
}

/// A product with the damped Fisher, (F + λI)·v, however it is computed.
pub trait FisherProduct {
    fn apply(&self, v: &Tensor) -> Tensor;
}

/// F·v + damping·v, where F is the Fisher information of the policy at θ_old:
/// the Hessian of the mean KL(π_old ‖ π_θ) at θ = θ_old (π_old detached).
/// The first derivative g = ∇θ KL is built once, with its graph; each product
/// is then one backward pass through gᵀv (Pearlmutter's trick).
pub struct FisherVectorProduct {
    params: Vec<Tensor>,
    grad_kl: Tensor,
    damping: f64,
}

impl FisherVectorProduct {
    /// `mean_kl` is the mean KL(π_old ‖ π_θ) over the (possibly subsampled)
    /// batch, computed from `params`.
    pub fn new(mean_kl: &Tensor, params: &[Tensor], damping: f64) -> Self {
        let grad_kl = flat_grad(mean_kl, params, true);
        Self { params: params.iter().map(Tensor::shallow_clone).collect(), grad_kl, damping }
    }

    /// (F + damping·I)·v. Works inside `no_grad` too: the product gᵀv must be
    /// recorded for the backward pass, so grad mode is forced for it.
    pub fn apply(&self, v: &Tensor) -> Tensor {
        let v = v.detach();
        let fv = tch::with_grad(|| {
            let gv = (&self.grad_kl * &v).sum(self.grad_kl.kind());
            flatten_grads(Tensor::run_backward(&[gv], &self.params, true, false), &self.params)
        });
        fv + v * self.damping
    }
}

impl FisherProduct for FisherVectorProduct {
    fn apply(&self, v: &Tensor) -> Tensor {
        FisherVectorProduct::apply(self, v)
    }
}

/// What conjugate gradient returns.
#[derive(Debug)]
pub struct CgSolution {
    /// The approximate solution x of A·x = b.
    pub x: Tensor,
    /// Iterations (products with A) used.
    pub iterations: usize,
    /// ‖b − A·x‖ at the end.
    pub residual_norm: f64,
}

/// Solves A·x = b for symmetric positive-definite A, given only products A·v,
/// starting from x = 0. Stops after `max_iters` iterations, or once the
/// squared residual norm falls below `residual_tol` (the references' 1e-10).
pub fn conjugate_gradient(
    mut apply: impl FnMut(&Tensor) -> Tensor,
    b: &Tensor,
    max_iters: usize,
    residual_tol: f64,
) -> CgSolution {
    let b = b.detach();
    let mut x = b.zeros_like();
    let mut r = b.copy();
    let mut p = b.copy();
    let mut rr = r.dot(&r).double_value(&[]);
    let mut iterations = 0;
    while iterations < max_iters && rr >= residual_tol {
        let ap = apply(&p).detach();
        let alpha = rr / p.dot(&ap).double_value(&[]);
        x += &p * alpha;
        r -= &ap * alpha;
        let rr_new = r.dot(&r).double_value(&[]);
        p = &r + &p * (rr_new / rr);
        rr = rr_new;
        iterations += 1;
    }
    CgSolution { x, iterations, residual_norm: rr.sqrt() }
}

/// The largest step along direction s that keeps the quadratic model of the
/// KL at δ: β = sqrt(2δ / sᵀFs). `None` when sᵀFs is not positive and finite
/// (the update must then be skipped, never applied).
pub fn max_step_size(s_f_s: f64, max_kl: f64) -> Option<f64> {
    (s_f_s.is_finite() && s_f_s > 0.0).then(|| (2.0 * max_kl / s_f_s).sqrt())
}

/// What the line search did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineSearchResult {
    pub accepted: bool,
    /// Backtracking steps taken before acceptance (0: the full step), or all of
    /// them on failure.
    pub backtracks: usize,
    /// The fraction of the full step applied (0 on failure).
    pub step_fraction: f64,
    /// Surrogate and mean KL at the accepted point (at the last tried point on
    /// failure).
    pub surrogate: f64,
    pub kl: f64,
}

/// Tries θ_old + shrinkᵏ·full_step for k = 0, 1, ..., `max_backtracks` − 1 and
/// keeps the first whose mean KL is at most `max_kl` and whose surrogate
/// improved on `surrogate_before`. `evaluate` returns (surrogate, mean KL) at
/// the parameters currently set. On failure θ_old is restored bit for bit.
pub fn backtracking_line_search(
    params: &[Tensor],
    full_step: &Tensor,
    surrogate_before: f64,
    max_kl: f64,
    shrink: f64,
    max_backtracks: usize,
    mut evaluate: impl FnMut() -> (f64, f64),
) -> LineSearchResult {
    let old = flat_params(params);
    let mut last = (surrogate_before, 0.0);
    for k in 0..max_backtracks {
        let fraction = shrink.powi(k as i32);
        set_flat_params(params, &(&old + full_step * fraction));
        let (surrogate, kl) = evaluate();
        last = (surrogate, kl);
        if kl.is_finite() && kl <= max_kl && surrogate > surrogate_before {
            return LineSearchResult { accepted: true, backtracks: k, step_fraction: fraction, surrogate, kl };
        }
    }
    set_flat_params(params, &old);
    LineSearchResult { accepted: false, backtracks: max_backtracks, step_fraction: 0.0, surrogate: last.0, kl: last.1 }
}

#[cfg(test)]
mod tests {
    use natgrad_envs::{BoxSpace, Space};
    use tch::{Device, Kind, Tensor};

    use super::*;
    use crate::generator::{rand, randn, seeded};
    use crate::policy::{Policy, Sde};

    fn to_vec(t: &Tensor) -> Vec<f64> {
        Vec::<f64>::try_from(&t.to_kind(Kind::Double).reshape([-1])).unwrap()
    }

    fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
        let (a, b) = (a.to_kind(Kind::Double), b.to_kind(Kind::Double));
        (&a - &b).norm().double_value(&[]) / b.norm().double_value(&[])
    }

    #[test]
    fn conjugate_gradient_solves_random_spd_systems() {
        for n in [1i64, 5, 20] {
            let m = randn(n, &[n, n], (Kind::Double, Device::Cpu));
            let a = m.matmul(&m.tr()) + Tensor::eye(n, (Kind::Double, Device::Cpu)) * 0.5;
            let b = randn(-n, &[n], (Kind::Double, Device::Cpu));
            let sol = conjugate_gradient(|v| a.mv(v), &b, 10 * n as usize, 1e-20);
            let direct = Tensor::linalg_solve(&a, &b, true);
            assert!(rel_err(&sol.x, &direct) < 1e-8, "n={n}: {}", rel_err(&sol.x, &direct));
            assert!(sol.residual_norm < 1e-9, "residual {}", sol.residual_norm);
            let true_residual = (&b - a.mv(&sol.x)).norm().double_value(&[]);
            assert!((true_residual - sol.residual_norm).abs() < 1e-8);
        }
    }

    #[test]
    fn conjugate_gradient_respects_its_budget_and_reports_it() {
        let m = randn(1, &[30, 30], (Kind::Double, Device::Cpu));
        let a = m.matmul(&m.tr()) + Tensor::eye(30, (Kind::Double, Device::Cpu)) * 0.1;
        let b = randn(2, &[30], (Kind::Double, Device::Cpu));
        let sol = conjugate_gradient(|v| a.mv(v), &b, 3, 1e-20);
        assert_eq!(sol.iterations, 3);
        let residual = (&b - a.mv(&sol.x)).norm().double_value(&[]);
        assert!((residual - sol.residual_norm).abs() < 1e-8 * residual.max(1.0));
        assert!(residual > 1e-6, "3 iterations cannot solve a 30x30 system");
        // A zero right-hand side is solved by x = 0 without iterating.
        let zero = conjugate_gradient(|v| a.mv(v), &b.zeros_like(), 10, 1e-10);
        assert_eq!(zero.iterations, 0);
    }

    fn small_policy(space: &Space, kind: Kind) -> Policy {
        small_policy_with(space, kind, None)
    }

    fn small_policy_with(space: &Space, kind: Kind, sde: Option<Sde>) -> Policy {
        seeded(3, || {
            let mut p = Policy::new(3, space, &[5], -0.3, sde, Device::Cpu).unwrap();
            p.var_store_mut().set_kind(kind);
            // Bigger output weights than the 0.01 init, so the Fisher is not tiny.
            tch::no_grad(|| {
                for v in p.parameters() {
                    let mut v = v;
                    let noise = v.randn_like() * 0.5;
                    v += noise;
                }
            });
            p
        })
    }

    fn fvp_of(policy: &Policy, obs: &Tensor, v: &Tensor, damping: f64) -> Tensor {
        let params = policy.parameters();
        let old = policy.dist(obs).detach();
        let kl = old.kl(&policy.dist(obs)).mean(None::<Kind>);
        FisherVectorProduct::new(&kl, &params, damping).apply(v)
    }

    /// Every action of a space of integers, each as a batch of one in the
    /// form `log_prob` takes: `[1]` indices, `[1, k]` index vectors, `[1, n]`
    /// bits as floats of `kind`.
    fn every_action(space: &Space, kind: Kind) -> Vec<Tensor> {
        let nvec = space.nvec().expect("a space of integers");
        let mut joint: Vec<Vec<i64>> = vec![vec![]];
        for n in &nvec {
            joint =
                joint.iter().flat_map(|head| (0..*n as i64).map(move |a| [head.clone(), vec![a]].concat())).collect();
        }
        joint
            .iter()
            .map(|a| match space {
                Space::Discrete { .. } => Tensor::from_slice(a),
                Space::MultiDiscrete { .. } => Tensor::from_slice(a).view([1, -1]),
                _ => Tensor::from_slice(a).view([1, -1]).to_kind(kind),
            })
            .collect()
    }

    /// E_s Σ_a π(a|s) ∇log π(a|s) ∇log π(a|s)ᵀ, one gradient per (s, a), the
    /// sum over every joint action: the Fisher by its definition, whatever
    /// structure the distribution has.
    fn explicit_discrete_fisher(policy: &Policy, obs: &Tensor, space: &Space) -> Tensor {
        let params = policy.parameters();
        let b = obs.size()[0];
        let dim = flat_params(&params).size()[0];
        let mut f = Tensor::zeros([dim, dim], (Kind::Double, Device::Cpu));
        let actions = every_action(space, obs.kind());
        let mut total_probability = 0.0;
        for s in 0..b {
            let o = obs.narrow(0, s, 1);
            for a in &actions {
                let dist = policy.dist(&o);
                let logp = dist.log_prob(a);
                let p = logp.exp().double_value(&[0]);
                total_probability += p;
                let g = flat_grad(&logp.sum(logp.kind()), &params, false).to_kind(Kind::Double);
                f += g.outer(&g) * p;
            }
        }
        // Every action, each once: the probabilities of each state sum to 1.
        assert!((total_probability / b as f64 - 1.0).abs() < 1e-5, "{space}: {total_probability}");
        f / b as f64
    }

    /// E_s Jᵀ M J with J the Jacobian of (mean, log_std) in θ and M the Fisher
    /// of a diagonal Gaussian in those coordinates: diag(1/σ²) and 2·I. The
    /// log-std may depend on the state (gSDE): it is taken per state.
    fn explicit_gaussian_fisher(policy: &Policy, obs: &Tensor) -> Tensor {
        let params = policy.parameters();
        let b = obs.size()[0];
        let dim = flat_params(&params).size()[0];
        let mut f = Tensor::zeros([dim, dim], (Kind::Double, Device::Cpu));
        let gaussian = |s: i64| match policy.dist(&obs.narrow(0, s, 1)) {
            crate::distributions::ActionDist::DiagGaussian { mean, log_std } => (mean, log_std),
            _ => unreachable!(),
        };
        for s in 0..b {
            for d in 0..gaussian(s).0.size()[1] {
                // A fresh forward pass per derivative: each backward frees its graph.
                let (mean, _) = gaussian(s);
                let gm = flat_grad(&mean.select(1, d).sum(mean.kind()), &params, false).to_kind(Kind::Double);
                let (_, log_std) = gaussian(s);
                let log_std = log_std.reshape([-1]);
                let var = (log_std.double_value(&[d]) * 2.0).exp();
                let gs = flat_grad(&log_std.select(0, d), &params, false).to_kind(Kind::Double);
                f += gm.outer(&gm) / var + gs.outer(&gs) * 2.0;
            }
        }
        f / b as f64
    }

    fn check_fvp(space: &Space, kind: Kind, tolerance: f64) {
        check_fvp_of(small_policy(space, kind), space, kind, tolerance);
    }

    /// (F + λI)v through the mean KL against the explicit Fisher, with and
    /// without damping.
    fn check_fvp_of(policy: Policy, space: &Space, kind: Kind, tolerance: f64) {
        let obs = randn(4, &[6, 3], (kind, Device::Cpu));
        let f = match space {
            Space::Box(_) => explicit_gaussian_fisher(&policy, &obs),
            _ => explicit_discrete_fisher(&policy, &obs, space),
        };
        for (trial, damping) in [0.0, 0.0, 0.1].into_iter().enumerate() {
            let v = randn(5 + trial as i64, &[f.size()[0]], (kind, Device::Cpu));
            let fv = fvp_of(&policy, &obs, &v, damping);
            let explicit = f.mv(&v.to_kind(Kind::Double)) + v.to_kind(Kind::Double) * damping;
            let err = rel_err(&fv, &explicit);
            assert!(err <= tolerance, "{space} {kind:?} trial {trial} damping {damping}: relative error {err}");
        }
    }

    fn gaussian_space() -> Space {
        Space::Box(BoxSpace::new(vec![-1.0, -1.0], vec![1.0, 1.0]))
    }

    #[test]
    fn fisher_vector_product_equals_the_explicit_categorical_fisher() {
        check_fvp(&Space::Discrete { n: 3 }, Kind::Float, 1e-4);
        check_fvp(&Space::Discrete { n: 3 }, Kind::Double, 1e-10);
    }

    #[test]
    fn fisher_vector_product_equals_the_explicit_multi_categorical_fisher() {
        // A component with one value has no curvature of its own: it must add none.
        let space = Space::MultiDiscrete { nvec: vec![3, 1, 2] };
        check_fvp(&space, Kind::Float, 1e-4);
        check_fvp(&space, Kind::Double, 1e-10);
    }

    #[test]
    fn fisher_vector_product_equals_the_explicit_bernoulli_fisher() {
        check_fvp(&Space::MultiBinary { n: 3 }, Kind::Float, 1e-4);
        check_fvp(&Space::MultiBinary { n: 3 }, Kind::Double, 1e-10);
    }

    /// Sets `policy`'s parameters to `initial` plus noise drawn with `seed`,
    /// with the CNN's biases at 1 so that most of its ReLUs are alive.
    fn perturb_keeping_cnn_biases_positive(policy: &Policy, initial: &[Tensor], seed: i64) {
        seeded(seed, || {
            tch::no_grad(|| {
                for (mut v, start) in policy.parameters().into_iter().zip(initial) {
                    let noise = start.randn_like() * 0.5;
                    v.copy_(&(start + noise));
                }
                for (name, mut v) in policy.var_store().variables() {
                    if name.contains("cnn") && name.ends_with("bias") {
                        let _ = v.fill_(1.0);
                    }
                }
            })
        });
    }

    /// A policy whose observations are 6x6 two-channel images through a small
    /// CNN (2 filters 3x3 stride 2, 2 filters 2x2, 3 features): the exact
    /// Fisher-vector product through the convolutions, against the Fisher by
    /// its definition, with and without damping.
    #[test]
    fn fisher_vector_product_equals_the_explicit_fisher_through_a_cnn() {
        use crate::cnn::{ImageShape, Input};
        let shape = ImageShape { channels: 2, height: 6, width: 6, channels_last: true };
        for (space, tolerance) in [(Space::Discrete { n: 3 }, 1e-10), (gaussian_space(), 1e-10)] {
            let mut p = seeded(3, || {
                Policy::with_cnn(Input::Image(shape), &[(2, 3, 2), (2, 2, 1)], 3, &space, &[4], -0.3, None, Device::Cpu)
                    .unwrap()
            });
            p.var_store_mut().set_kind(Kind::Double);
            assert!(p.has_cnn());
            let initial: Vec<Tensor> = p.parameters().iter().map(|v| v.detach().copy()).collect();
            // The convolutions' parameters come first and must carry curvature, or
            // the comparison would not reach them. A draw may leave every unit of
            // a layer dead on all six observations: draw again from the same
            // start, with the next seeds, a few times before failing.
            let conv = p.parameters()[0].numel() as i64;
            let mut drawn = None;
            for attempt in 0..10 {
                perturb_keeping_cnn_biases_positive(&p, &initial, 10 + attempt);
                let obs = (rand(20 + attempt, &[6, 72], (Kind::Double, Device::Cpu)) * 255.0).floor();
                let f = match &space {
                    Space::Box(_) => explicit_gaussian_fisher(&p, &obs),
                    _ => explicit_discrete_fisher(&p, &obs, &space),
                };
                if f.narrow(0, 0, conv).abs().sum(Kind::Double).double_value(&[]) > 0.0 {
                    drawn = Some((obs, f));
                    break;
                }
            }
            let (obs, f) = drawn.unwrap_or_else(|| panic!("{space}: no draw of ten gave the convolutions curvature"));
            for damping in [0.0, 0.1] {
                let v = randn(30, &[f.size()[0]], (Kind::Double, Device::Cpu));
                let err = rel_err(&fvp_of(&p, &obs, &v, damping), &(f.mv(&v) + &v * damping));
                assert!(err <= tolerance, "{space} damping {damping}: {err}");
            }
        }
    }

    #[test]
    fn fisher_vector_product_equals_the_explicit_gaussian_fisher() {
        check_fvp(&gaussian_space(), Kind::Float, 1e-4);
        check_fvp(&gaussian_space(), Kind::Double, 1e-10);
    }

    #[test]
    fn fisher_vector_product_equals_the_explicit_gsde_fisher() {
        for full_std in [true, false] {
            for use_expln in [false, true] {
                for learn_features in [false, true] {
                    let sde = Some(Sde { full_std, use_expln, learn_features });
                    for (kind, tolerance) in [(Kind::Float, 1e-4), (Kind::Double, 1e-10)] {
                        let policy = small_policy_with(&gaussian_space(), kind, sde);
                        check_fvp_of(policy, &gaussian_space(), kind, tolerance);
                    }
                }
            }
        }
    }

    /// A small categorical policy's parameters and its mean KL from itself
    /// over a few random states.
    fn categorical_mean_kl() -> (Vec<Tensor>, Tensor) {
        let policy = small_policy(&Space::Discrete { n: 3 }, Kind::Double);
        let obs = randn(40, &[4, 3], (Kind::Double, Device::Cpu));
        let old = policy.dist(&obs).detach();
        let kl = old.kl(&policy.dist(&obs)).mean(None::<Kind>);
        (policy.parameters(), kl)
    }

    #[test]
    fn fisher_vector_product_adds_damping_and_is_reusable() {
        let (params, kl) = categorical_mean_kl();
        let undamped = FisherVectorProduct::new(&kl, &params, 0.0);
        let damped = FisherVectorProduct::new(&kl, &params, 0.1);
        let v = randn(41, &[flat_params(&params).size()[0]], (Kind::Double, Device::Cpu));
        let first = undamped.apply(&v);
        // The graph of ∇KL survives repeated products.
        assert!(rel_err(&undamped.apply(&v), &first) < 1e-15);
        assert!(rel_err(&damped.apply(&v), &(&first + &v * 0.1)) < 1e-12);
    }

    #[test]
    fn fisher_vector_product_works_inside_no_grad_and_conjugate_gradient() {
        let (params, kl) = categorical_mean_kl();
        let fvp = FisherVectorProduct::new(&kl, &params, 0.1);
        let v = randn(41, &[flat_params(&params).size()[0]], (Kind::Double, Device::Cpu));
        let outside = fvp.apply(&v);
        let inside = tch::no_grad(|| fvp.apply(&v));
        assert!(rel_err(&inside, &outside) < 1e-15);
        // CG on the damped Fisher reproduces a vector it was given F·x for.
        let sol = conjugate_gradient(|p| fvp.apply(p), &outside, 200, 1e-28);
        assert!(rel_err(&sol.x, &v) < 1e-6, "{}", rel_err(&sol.x, &v));
    }

    #[test]
    fn max_step_size_fills_the_trust_region_and_refuses_bad_curvature() {
        let beta = max_step_size(4.0, 0.01).unwrap();
        assert!((0.5 * beta * beta * 4.0 - 0.01).abs() < 1e-15);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(max_step_size(bad, 0.01), None, "{bad}");
        }
    }

    #[test]
    fn flat_params_round_trip() {
        let policy = small_policy(&gaussian_space(), Kind::Float);
        let params = policy.parameters();
        let flat = flat_params(&params);
        set_flat_params(&params, &(&flat * 2.0));
        assert_eq!(to_vec(&flat_params(&params)), to_vec(&(&flat * 2.0)));
        set_flat_params(&params, &flat);
        assert_eq!(to_vec(&flat_params(&params)), to_vec(&flat));
    }

    #[test]
    fn line_search_accepts_the_first_good_step_and_restores_exactly_on_failure() {
        let x = Tensor::from_slice(&[1.0f64, -2.0]).set_requires_grad(true);
        let params = [x.shallow_clone()];
        let step = Tensor::from_slice(&[-1.0f64, 2.0]);
        // Surrogate −‖x‖² improves toward 0; "KL" is ‖x − x_old‖².
        let eval = |p: &Tensor| {
            let surrogate = -p.square().sum(Kind::Double).double_value(&[]);
            let kl = (p - Tensor::from_slice(&[1.0f64, -2.0])).square().sum(Kind::Double).double_value(&[]);
            (surrogate, kl)
        };
        let before = eval(&x).0;
        // The full step moves ‖Δ‖² = 5 > 1.5; 0.5 of it moves 1.25.
        let result = backtracking_line_search(&params, &step, before, 1.5, 0.5, 10, || eval(&x));
        assert!(result.accepted);
        assert_eq!(result.backtracks, 1);
        assert_eq!(result.step_fraction, 0.5);
        assert_eq!(to_vec(&x), vec![0.5, -1.0]);

        let x_before = to_vec(&x);
        let failed = backtracking_line_search(&params, &step, before, 1e-9, 0.5, 4, || eval(&x));
        assert!(!failed.accepted);
        assert_eq!(failed.backtracks, 4);
        assert_eq!(to_vec(&x), x_before);
        assert_eq!(
            to_vec(&x).iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            x_before.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}
