//! Where a TRPO iteration's time goes, and the environment steps per second of
//! the whole training loop, on CartPole-v1 with rl-baselines3-zoo's settings
//! (2 envs, n_steps 512, 20 critic epochs of one 512-sample minibatch,
//! cg_damping 1e-3, gae_lambda 0.98, 15 CG iterations) and one thread.
//!
//! With `--parallel-critic 1` the critic fits on a second thread beside the
//! policy step: its row is then its own time, hidden behind the policy's.
//!
//! `cargo bench -p natgrad-agents --bench trpo_iteration [-- --steps N] [--threads T] [--seed S] [--parallel-critic 1]`

use std::time::{Duration, Instant};

use natgrad_agents::agent::Timings;
use natgrad_agents::{Collector, CommonConfig, Control, NaturalGradientConfig, Trpo, TrpoConfig, train};
use natgrad_envs::{MakeOptions, make_vec};
use tch::Device;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .map(|i| args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name} needs a number")))
        .unwrap_or(default)
}

/// Floating-point operations of one forward pass of an MLP, per sample (a
/// multiply-add counts 2; activations and biases are left out).
fn forward_flops(sizes: &[usize]) -> f64 {
    sizes.windows(2).map(|w| 2.0 * (w[0] * w[1]) as f64).sum()
}

/// This core's attainable rate on the shapes that dominate an iteration: a
/// [1024 x 64] by [64 x 64] matrix product through libtorch, in GFLOP/s.
fn attainable_gflops() -> f64 {
    let a = tch::Tensor::randn([1024, 64], (tch::Kind::Float, Device::Cpu));
    let b = tch::Tensor::randn([64, 64], (tch::Kind::Float, Device::Cpu));
    let _ = a.matmul(&b);
    let reps = 2000;
    let start = Instant::now();
    for _ in 0..reps {
        let _ = a.matmul(&b);
    }
    (2.0 * 1024.0 * 64.0 * 64.0 * reps as f64) / start.elapsed().as_secs_f64() / 1e9
}

fn main() {
    natgrad_agents::allocator::keep_freed_memory();
    let args: Vec<String> = std::env::args().collect();
    let steps = arg(&args, "--steps", 100_000);
    let threads = arg(&args, "--threads", 1);
    let seed = arg(&args, "--seed", 0) as u64;
    let parallel_critic = arg(&args, "--parallel-critic", 0) == 1;
    tch::set_num_threads(threads as i32);
    natgrad_agents::agent::set_parallel_critic(parallel_critic);
    let config = TrpoConfig {
        common: CommonConfig {
            n_envs: 2,
            n_steps: 512,
            gae_lambda: 0.98,
            n_critic_updates: 20,
            critic_batch_size: 512,
            ..CommonConfig::default()
        },
        natural: NaturalGradientConfig { cg_damping: 1e-3, cg_iters: 15, ..NaturalGradientConfig::default() },
        ..TrpoConfig::default()
    };
    let venv = make_vec("CartPole-v1", 2, &MakeOptions::default()).unwrap();
    let mut agent = Trpo::new(config, 4, venv.action_space(), Device::Cpu, seed).unwrap();
    let mut collector = Collector::new(venv, seed, false, None).unwrap();
    let mut total = Timings::default();
    let mut iterations = 0u32;
    let mut cg_iterations = 0;
    let start = Instant::now();
    train(&mut agent, &mut collector, steps, 0, |it, _, _| {
        let t = &it.stats.timings;
        total.rollout += t.rollout;
        total.policy_gradient += t.policy_gradient;
        total.conjugate_gradient += t.conjugate_gradient;
        total.line_search += t.line_search;
        total.critic += t.critic;
        cg_iterations += it.stats.natural.map_or(0, |n| n.cg_iterations);
        iterations += 1;
        Control::Continue
    })
    .unwrap();
    let wall = start.elapsed();
    let per_iter = |d: Duration| d.as_secs_f64() * 1e3 / f64::from(iterations);

    // The arithmetic floor: each part's floating-point work at the rate this
    // core attains on the iteration's typical matrix product.
    let batch = 1024.0;
    let f_pi = forward_flops(&[4, 64, 64, 2]);
    let f_v = forward_flops(&[4, 64, 64, 1]);
    let cg = f64::from(cg_iterations as u32) / f64::from(iterations);
    let floors = [
        batch * (f_pi + f_v),                           // rollout: one forward of each network per step
        batch * 3.0 * f_pi,                             // policy gradient: forward and backward
        batch * (3.0 * f_pi + (cg + 1.0) * 4.0 * f_pi), // grad of KL once, then J^T M J v per product
        batch * 2.0 * f_pi,                             // line search: about two forward passes
        20.0 * batch * 3.0 * f_v,                       // critic: 20 epochs of forward and backward
    ];
    let rate = attainable_gflops();
    let parts = [
        ("rollout (1024 env steps + inference)", total.rollout),
        ("policy gradient", total.policy_gradient),
        ("conjugate gradient", total.conjugate_gradient),
        ("line search", total.line_search),
        ("critic (20 epochs)", total.critic),
    ];
    // Beside the policy step the critic's time is not on the loop's path.
    let on_path = if parallel_critic { total.critic } else { Duration::ZERO };
    let accounted: Duration = parts.iter().map(|(_, d)| *d).sum::<Duration>() - on_path;
    println!(
        "TRPO on CartPole-v1, zoo settings, {threads} thread(s), critic {}, {} steps, {iterations} iterations",
        if parallel_critic { "on a second thread beside the policy step" } else { "after the policy step" },
        collector.total_steps
    );
    println!("attainable rate on [1024x64]x[64x64] matmuls, one thread: {rate:.1} GFLOP/s");
    println!("| part | ms per iteration | share | MFLOP | floor ms | measured / floor |");
    println!("|---|---:|---:|---:|---:|---:|");
    for ((name, d), flops) in parts.into_iter().zip(floors) {
        let floor_ms = flops / (rate * 1e9) * 1e3;
        println!(
            "| {name} | {:.2} | {:.0}% | {:.1} | {floor_ms:.2} | {:.1}x |",
            per_iter(d),
            100.0 * d.as_secs_f64() / wall.as_secs_f64(),
            flops / 1e6,
            per_iter(d) / floor_ms
        );
    }
    println!(
        "| other ({}) | {:.2} | {:.0}% |",
        if parallel_critic { "bookkeeping, waiting for the critic" } else { "bookkeeping" },
        per_iter(wall - accounted),
        100.0 * (wall - accounted).as_secs_f64() / wall.as_secs_f64()
    );
    println!("| **total** | **{:.2}** | |", per_iter(wall));
    println!("mean CG iterations: {:.1}", cg_iterations as f64 / f64::from(iterations));
    println!("environment steps per second, whole loop: {:.0}", collector.total_steps as f64 / wall.as_secs_f64());
}
