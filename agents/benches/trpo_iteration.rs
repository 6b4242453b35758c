//! Where a TRPO iteration's time goes, and the environment steps per second of
//! the whole training loop, on CartPole-v1 with rl-baselines3-zoo's settings
//! (2 envs, n_steps 512, 20 critic epochs of one 512-sample minibatch,
//! cg_damping 1e-3, gae_lambda 0.98, 15 CG iterations) and one thread.
//!
//! `cargo bench -p natgrad-agents --bench trpo_iteration [-- --steps N] [--threads T] [--seed S]`

use std::time::{Duration, Instant};

use natgrad_agents::agent::Timings;
use natgrad_agents::{Collector, CommonConfig, Control, NaturalGradientConfig, Trpo, TrpoConfig, train};
use natgrad_envs::{MakeOptions, VecEnv};
use tch::Device;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .map(|i| args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name} needs a number")))
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let steps = arg(&args, "--steps", 100_000);
    let threads = arg(&args, "--threads", 1);
    let seed = arg(&args, "--seed", 0) as u64;
    tch::set_num_threads(threads as i32);
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
    let venv = VecEnv::make("CartPole-v1", 2, &MakeOptions::default()).unwrap();
    let mut agent = Trpo::new(config, 4, venv.action_space(), Device::Cpu, seed).unwrap();
    let mut collector = Collector::new(venv, seed, false, None);
    let mut total = Timings::default();
    let mut iterations = 0u32;
    let mut cg_iterations = 0;
    let start = Instant::now();
    train(&mut agent, &mut collector, steps, |it, _, _| {
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
    let parts = [
        ("rollout (1024 env steps + inference)", total.rollout),
        ("policy gradient", total.policy_gradient),
        ("conjugate gradient", total.conjugate_gradient),
        ("line search", total.line_search),
        ("critic (20 epochs)", total.critic),
    ];
    let accounted: Duration = parts.iter().map(|(_, d)| *d).sum();
    println!(
        "TRPO on CartPole-v1, zoo settings, {threads} thread(s), {} steps, {iterations} iterations",
        collector.total_steps
    );
    println!("| part | ms per iteration | share |");
    println!("|---|---:|---:|");
    for (name, d) in parts {
        println!("| {name} | {:.2} | {:.0}% |", per_iter(d), 100.0 * d.as_secs_f64() / wall.as_secs_f64());
    }
    println!(
        "| other (logging, bookkeeping) | {:.2} | {:.0}% |",
        per_iter(wall - accounted),
        100.0 * (wall - accounted).as_secs_f64() / wall.as_secs_f64()
    );
    println!("| **total** | **{:.2}** | |", per_iter(wall));
    println!("mean CG iterations: {:.1}", cg_iterations as f64 / f64::from(iterations));
    println!("environment steps per second, whole loop: {:.0}", collector.total_steps as f64 / wall.as_secs_f64());
}
