//! Environment steps per second, single and vectorized (on 1 and 2 threads),
//! random actions with automatic reset. Run with
//! `cargo bench -p natgrad-envs --features mujoco --bench env_throughput [-- --seconds S] [--env ID]`
//! (without `--features mujoco`: the classic environments only).

use std::hint::black_box;
use std::time::{Duration, Instant};

use natgrad_envs::{MakeOptions, Rng, SampleBuffer, Space, VecEnv, VectorEnv, ids, make, random_actions};

const VEC_COPIES: usize = 16;

const ROUNDS: usize = 7;

/// Runs `step` (which takes `chunk` environment steps) for `ROUNDS` timed
/// rounds of `budget / ROUNDS` each; returns the median steps per second, so a
/// burst of load from elsewhere on the machine moves the figure little.
fn measure(budget: Duration, chunk: usize, mut step: impl FnMut()) -> f64 {
    // Warm-up, so the first timed round does not pay for cold caches.
    step();
    let round = budget / ROUNDS as u32;
    let mut rates: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            let mut chunks = 0usize;
            while start.elapsed() < round {
                step();
                chunks += 1;
            }
            (chunks * chunk) as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[ROUNDS / 2]
}

fn single(id: &str, budget: Duration) -> f64 {
    const CHUNK: usize = 1_000;
    let mut env = make(id).expect("registered id");
    let space: Space = env.action_space().clone();
    let mut rng = Rng::seed_from_u64(0);
    let mut buf = SampleBuffer::default();
    env.reset(Some(0)).unwrap();
    measure(budget, CHUNK, || {
        for _ in 0..CHUNK {
            let step = env.step(space.sample(&mut rng, &mut buf)).expect("valid action");
            if step.terminated || step.truncated {
                black_box(env.reset(None).unwrap());
            }
            black_box(&step);
        }
    })
}

fn vectorized(id: &str, budget: Duration, threads: usize) -> f64 {
    const ITERS: usize = 100;
    let venv = VecEnv::make(id, VEC_COPIES, &MakeOptions::default()).expect("registered id");
    let mut venv = venv.with_threads(threads);
    venv.reset(Some(0)).unwrap();
    let space = venv.action_space().clone();
    let mut rng = Rng::seed_from_u64(0);
    let mut buf = SampleBuffer::default();
    measure(budget, ITERS * VEC_COPIES, || {
        for _ in 0..ITERS {
            let actions = random_actions(&space, VEC_COPIES, &mut rng, &mut buf);
            black_box(venv.step(actions).expect("valid actions").obs);
        }
    })
}

/// Millions of steps per second for the classic environments, thousands for MuJoCo's.
fn rate(steps_per_second: f64) -> String {
    if steps_per_second >= 1e6 {
        format!("{:.1} M", steps_per_second / 1e6)
    } else {
        format!("{:.1} k", steps_per_second / 1e3)
    }
}

fn main() {
    let mut seconds = 2.0f64;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--seconds") {
        seconds = args.get(i + 1).and_then(|s| s.parse().ok()).expect("--seconds needs a number");
    }
    // --env ID[,ID...]: those environments only.
    let only: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--env")
        .map(|i| args.get(i + 1).expect("--env needs an id").split(',').map(str::to_owned).collect());
    let budget = Duration::from_secs_f64(seconds);
    println!(
        "environment steps per second, random actions, automatic reset (median of {ROUNDS} rounds, {seconds} s per figure)"
    );
    println!("| environment | single env | {VEC_COPIES} copies, 1 thread | {VEC_COPIES} copies, 2 threads |");
    println!("|---|---:|---:|---:|");
    for id in ids().into_iter().filter(|id| only.as_ref().is_none_or(|o| o.iter().any(|o| o == id))) {
        let s = single(id, budget);
        let v1 = vectorized(id, budget, 1);
        let v2 = vectorized(id, budget, 2);
        println!("| {id} | {} | {} | {} |", rate(s), rate(v1), rate(v2));
    }
}
