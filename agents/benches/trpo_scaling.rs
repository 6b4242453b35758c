//! Time per TRPO iteration as the batch grows and the networks widen, with 1
//! and 2 threads: CartPole-v1, zoo's other settings (2 envs, 15 CG
//! iterations, 20 critic epochs of 512-sample minibatches).
//!
//! `cargo bench -p natgrad-agents --bench trpo_scaling [-- --max-batch N]`

use std::time::Instant;

use natgrad_agents::{Collector, CommonConfig, Control, NaturalGradientConfig, Trpo, TrpoConfig, train};
use natgrad_envs::{MakeOptions, make_vec};
use tch::Device;

/// Seconds per iteration, over `iterations` iterations after one warm-up.
fn seconds_per_iteration(batch: usize, width: i64, threads: i32, iterations: usize) -> f64 {
    tch::set_num_threads(threads);
    let config = TrpoConfig {
        common: CommonConfig {
            n_envs: 2,
            n_steps: batch / 2,
            gae_lambda: 0.98,
            n_critic_updates: 20,
            critic_batch_size: 512,
            policy_hidden: vec![width, width],
            value_hidden: vec![width, width],
            ..CommonConfig::default()
        },
        natural: NaturalGradientConfig { cg_damping: 1e-3, cg_iters: 15, ..NaturalGradientConfig::default() },
        ..TrpoConfig::default()
    };
    let venv = make_vec("CartPole-v1", 2, &MakeOptions::default()).unwrap();
    let mut agent = Trpo::new(config, 4, venv.action_space(), Device::Cpu, 0).unwrap();
    let mut collector = Collector::new(venv, 0, false, None).unwrap();
    let mut start = Instant::now();
    let mut done = 0;
    train(&mut agent, &mut collector, usize::MAX, 0, |_, _, _| {
        done += 1;
        if done == 1 {
            start = Instant::now(); // the warm-up iteration is not timed
        }
        if done > iterations { Control::Stop } else { Control::Continue }
    })
    .unwrap();
    start.elapsed().as_secs_f64() / iterations as f64
}

fn main() {
    natgrad_agents::allocator::keep_freed_memory();
    let args: Vec<String> = std::env::args().collect();
    let max_batch: usize = args
        .iter()
        .position(|a| a == "--max-batch")
        .map(|i| args[i + 1].parse().expect("--max-batch needs a number"))
        .unwrap_or(65_536);
    println!("seconds per TRPO iteration, CartPole-v1, zoo settings otherwise");
    println!("| batch (steps per iteration) | width | 1 thread | 2 threads | speed-up |");
    println!("|---:|---:|---:|---:|---:|");
    for batch in [1_024, 4_096, 16_384, 65_536].into_iter().filter(|b| *b <= max_batch) {
        for width in [64, 256] {
            // Enough iterations for a stable figure at small batches, one at large.
            let iterations = (16_384 / batch).clamp(1, 8);
            let one = seconds_per_iteration(batch, width, 1, iterations);
            let two = seconds_per_iteration(batch, width, 2, iterations);
            println!("| {batch} | {width}x{width} | {one:.3} | {two:.3} | {:.2}x |", one / two);
        }
    }
}
