//! Command-line interface.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use natgrad_envs::{Env, Rng, Space, make, specs};

#[derive(Parser, Debug)]
#[command(
    name = "natgrad",
    version,
    about = "Natural-gradient reinforcement learning: TRPO, NPG and VPG on Gymnasium's classic control environments"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the environments with their spaces, time limits and reward thresholds.
    #[command(after_help = "Examples:\n  natgrad envs\n  natgrad envs --random-episode --seed 7")]
    Envs {
        /// Also run one episode of each environment with uniformly random actions and print its return.
        #[arg(long)]
        random_episode: bool,
        /// Seed of the random episodes (environment and actions).
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Envs { random_episode, seed } => envs(random_episode, seed),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn envs(random_episode: bool, seed: u64) -> Result<()> {
    for spec in specs() {
        let mut env = make(spec.id)?;
        println!("{}", spec.id);
        println!("  observation  {}", env.observation_space());
        println!("  action       {}", env.action_space());
        let threshold = spec.reward_threshold.map_or("none".to_owned(), |t| t.to_string());
        let limit = spec.max_episode_steps.expect("registered environments have a time limit");
        println!("  episode      at most {limit} steps; reward threshold {threshold}");
        if random_episode {
            let (ret, len) = run_random_episode(env.as_mut(), seed)?;
            println!("  random play  return {ret:.2} over {len} steps (seed {seed})");
        }
    }
    Ok(())
}

/// One episode with uniformly random actions: (return, length).
fn run_random_episode(env: &mut dyn Env, seed: u64) -> Result<(f64, usize)> {
    let mut rng = Rng::seed_from_u64(seed);
    let space: Space = env.action_space().clone();
    let mut buf = Vec::new();
    env.reset(Some(seed));
    let (mut ret, mut len) = (0.0, 0);
    loop {
        let step = env.step(space.sample(&mut rng, &mut buf))?;
        ret += step.reward;
        len += 1;
        if step.terminated || step.truncated {
            return Ok((ret, len));
        }
    }
}
