//! The learner's two inner loops, each two ways, one thread:
//! - one exact Fisher-vector product: J ᵀM J by hand (`fvp = jacobian`, the
//!   default) and a backward pass through the gradient of the mean KL (`fvp
//!   = double_backprop`), on the policies of natgrad's classic presets at
//!   zoo's batch of 1,024 states;
//! - one critic minibatch step (512 states, Adam): the flat, hand-written
//!   forward and backward pass against an autograd graph and Adam per
//!   parameter tensor (the implementation before it).
//!
//! Each against its arithmetic floor at the rate this core attains on a
//! [1024x64]x[64x64] product.
//!
//! `cargo bench -p natgrad-agents --bench learner_kernels [-- --batch N] [--width W]`

use std::time::Instant;

use natgrad_agents::jacobian_fvp::JacobianFisherProduct;
use natgrad_agents::natural_gradient::{FisherProduct, FisherVectorProduct};
use natgrad_agents::nn::FlatMlp;
use natgrad_agents::optim::Adam;
use natgrad_agents::policy::{Policy, Sde};
use natgrad_agents::value::ValueFunction;
use natgrad_envs::{BoxSpace, Space};
use tch::{Device, Kind, Tensor};

fn arg(args: &[String], name: &str, default: i64) -> i64 {
    args.iter()
        .position(|a| a == name)
        .map(|i| args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name} needs a number")))
        .unwrap_or(default)
}

/// Milliseconds per call of `f`, the median of 7 rounds of `reps` calls
/// after a round of warm-up (the first hundred products of a process run
/// half as fast again).
fn median_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..reps {
        f();
    }
    let mut rounds: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..reps {
                f();
            }
            start.elapsed().as_secs_f64() * 1e3 / reps as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[3]
}

fn attainable_gflops() -> f64 {
    let a = Tensor::randn([1024, 64], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([64, 64], (Kind::Float, Device::Cpu));
    2.0 * 1024.0 * 64.0 * 64.0 / (median_ms(500, || drop(a.matmul(&b))) * 1e-3) / 1e9
}

/// Milliseconds for `products` matrix products per layer of an MLP of
/// `sizes` over `batch` rows (a multiply-add counts two) at `rate` GFLOP/s.
fn floor_ms(sizes: &[i64], products: i64, batch: i64, rate: f64) -> f64 {
    let flops: i64 = sizes.windows(2).map(|w| products * 2 * batch * w[0] * w[1]).sum();
    flops as f64 / (rate * 1e9) * 1e3
}

/// One critic minibatch step both ways on [obs_dim, width, width, 1].
fn critic_step(obs_dim: i64, width: i64, batch: i64, rate: f64) {
    let obs = Tensor::randn([batch, obs_dim], (Kind::Float, Device::Cpu));
    let targets = Tensor::randn([batch], (Kind::Float, Device::Cpu));
    let mut autograd = ValueFunction::new(obs_dim as usize, &[width, width], 1e-3, 1e-5, Device::Cpu).unwrap();
    let t_autograd = median_ms(50, || {
        let loss = (autograd.forward(&obs) - &targets).square().mean(None::<Kind>);
        autograd.optimizer.minimize(&loss);
    });
    let value = ValueFunction::new(obs_dim as usize, &[width, width], 1e-3, 1e-5, Device::Cpu).unwrap();
    let mut flat = FlatMlp::of(value.network());
    let mut adam = Adam::with_eps(value.parameters(), 1e-3, 1e-5);
    let t_gradient = median_ms(50, || drop(flat.squared_error_gradient(&obs, &targets)));
    let grad = flat.squared_error_gradient(&obs, &targets).1;
    let t_adam = median_ms(50, || adam.step_flat(&mut flat.params, &grad));
    let t_flat = median_ms(50, || {
        let (_, grad) = flat.squared_error_gradient(&obs, &targets);
        adam.step_flat(&mut flat.params, &grad);
    });
    // Forward, the weights' gradient and the inputs' gradient.
    let floor = floor_ms(&[obs_dim, width, width, 1], 3, batch, rate);
    println!(
        "| critic step, {obs_dim} -> {width}x{width} -> 1, {batch} states | {t_autograd:.3} | {t_flat:.3} (gradient {t_gradient:.3}, Adam {t_adam:.3}) | {:.1}x | {floor:.3} | {:.1}x |",
        t_autograd / t_flat,
        t_flat / floor
    );
}

fn main() {
    natgrad_agents::allocator::keep_freed_memory();
    let args: Vec<String> = std::env::args().collect();
    let (batch, width) = (arg(&args, "--batch", 1024), arg(&args, "--width", 64));
    tch::set_num_threads(1);
    tch::manual_seed(0);
    let gaussian = |dim: usize| Space::Box(BoxSpace::new(vec![-1.0; dim], vec![1.0; dim]));
    let sde = Sde { full_std: true, use_expln: false, learn_features: false };
    let cases = [
        ("CartPole-v1 (categorical, 4 -> 2)", 4, Space::Discrete { n: 2 }, None),
        ("Acrobot-v1 (categorical, 6 -> 3)", 6, Space::Discrete { n: 3 }, None),
        ("Pendulum-v1 (Gaussian, 3 -> 1)", 3, gaussian(1), None),
        ("MountainCarContinuous-v0 (gSDE, 2 -> 1)", 2, gaussian(1), Some(sde)),
    ];
    let rate = attainable_gflops();
    println!(
        "the learner's inner loops, hidden {width}x{width}, one thread (before: double backprop; autograd and Adam per tensor)"
    );
    println!("attainable rate on [1024x64]x[64x64] matmuls: {rate:.1} GFLOP/s");
    println!("| kernel | before (ms) | now (ms) | speed-up | floor (ms) | now / floor |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, obs_dim, space, sde) in cases {
        let policy = Policy::new(obs_dim, &space, &[width, width], -0.5, sde, Device::Cpu).unwrap();
        let obs = Tensor::randn([batch, obs_dim as i64], (Kind::Float, Device::Cpu));
        let params = policy.parameters();
        let v = Tensor::randn([params.iter().map(|p| p.numel() as i64).sum()], (Kind::Float, Device::Cpu));
        let old = tch::no_grad(|| policy.dist(&obs)).detach();
        let kl = old.kl(&policy.dist(&obs)).mean(None::<Kind>);
        let double_backprop = FisherVectorProduct::new(&kl, &params, 0.1);
        let jacobian = JacobianFisherProduct::new(&policy, &obs, 0.1);
        let t_double = median_ms(50, || drop(FisherProduct::apply(&double_backprop, &v)));
        let t_jacobian = median_ms(50, || drop(FisherProduct::apply(&jacobian, &v)));
        // J v and Jᵀu: per layer the input's tangent times W and the input
        // times dW forward; dW and the input's gradient backward.
        let floor = floor_ms(&[obs_dim as i64, width, width, 2], 4, batch, rate);
        println!(
            "| Fisher-vector product, {name} | {t_double:.3} | {t_jacobian:.3} | {:.1}x | {floor:.3} | {:.1}x |",
            t_double / t_jacobian,
            t_jacobian / floor
        );
    }
    critic_step(4, width, 512, rate);
    critic_step(3, width, 512, rate);
}
