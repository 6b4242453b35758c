//! `natgrad compare`: every algorithm on every seed, then the curves, the plot
//! and a table. Each run is a `natgrad train` child process with one libtorch
//! thread, so runs cannot disturb each other; up to `--jobs` run at once.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use natgrad_envs::make;

use crate::config::{self, Algo};
use crate::logger::EPISODES_NAME;
use crate::plot::{self, Band};
use crate::run_lock::RunLock;

/// Episodes averaged into each point of a curve.
const WINDOW: usize = 20;
/// Points on the common step grid.
const GRID_POINTS: usize = 100;

#[derive(Debug)]
pub struct CompareRequest {
    pub env: String,
    pub algos: String,
    pub seeds: usize,
    pub total_steps: Option<usize>,
    pub jobs: usize,
    pub logdir: PathBuf,
}

struct Job {
    algo: Algo,
    seed: u64,
}

struct Finished {
    algo: Algo,
    seed: u64,
    seconds: f64,
    failure: Option<String>,
}

fn run_name(algo: Algo, seed: u64) -> String {
    format!("{}__seed{seed}", algo.name())
}

/// The mean of the last `WINDOW` episodes that ended by each grid step.
fn rolling_curve(episodes: &[(usize, f64)], grid: &[usize]) -> Vec<Option<f64>> {
    grid.iter()
        .map(|g| {
            let ended = episodes.partition_point(|(s, _)| s <= g);
            let window = &episodes[ended.saturating_sub(WINDOW)..ended];
            (!window.is_empty()).then(|| window.iter().map(|(_, r)| r).sum::<f64>() / window.len() as f64)
        })
        .collect()
}

/// The first step at which the mean of `WINDOW` consecutive episodes reaches
/// `threshold`.
fn steps_to_threshold(episodes: &[(usize, f64)], threshold: f64) -> Option<usize> {
    episodes
        .windows(WINDOW)
        .find(|w| w.iter().map(|(_, r)| r).sum::<f64>() / WINDOW as f64 >= threshold)
        .map(|w| w[WINDOW - 1].0)
}

fn read_episodes(run: &Path) -> Result<Vec<(usize, f64)>> {
    let path = run.join(EPISODES_NAME);
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .skip(1)
        .map(|line| {
            let mut fields = line.split(',');
            let step = fields.next().and_then(|s| s.parse().ok());
            let ret = fields.next().and_then(|s| s.parse().ok());
            step.zip(ret).with_context(|| format!("{} has a malformed row: {line}", path.display()))
        })
        .collect()
}

fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (mean, (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

pub fn run(req: &CompareRequest) -> Result<()> {
    let spec = make(&req.env)?.spec().clone();
    let algos: Vec<Algo> = req.algos.split(',').map(|a| Algo::parse(a.trim())).collect::<Result<_>>()?;
    if algos.is_empty() {
        bail!("--algos is empty; give a comma-separated list such as trpo,vpg");
    }
    if req.seeds == 0 || req.jobs == 0 {
        bail!("--seeds and --jobs must be at least 1");
    }
    let total_steps = req.total_steps.unwrap_or_else(|| config::preset_total_steps(&spec.id));
    if total_steps == 0 {
        bail!("--total-steps must be at least 1");
    }
    std::fs::create_dir_all(&req.logdir).with_context(|| {
        format!("cannot create the log folder {}; choose a writable --logdir", req.logdir.display())
    })?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let group = req.logdir.join(format!("compare__{}__{now}", spec.id.replace(':', "-")));
    std::fs::create_dir(&group).with_context(|| {
        format!(
            "cannot create {}; if it exists, another compare started in the same second: run again",
            group.display()
        )
    })?;
    // Held while the runs write into the group; each run locks its own folder too.
    let _lock = RunLock::acquire(&group)?;

    let queue: Mutex<VecDeque<Job>> =
        Mutex::new(algos.iter().flat_map(|a| (1..=req.seeds as u64).map(|seed| Job { algo: *a, seed })).collect());
    let total_runs = algos.len() * req.seeds;
    let finished: Mutex<Vec<Finished>> = Mutex::new(vec![]);
    let exe = std::env::current_exe().context("cannot find the natgrad executable")?;
    println!(
        "comparing {} on {} with {} seeds, {total_steps} steps each, {} at a time; runs in {}",
        algos.iter().map(|a| a.name()).collect::<Vec<_>>().join(", "),
        spec.id,
        req.seeds,
        req.jobs.min(total_runs),
        group.display()
    );
    std::thread::scope(|scope| {
        for _ in 0..req.jobs.min(total_runs) {
            scope.spawn(|| {
                loop {
                    // Taken in its own statement: a guard in the `while let`
                    // condition would hold the queue for the whole run,
                    // serialising the jobs.
                    let next = queue.lock().expect("queue").pop_front();
                    let Some(job) = next else { break };
                    let start = Instant::now();
                    let output = Command::new(&exe)
                        .args(["train", "--algo", job.algo.name(), "--env", &spec.id, "--seed", &job.seed.to_string()])
                        .args(["--total-steps", &total_steps.to_string(), "--threads", "1", "--quiet"])
                        .arg("--logdir")
                        .arg(&group)
                        .args(["--run-name", &run_name(job.algo, job.seed)])
                        .output();
                    let failure = match output {
                        Ok(o) if o.status.success() => None,
                        Ok(o) => Some(String::from_utf8_lossy(&o.stderr).trim().to_owned()),
                        Err(e) => Some(e.to_string()),
                    };
                    let seconds = start.elapsed().as_secs_f64();
                    let mut done = finished.lock().expect("results");
                    done.push(Finished { algo: job.algo, seed: job.seed, seconds, failure });
                    let last = done.last().expect("just pushed");
                    let status = last.failure.as_ref().map_or("finished".to_owned(), |e| format!("FAILED: {e}"));
                    println!(
                        "[{}/{total_runs}] {} seed {} {status} in {seconds:.1} s",
                        done.len(),
                        job.algo.name(),
                        job.seed
                    );
                }
            });
        }
    });
    let finished = finished.into_inner().expect("results");
    let failures: Vec<String> = finished
        .iter()
        .filter_map(|f| f.failure.as_ref().map(|e| format!("{} seed {}: {e}", f.algo.name(), f.seed)))
        .collect();
    if !failures.is_empty() {
        bail!("{} of {total_runs} runs failed:\n{}", failures.len(), failures.join("\n"));
    }

    let grid: Vec<usize> = (1..=GRID_POINTS).map(|i| total_steps * i / GRID_POINTS).collect();
    let mut bands = vec![];
    let mut csv_header = vec!["total_steps".to_owned()];
    let mut columns: Vec<Vec<String>> = vec![grid.iter().map(usize::to_string).collect()];
    let mut table = vec![];
    for algo in &algos {
        let runs: Vec<Vec<(usize, f64)>> = (1..=req.seeds as u64)
            .map(|seed| read_episodes(&group.join(run_name(*algo, seed))))
            .collect::<Result<_>>()?;
        let curves: Vec<Vec<Option<f64>>> = runs.iter().map(|r| rolling_curve(r, &grid)).collect();
        let points: Vec<(f64, Option<(f64, f64)>)> = grid
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let values: Vec<f64> = curves.iter().filter_map(|c| c[i]).collect();
                (*g as f64, (!values.is_empty()).then(|| mean_std(&values)))
            })
            .collect();
        csv_header.extend([format!("{}_mean", algo.name()), format!("{}_std", algo.name())]);
        let fmt = |f: &dyn Fn((f64, f64)) -> f64| {
            points.iter().map(|(_, v)| v.map(f).map_or(String::new(), |x| x.to_string())).collect()
        };
        columns.push(fmt(&|(m, _)| m));
        columns.push(fmt(&|(_, s)| s));

        let finals: Vec<f64> = curves.iter().filter_map(|c| *c.last().expect("a grid point")).collect();
        let final_text = if finals.is_empty() {
            "no episode finished | ".into()
        } else {
            let (m, s) = mean_std(&finals);
            format!("{:.1} | {m:.1} ± {s:.1}", median(finals.clone()))
        };
        let reach_text = match spec.reward_threshold {
            None => "n/a (no threshold)".into(),
            Some(t) => {
                let reached: Vec<f64> =
                    runs.iter().filter_map(|r| steps_to_threshold(r, t)).map(|s| s as f64).collect();
                if reached.is_empty() {
                    format!("not reached (0/{})", req.seeds)
                } else {
                    format!("{:.0} (median, {}/{} seeds)", median(reached.clone()), reached.len(), req.seeds)
                }
            }
        };
        let times: Vec<f64> = finished.iter().filter(|f| f.algo == *algo).map(|f| f.seconds).collect();
        table.push((algo.name(), final_text, reach_text, mean_std(&times).0));
        bands.push(Band { label: algo.name().to_uppercase(), points });
    }

    let mut csv = csv_header.join(",") + "\n";
    for i in 0..grid.len() {
        csv.push_str(&columns.iter().map(|c| c[i].as_str()).collect::<Vec<_>>().join(","));
        csv.push('\n');
    }
    std::fs::write(group.join("curves.csv"), csv)?;
    let title = format!(
        "{}: {} ({} seeds, mean ± 1 std)",
        spec.id,
        algos.iter().map(|a| a.name().to_uppercase()).collect::<Vec<_>>().join(" vs "),
        req.seeds
    );
    plot::draw(&group.join("curves.png"), &title, &bands, spec.reward_threshold)?;

    println!();
    let threshold = spec.reward_threshold.map_or("the threshold".into(), |t| t.to_string());
    println!("final return: the mean of each run's last {WINDOW} training episodes, over seeds");
    println!(
        "| algorithm | final return (median) | final return (mean ± std) | steps to reach {threshold} | wall time per run |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (name, final_text, reach, seconds) in table {
        println!("| {name} | {final_text} | {reach} | {seconds:.1} s |");
    }
    println!();
    println!("wrote {} and {}", group.join("curves.csv").display(), group.join("curves.png").display());
    println!("all runs side by side: tensorboard --logdir {}", group.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_curves_average_the_last_episodes_before_each_step() {
        let episodes: Vec<(usize, f64)> = (1..=30).map(|i| (i * 10, i as f64)).collect();
        let curve = rolling_curve(&episodes, &[5, 10, 100, 300, 1000]);
        assert_eq!(curve[0], None);
        assert_eq!(curve[1], Some(1.0));
        assert_eq!(curve[2], Some(5.5)); // episodes 1..=10
        assert_eq!(curve[3], Some(20.5)); // episodes 11..=30
        assert_eq!(curve[4], Some(20.5));
        assert_eq!(steps_to_threshold(&episodes, 10.5), Some(200));
        assert_eq!(steps_to_threshold(&episodes, 100.0), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(mean_std(&[1.0, 3.0]), (2.0, 1.0));
    }
}
