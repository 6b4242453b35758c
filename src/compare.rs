//! `natgrad compare`: every algorithm on every seed, then the curves, the plot
//! and a table. Each run is a `natgrad train` child process with one libtorch
//! thread, so runs cannot disturb each other; up to `--jobs` run at once.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use natgrad_envs::{EnvSpec, make_with};

use crate::config::{self, Algo};
use crate::eval::{self, EvalRequest};
use crate::launch::{self, Launcher};
use crate::logger::{self, CSV_NAME as PROGRESS_NAME, EPISODES_NAME};
use crate::plot::{self, Band, DURING_TRAINING, XAxis};
use crate::run_lock::RunLock;
use crate::scores::{self, Points};
use crate::train::RunConfig;

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
    /// Where the runs run: this machine, a printed list, or Slurm.
    pub launcher: Launcher,
    pub logdir: PathBuf,
    /// Episodes per run in the final evaluation (the preset's if `None`).
    pub eval_episodes: Option<usize>,
    /// `--env-kwargs` and `--vector-mode`, passed on to every run.
    pub env_kwargs: Vec<String>,
    pub env_wrappers: Vec<String>,
    pub vector_mode: Option<String>,
    /// `--eval-freq`, passed on to every run (its preset's if `None`).
    pub eval_freq: Option<usize>,
    /// `--eval-deterministic`, passed on to every run (its preset's if `None`).
    pub eval_deterministic: Option<bool>,
    /// Draw each algorithm's best final policy as a GIF beside the report.
    pub gif: bool,
}

/// One curve of a comparison: an algorithm with, optionally, hyperparameters
/// of its own, written `trpo` or `trpo+fisher=kfac+cg_damping=0.01` in
/// `--algos`, in its run folders' names and in the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub algo: Algo,
    /// `key=value` settings, passed to its runs as `--set`.
    pub settings: Vec<String>,
}

impl Variant {
    /// Parses `algo[+key=value...]`, checking each setting against the
    /// algorithm and the environment's preset before any run starts.
    pub fn parse(spec: &str, env: &str) -> Result<Variant> {
        let mut parts = spec.trim().split('+');
        let algo = Algo::parse(parts.next().unwrap_or_default().trim())?;
        let settings: Vec<String> = parts.map(|s| s.trim().to_owned()).collect();
        if let Some(bad) = settings.iter().find(|s| !s.contains('=') || s.contains(['/', ','])) {
            bail!("'{spec}' in --algos: '{bad}' is not a key=value setting; write for example trpo+fisher=kfac");
        }
        config::resolve(algo, env, &config::Overrides { sets: &settings, ..Default::default() })
            .with_context(|| format!("'{spec}' in --algos"))?;
        Ok(Variant { algo, settings })
    }

    /// `TRPO fisher=kfac`: the name in charts.
    pub fn label(&self) -> String {
        std::iter::once(self.algo.name().to_uppercase())
            .chain(self.settings.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `trpo+fisher=kfac`: the spec, normalised.
    pub fn name(&self) -> String {
        std::iter::once(self.algo.name().to_owned()).chain(self.settings.iter().cloned()).collect::<Vec<_>>().join("+")
    }
}

/// One run of a comparison: a variant on a seed, on environment `env` of its plans.
struct Job {
    env: usize,
    variant: Variant,
    seed: u64,
}

fn run_name(variant: &Variant, seed: u64) -> String {
    format!("{}__seed{seed}", variant.name())
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

/// One environment of a comparison: what its runs are and where they go.
struct EnvPlan {
    spec: EnvSpec,
    algos: Vec<Variant>,
    total_steps: usize,
    /// Its comparison folder: the group itself, or a folder in it per environment.
    folder: PathBuf,
}

/// Checks `env`'s variants and steps before anything is written.
fn plan_env(req: &CompareRequest, env: &str, vector_mode: &str) -> Result<EnvPlan> {
    let wrappers = crate::train::env_wrappers(&req.env_wrappers, env);
    let options = crate::train::make_options(&req.env_kwargs, &wrappers, vector_mode)?;
    let spec = make_with(env, &options)?.spec().clone();
    let algos: Vec<Variant> = req
        .algos
        .split(',')
        .filter(|a| !a.trim().is_empty())
        .map(|a| Variant::parse(a, &spec.id))
        .collect::<Result<_>>()?;
    if let Some(twice) = algos.iter().enumerate().find(|(i, a)| algos[..*i].contains(a)) {
        bail!("--algos names {} twice; give each variant once", twice.1.name());
    }
    if algos.is_empty() {
        bail!("--algos is empty; give a comma-separated list such as trpo,vpg");
    }
    let total_steps = req.total_steps.unwrap_or_else(|| config::preset_total_steps(&spec.id));
    if total_steps == 0 {
        bail!("--total-steps must be at least 1");
    }
    Ok(EnvPlan { spec, algos, total_steps, folder: PathBuf::new() })
}

/// The environments of `--env A,B,...`, each once.
fn env_ids(env: &str) -> Result<Vec<&str>> {
    let ids: Vec<&str> = env.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
    if ids.is_empty() {
        bail!("--env is empty; give an id, or several separated by commas (CartPole-v1,Acrobot-v1)");
    }
    if let Some((i, twice)) = ids.iter().enumerate().find(|(i, e)| ids[..*i].contains(e)) {
        bail!("--env names {twice} twice (entry {}); give each environment once", i + 1);
    }
    Ok(ids)
}

pub fn run(req: &CompareRequest) -> Result<()> {
    let vector_mode = req.vector_mode.as_deref().unwrap_or("sync");
    let mut plans: Vec<EnvPlan> =
        env_ids(&req.env)?.into_iter().map(|env| plan_env(req, env, vector_mode)).collect::<Result<_>>()?;
    check_counts(req)?;
    let ids: Vec<String> = plans.iter().map(|p| folder_name(&p.spec.id)).collect();
    let group = create_group(&req.logdir, &ids.join("+"))?;
    // Held while the runs write into the group; each run locks its own folder too.
    let _lock = RunLock::acquire(&group)?;
    for (plan, id) in plans.iter_mut().zip(&ids) {
        plan.folder = if ids.len() == 1 { group.clone() } else { group.join(id) };
        std::fs::create_dir_all(&plan.folder).with_context(|| format!("cannot create {}", plan.folder.display()))?;
    }
    let jobs = grid(&plans, req.seeds);
    let exe = std::env::current_exe().context("cannot find the natgrad executable")?;
    let runs = RunCommand { exe: &exe, req, vector_mode };
    let commands: Vec<Vec<String>> = jobs.iter().map(|job| runs.train(job, &plans[job.env])).collect();
    launch::write_commands(&group, &commands)?;
    let report_hint = format!("natgrad compare --report {}", group.display());
    let labels = job_labels(&jobs, &plans);
    if !launch_runs(&req.launcher, &group, &commands, &labels, &describe(&plans, req.seeds), &report_hint)? {
        return Ok(());
    }
    let missing = launch::unfinished(&group)?;
    if !missing.is_empty() {
        bail!(
            "{} of {} runs did not finish: {}; their output is in {}/slurm/ (Slurm) or above; submit the same \
             commands again to finish them, then: {report_hint}",
            missing.len(),
            commands.len(),
            missing.join(", "),
            group.display()
        );
    }
    for plan in &plans {
        let eval_episodes = req.eval_episodes.unwrap_or_else(|| config::preset_eval_episodes(&plan.spec.id));
        let seeds = vec![(1..=req.seeds as u64).collect(); plan.algos.len()];
        let report = Report {
            env: &plan.spec.id,
            threshold: plan.spec.reward_threshold,
            seeds: &seeds,
            total_steps: plan.total_steps,
            eval_episodes,
        };
        report.write(&plan.folder, &plan.algos, req.gif)?;
    }
    Ok(())
}

/// Refuses counts of zero before anything is written.
fn check_counts(req: &CompareRequest) -> Result<()> {
    if req.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    match &req.launcher {
        Launcher::Local { jobs: 0 } => bail!("--jobs must be at least 1"),
        Launcher::Slurm(o) if o.cpus_per_task == 0 || o.max_running == Some(0) => {
            bail!("--cpus-per-task and --slurm-max-running must be at least 1")
        }
        _ => Ok(()),
    }
}

/// Every run of the comparison: each environment, each variant, seeds 1 to `seeds`.
fn grid(plans: &[EnvPlan], seeds: usize) -> Vec<Job> {
    plans
        .iter()
        .enumerate()
        .flat_map(|(env, plan)| {
            plan.algos
                .iter()
                .flat_map(move |a| (1..=seeds as u64).map(move |seed| Job { env, variant: a.clone(), seed }))
        })
        .collect()
}

/// What the grid runs, in a line.
fn describe(plans: &[EnvPlan], seeds: usize) -> String {
    plans
        .iter()
        .map(|p| {
            let names = p.algos.iter().map(Variant::name).collect::<Vec<_>>().join(", ");
            format!("{names} on {} with {seeds} seeds, {} steps each", p.spec.id, p.total_steps)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Each run's label in the progress lines (its environment where there are several).
fn job_labels(jobs: &[Job], plans: &[EnvPlan]) -> Vec<String> {
    jobs.iter()
        .map(|j| {
            let env = if plans.len() > 1 { format!("{} ", plans[j.env].spec.id) } else { String::new() };
            format!("{env}{} seed {}", j.variant.name(), j.seed)
        })
        .collect()
}

/// Runs the grid's `commands` with `launcher`; `false` where they were only
/// handed over (printed, or submitted without `--wait`) and nothing is left
/// to report yet.
fn launch_runs(
    launcher: &Launcher,
    group: &Path,
    commands: &[Vec<String>],
    labels: &[String],
    what: &str,
    report_hint: &str,
) -> Result<bool> {
    match launcher {
        Launcher::Print => {
            for line in std::fs::read_to_string(group.join(launch::COMMANDS_NAME))?.lines() {
                println!("{line}");
            }
            eprintln!(
                "{} runs of {what}: one command a line, also in {}/{}; then: {report_hint}",
                commands.len(),
                group.display(),
                launch::COMMANDS_NAME
            );
            Ok(false)
        }
        Launcher::Slurm(o) => {
            let id = launch::submit_slurm(group, commands.len(), o)?;
            println!(
                "comparing {what}: submitted Slurm job array {id} ({} tasks) from {}/{}",
                commands.len(),
                group.display(),
                launch::SLURM_SCRIPT_NAME
            );
            if !o.wait {
                println!("watch with: squeue -j {id}; then: {report_hint}");
                return Ok(false);
            }
            launch::wait_for_slurm(group, &id, commands.len())?;
            Ok(true)
        }
        Launcher::Local { jobs } => {
            println!("comparing {what}, {} at a time; runs in {}", (*jobs).min(commands.len()), group.display());
            run_locally(labels, commands, *jobs)?;
            Ok(true)
        }
    }
}

/// An environment id as a folder name (`gym:` and `module:` ids hold ':').
fn folder_name(env: &str) -> String {
    env.replace([':', '/'], "-")
}

/// A new comparison folder named after `envs` under `logdir`.
fn create_group(logdir: &Path, envs: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(logdir)
        .with_context(|| format!("cannot create the log folder {}; choose a writable --logdir", logdir.display()))?;
    // Absolute, so that the command lines work from wherever a scheduler starts them.
    let logdir = std::path::absolute(logdir).with_context(|| format!("cannot resolve {}", logdir.display()))?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let group = logdir.join(format!("compare__{envs}__{now}"));
    std::fs::create_dir(&group).with_context(|| {
        format!(
            "cannot create {}; if it exists, another compare started in the same second: run again",
            group.display()
        )
    })?;
    Ok(group)
}

/// What every run's `natgrad train` command line shares.
struct RunCommand<'a> {
    exe: &'a Path,
    req: &'a CompareRequest,
    vector_mode: &'a str,
}

impl RunCommand<'_> {
    /// The complete command line of `job`'s run on `plan`'s environment:
    /// one libtorch thread (a second core for the critic, and for stepping
    /// MuJoCo's copies, only where the launcher gives each run two), `--resume-existing` so that running it
    /// again finishes it.
    fn train(&self, job: &Job, plan: &EnvPlan) -> Vec<String> {
        let req = self.req;
        let parallel_critic = match &req.launcher {
            Launcher::Slurm(o) if o.cpus_per_task > 1 => "on",
            Launcher::Local { jobs: 1 } => "on",
            _ => "off",
        };
        let mut args: Vec<String> = vec![self.exe.display().to_string(), "train".into()];
        let mut push = |flag: &str, value: &str| args.extend([flag.to_owned(), value.to_owned()]);
        push("--algo", job.variant.algo.name());
        push("--env", &plan.spec.id);
        push("--seed", &job.seed.to_string());
        push("--total-steps", &plan.total_steps.to_string());
        push("--threads", "1");
        push("--parallel-critic", parallel_critic);
        if parallel_critic == "off" {
            // One core per run: the copies step on the run's own thread too.
            push("--env-threads", "1");
        }
        for setting in &job.variant.settings {
            push("--set", setting);
        }
        for kv in &req.env_kwargs {
            push("--env-kwargs", kv);
        }
        for wrapper in &req.env_wrappers {
            push("--env-wrapper", wrapper);
        }
        push("--vector-mode", self.vector_mode);
        if let Some(freq) = req.eval_freq {
            push("--eval-freq", &freq.to_string());
        }
        if let Some(deterministic) = req.eval_deterministic {
            push("--eval-deterministic", &deterministic.to_string());
        }
        push("--logdir", &plan.folder.display().to_string());
        push("--run-name", &run_name(&job.variant, job.seed));
        args.extend(["--resume-existing".to_owned(), "--quiet".to_owned()]);
        args
    }
}

/// Runs `commands` on this machine, `parallel` at a time, each as a child
/// process with its line of progress under its label; fails listing the
/// runs that failed.
fn run_locally(labels: &[String], commands: &[Vec<String>], parallel: usize) -> Result<()> {
    let total_runs = commands.len();
    let queue: Mutex<VecDeque<(&String, &Vec<String>)>> = Mutex::new(labels.iter().zip(commands).collect());
    let failures: Mutex<Vec<String>> = Mutex::new(vec![]);
    let done = Mutex::new(0);
    std::thread::scope(|scope| {
        for _ in 0..parallel.min(total_runs) {
            scope.spawn(|| {
                loop {
                    // Taken in its own statement: a guard in the `while let`
                    // condition would hold the queue for the whole run,
                    // serialising the jobs.
                    let next = queue.lock().expect("queue").pop_front();
                    let Some((label, command)) = next else { break };
                    let start = Instant::now();
                    let output = Command::new(&command[0]).args(&command[1..]).output();
                    let failure = match output {
                        Ok(o) if o.status.success() => None,
                        Ok(o) => Some(String::from_utf8_lossy(&o.stderr).trim().to_owned()),
                        Err(e) => Some(e.to_string()),
                    };
                    let seconds = start.elapsed().as_secs_f64();
                    let mut done = done.lock().expect("count");
                    *done += 1;
                    let status = failure.as_ref().map_or("finished".to_owned(), |e| format!("FAILED: {e}"));
                    println!("[{}/{total_runs}] {label} {status} in {seconds:.1} s", *done);
                    if let Some(e) = failure {
                        failures.lock().expect("failures").push(format!("{label}: {e}"));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("failures");
    if !failures.is_empty() {
        bail!("{} of {total_runs} runs failed:\n{}", failures.len(), failures.join("\n"));
    }
    Ok(())
}

/// Rebuilds the report of an existing comparison folder (after its runs
/// finished, or to evaluate with more episodes): the algorithms and seeds are
/// read from its run folders.
pub fn report_existing(group: &Path, eval_episodes: Option<usize>, gif: bool) -> Result<()> {
    let missing = launch::unfinished(group)?;
    if !missing.is_empty() {
        let planned = launch::planned_runs(group)?.map_or(0, |r| r.len());
        let again = if group.join(launch::SLURM_SCRIPT_NAME).exists() {
            format!("sbatch {}", group.join(launch::SLURM_SCRIPT_NAME).display())
        } else {
            format!("the lines of {}", group.join(launch::COMMANDS_NAME).display())
        };
        eprintln!(
            "note: {} of {planned} runs of {} have not finished: {}; the report covers the finished ones; run their \
             commands ({again}: finished runs exit at once, stopped ones resume), then report again",
            missing.len(),
            group.display(),
            missing.join(", ")
        );
    }
    let names = run_folder_names(group)?;
    if names.is_empty() {
        // A comparison over several environments: a comparison folder for each.
        let mut folders: Vec<PathBuf> = std::fs::read_dir(group)
            .with_context(|| format!("cannot read {}", group.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir() && run_folder_names(p).is_ok_and(|n| !n.is_empty()))
            .collect();
        folders.sort();
        if folders.is_empty() {
            bail!("{} holds no finished runs of natgrad compare (folders named ALGO__seedN)", group.display());
        }
        return folders.iter().try_for_each(|folder| report_one(folder, run_folder_names(folder)?, eval_episodes, gif));
    }
    report_one(group, names, eval_episodes, gif)
}

/// The (variant, seed) of each finished run folder (`ALGO__seedN`) in `folder`, sorted.
fn run_folder_names(folder: &Path) -> Result<Vec<(String, u64)>> {
    let mut names: Vec<(String, u64)> = vec![];
    for entry in std::fs::read_dir(folder).with_context(|| format!("cannot read {}", folder.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        // Only finished runs: a report of runs still going would mix budgets.
        if let Some((variant, seed)) = name.split_once("__seed")
            && launch::is_complete(&folder.join(&name))
        {
            names.push((variant.to_owned(), seed.parse().with_context(|| format!("bad run folder name {name}"))?));
        }
    }
    names.sort();
    Ok(names)
}

/// The report of one environment's comparison folder, whose run folders are `names`.
fn report_one(group: &Path, names: Vec<(String, u64)>, eval_episodes: Option<usize>, gif: bool) -> Result<()> {
    let Some((first, first_seed)) = names.first().cloned() else {
        bail!("{} holds no finished runs of natgrad compare (folders named ALGO__seedN)", group.display());
    };
    let first_run = group.join(format!("{first}__seed{first_seed}"));
    let run = RunConfig::read(&first_run)?;
    let spec = make_with(&run.env, &run.make_options()?)?.spec().clone();
    let mut algos: Vec<(Variant, Vec<u64>)> = vec![];
    for (name, seed) in &names {
        let variant = Variant::parse(name, &spec.id)?;
        match algos.iter_mut().find(|(v, _)| *v == variant) {
            Some((_, seeds)) => seeds.push(*seed),
            None => algos.push((variant, vec![*seed])),
        }
    }
    // The order of `natgrad compare`'s default listing: by algorithm, then name.
    algos.sort_by_key(|(v, _)| (Algo::ALL.iter().position(|a| *a == v.algo), v.name()));
    let (variants, seeds): (Vec<Variant>, Vec<Vec<u64>>) = algos.into_iter().unzip();
    let eval_episodes = eval_episodes.unwrap_or_else(|| config::preset_eval_episodes(&spec.id));
    let report = Report {
        env: &spec.id,
        threshold: spec.reward_threshold,
        seeds: &seeds,
        total_steps: run.total_steps,
        eval_episodes,
    };
    report.write(group, &variants, gif)
}

/// Each run's wall time (seconds since its start) at the end of each
/// iteration, by environment step, from its progress.csv.
fn read_wall_times(run: &Path) -> Result<Vec<(usize, f64)>> {
    let path = run.join(PROGRESS_NAME);
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = |name: &str| {
        header.iter().position(|h| *h == name).with_context(|| format!("{} has no {name}", path.display()))
    };
    let (steps, wall) = (column("total_steps")?, column("wall_time_s")?);
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let step = fields.get(steps).and_then(|s| s.parse().ok());
            let seconds = fields.get(wall).and_then(|s| s.parse().ok());
            step.zip(seconds).with_context(|| format!("{} has a malformed row: {line}", path.display()))
        })
        .collect()
}

/// Episodes re-timed by wall clock, in milliseconds: an episode counts at the
/// end of the iteration in which it ended.
fn episodes_by_wall_time(episodes: &[(usize, f64)], wall: &[(usize, f64)]) -> Vec<(usize, f64)> {
    episodes
        .iter()
        .filter_map(|(step, ret)| {
            let i = wall.partition_point(|(s, _)| s < step);
            wall.get(i).map(|(_, t)| ((t * 1000.0) as usize, *ret))
        })
        .collect()
}

/// One algorithm's band over seeds on a grid: mean ± std of the runs' curves,
/// each up to its run's end (`ends`, on the grid's scale).
fn band(label: &str, runs: &[Vec<(usize, f64)>], ends: &[usize], grid: &[usize], scale: f64) -> Band {
    let curves: Vec<Vec<Option<f64>>> = runs
        .iter()
        .zip(ends)
        .map(|(r, end)| rolling_curve(r, grid).into_iter().zip(grid).map(|(v, g)| v.filter(|_| g <= end)).collect())
        .collect();
    let points = grid
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let values: Vec<f64> = curves.iter().filter_map(|c| c[i]).collect();
            (*g as f64 * scale, (!values.is_empty()).then(|| mean_std(&values)))
        })
        .collect();
    Band {
        label: label.to_owned(),
        points,
        final_evaluation: None,
        evaluations: vec![],
        evaluations_are: Some(DURING_TRAINING),
    }
}

/// One row of the table, with each run's two numbers on the common
/// protocol: the mean of its last training episodes and its final policy's
/// evaluation (deterministic unless the run's `eval_deterministic` is off).
struct Row {
    algo: String,
    /// The seed of each run, in the order of the per-run columns below.
    seeds: Vec<u64>,
    final_text: String,
    reach_text: String,
    eval_text: String,
    seconds: f64,
    last_episodes: Vec<Option<f64>>,
    evaluations: Vec<f64>,
    /// Whether each run's final evaluation took the mean action (else it
    /// sampled, as the Atari presets evaluate).
    deterministic: Vec<bool>,
}

/// What a comparison's report reads of one algorithm's runs.
struct AlgoRuns {
    seeds: Vec<u64>,
    dirs: Vec<PathBuf>,
    /// Each run's episodes: (step at its end, return).
    episodes: Vec<Vec<(usize, f64)>>,
    /// Each run's (step, wall time) at the end of each iteration.
    walls: Vec<Vec<(usize, f64)>>,
}

impl AlgoRuns {
    fn read(group: &Path, variant: &Variant, seeds: &[u64]) -> Result<Self> {
        let dirs: Vec<PathBuf> = seeds.iter().map(|seed| group.join(run_name(variant, *seed))).collect();
        let episodes = dirs.iter().map(|d| read_episodes(d)).collect::<Result<_>>()?;
        let walls = dirs.iter().map(|d| read_wall_times(d)).collect::<Result<_>>()?;
        Ok(Self { seeds: seeds.to_vec(), dirs, episodes, walls })
    }

    /// The episodes re-timed by wall clock, with each run's end (ms).
    fn by_wall_time(&self) -> (Vec<Vec<(usize, f64)>>, Vec<usize>) {
        let ends = self.walls.iter().map(|w| w.last().map_or(0, |(_, t)| (t * 1000.0) as usize)).collect();
        let runs = self.episodes.iter().zip(&self.walls).map(|(r, w)| episodes_by_wall_time(r, w)).collect();
        (runs, ends)
    }

    /// The table row: final training return, steps to the threshold, the
    /// final evaluation of each final policy, wall time.
    fn row(&self, variant: &Variant, grid: &[usize], threshold: Option<f64>, eval_episodes: usize) -> Result<Row> {
        let seeds = self.dirs.len();
        let last_episodes: Vec<Option<f64>> =
            self.episodes.iter().map(|r| *rolling_curve(r, grid).last().expect("a grid point")).collect();
        let finals: Vec<f64> = last_episodes.iter().flatten().copied().collect();
        let final_text = if finals.is_empty() {
            "no episode finished | ".into()
        } else {
            let (m, s) = mean_std(&finals);
            format!("{:.1} | {m:.1} ± {s:.1}", median(finals.clone()))
        };
        let reach_text = match threshold {
            None => "n/a (no threshold)".into(),
            Some(t) => {
                let reached: Vec<f64> =
                    self.episodes.iter().filter_map(|r| steps_to_threshold(r, t)).map(|s| s as f64).collect();
                if reached.is_empty() {
                    format!("not reached (0/{seeds})")
                } else {
                    format!("{:.0} (median, {}/{seeds} seeds)", median(reached.clone()), reached.len())
                }
            }
        };
        let (evals, deterministic): (Vec<f64>, Vec<bool>) =
            self.dirs.iter().map(|d| evaluate(d, eval_episodes)).collect::<Result<Vec<_>>>()?.into_iter().unzip();
        let (m, s) = mean_std(&evals);
        let per_seed: Vec<String> = evals.iter().map(|e| format!("{e:.0}")).collect();
        let eval_text = format!("{m:.1} ± {s:.1} ({}){}", per_seed.join(", "), sampled_note(&deterministic));
        let seconds = mean_std(&self.walls.iter().filter_map(|w| w.last().map(|(_, t)| *t)).collect::<Vec<_>>()).0;
        let seeds = self.seeds.clone();
        Ok(Row {
            algo: variant.name(),
            seeds,
            final_text,
            reach_text,
            eval_text,
            seconds,
            last_episodes,
            evaluations: evals,
            deterministic,
        })
    }
}

/// What the table says after a row's evaluations when some of them sampled
/// their actions (nothing when all took the mean action).
fn sampled_note(deterministic: &[bool]) -> String {
    match deterministic.iter().filter(|d| !**d).count() {
        0 => String::new(),
        n if n == deterministic.len() => ", sampled".into(),
        n => format!(", sampled in {n} of {} runs", deterministic.len()),
    }
}

/// evaluations.csv: each run's mean of its last training episodes, its
/// final policy's evaluation, and whether that took the mean action.
fn write_evaluations_csv(path: &Path, rows: &[Row]) -> Result<()> {
    let mut csv = format!("algo,seed,last_{WINDOW}_training_episodes,final_evaluation,deterministic\n");
    for row in rows {
        let runs = row.last_episodes.iter().zip(&row.evaluations).zip(&row.deterministic).zip(&row.seeds);
        for (((last, evaluation), deterministic), seed) in runs {
            let last = last.map_or(String::new(), |v| v.to_string());
            csv += &format!("{},{seed},{last},{evaluation},{deterministic}\n", row.algo);
        }
    }
    std::fs::write(path, csv).with_context(|| format!("cannot write {}", path.display()))
}

/// curves.csv: each algorithm's mean and std on the step grid.
fn write_curves_csv(path: &Path, grid: &[usize], bands: &[Band]) -> Result<()> {
    let mut csv = String::from("total_steps");
    for b in bands {
        let name = b.label.to_lowercase().replace(' ', "+");
        csv.push_str(&format!(",{name}_mean,{name}_std"));
    }
    csv.push('\n');
    for (i, g) in grid.iter().enumerate() {
        csv.push_str(&g.to_string());
        for b in bands {
            let (m, s) = b.points[i].1.map_or((String::new(), String::new()), |(m, s)| (m.to_string(), s.to_string()));
            csv.push_str(&format!(",{m},{s}"));
        }
        csv.push('\n');
    }
    std::fs::write(path, csv).with_context(|| format!("cannot write {}", path.display()))
}

/// What a comparison's report covers.
struct Report<'a> {
    env: &'a str,
    threshold: Option<f64>,
    /// The seeds of each variant's runs (the finished ones).
    seeds: &'a [Vec<u64>],
    total_steps: usize,
    eval_episodes: usize,
}

impl Report<'_> {
    /// The report of `algos`' runs in `group`, with a GIF of each one's
    /// best final policy if `gif`.
    fn write(&self, group: &Path, algos: &[Variant], gif: bool) -> Result<()> {
        let rows = report(group, self, algos)?;
        if gif {
            draw_best(group, algos, &rows)?;
        }
        Ok(())
    }
}

/// One episode of each algorithm's best final policy (by its final
/// evaluation, the lowest seed among equals) as `ALGO__best.gif` in the
/// comparison's folder, its actions chosen as that evaluation chose them.
fn draw_best(group: &Path, algos: &[Variant], rows: &[Row]) -> Result<()> {
    for (variant, row) in algos.iter().zip(rows) {
        let better = |best: Option<usize>, i: usize| match best {
            Some(b) if row.evaluations[b] >= row.evaluations[i] => Some(b),
            _ => Some(i),
        };
        let Some(best) = (0..row.evaluations.len()).fold(None, better) else { continue };
        let seed = row.seeds[best];
        eval::run(&EvalRequest {
            target: group.join(run_name(variant, seed)),
            episodes: 1,
            deterministic: row.deterministic[best],
            seed: 0,
            gif: Some(group.join(format!("{}__best.gif", variant.name()))),
            csv: None,
            best: false,
        })
        .with_context(|| format!("drawing {} seed {seed}", variant.label()))?;
    }
    Ok(())
}

/// The curves against steps and wall time, the evaluation of every run's
/// final policy, curves.csv, the two charts and the table; the
/// table's rows.
fn report(group: &Path, what: &Report<'_>, algos: &[Variant]) -> Result<Vec<Row>> {
    let Report { env, threshold, seeds, total_steps, eval_episodes } = *what;
    let grid: Vec<usize> = (1..=GRID_POINTS).map(|i| total_steps * i / GRID_POINTS).collect();
    let all: Vec<AlgoRuns> =
        algos.iter().zip(seeds).map(|(a, s)| AlgoRuns::read(group, a, s)).collect::<Result<_>>()?;
    let rows: Vec<Row> =
        algos.iter().zip(&all).map(|(a, r)| r.row(a, &grid, threshold, eval_episodes)).collect::<Result<_>>()?;
    let points = evaluation_points(&rows, &all)?;
    let bands: Vec<Band> = algos
        .iter()
        .zip(&all)
        .zip(&rows)
        .map(|((a, r), row)| Band {
            final_evaluation: Some(mean_std(&row.evaluations)),
            evaluations: evaluation_curve(&points, &row.algo),
            ..band(&a.label(), &r.episodes, &vec![total_steps; r.dirs.len()], &grid, 1.0)
        })
        .collect();
    // One wall-time grid for every algorithm: up to the slowest run's end.
    let timed: Vec<_> = all.iter().map(AlgoRuns::by_wall_time).collect();
    let longest_ms = timed.iter().flat_map(|(_, ends)| ends).copied().max().unwrap_or(1).max(1);
    let wall_grid: Vec<usize> = (1..=GRID_POINTS).map(|i| longest_ms * i / GRID_POINTS).collect();
    let wall_bands: Vec<Band> =
        algos.iter().zip(&timed).map(|(a, (runs, ends))| band(&a.label(), runs, ends, &wall_grid, 1e-3)).collect();

    write_curves_csv(&group.join("curves.csv"), &grid, &bands)?;
    write_evaluations_csv(&group.join("evaluations.csv"), &rows)?;
    let table = scores::statistics_table(&points);
    scores::write_statistics_csv(&group.join("statistics.csv"), &table)?;
    let names = algos.iter().map(Variant::label).collect::<Vec<_>>().join(" vs ");
    let names = if names.len() > 60 { format!("{} variants", algos.len()) } else { names };
    let (fewest, most) = (seeds.iter().map(Vec::len).min().unwrap_or(0), seeds.iter().map(Vec::len).max().unwrap_or(0));
    let counted = if fewest == most { format!("{most} seeds") } else { format!("{fewest} to {most} seeds") };
    let title = format!("{env}: {names} ({counted}, mean ± 1 std)");
    plot::draw(&group.join("curves.png"), &title, plot::TRAINING_RETURN, &bands, threshold, XAxis::Steps)?;
    plot::draw(
        &group.join("curves_wall_time.png"),
        &title,
        plot::TRAINING_RETURN,
        &wall_bands,
        threshold,
        XAxis::Seconds,
    )?;
    print_table(&rows, threshold, eval_episodes);
    scores::print_statistics(&table);
    println!(
        "wrote {}, {}, {}, {} and {}",
        group.join("evaluations.csv").display(),
        group.join("statistics.csv").display(),
        group.join("curves.csv").display(),
        group.join("curves.png").display(),
        group.join("curves_wall_time.png").display()
    );
    println!("all runs side by side: tensorboard --logdir {}", group.display());
    Ok(rows)
}

/// The mean return of `episodes` episodes of a run's final policy, from the
/// same start states (evaluation seed 0) for every run, its actions chosen
/// as its evaluations during training choose them (`eval_deterministic`,
/// returned beside the mean).
fn evaluate(run: &Path, episodes: usize) -> Result<(f64, bool)> {
    let deterministic = RunConfig::read(run)?.eval_deterministic;
    let req =
        EvalRequest { target: run.to_path_buf(), episodes, deterministic, seed: 0, gif: None, csv: None, best: false };
    let returns: Vec<f64> = eval::episodes(&req)?.0.iter().map(|e| e.ret).collect();
    Ok((returns.iter().sum::<f64>() / returns.len() as f64, deterministic))
}

/// The scores the statistics read: each algorithm's final evaluations
/// ("final"), then, at each step where every run evaluated
/// during training, the means of those evaluations.
fn evaluation_points(rows: &[Row], all: &[AlgoRuns]) -> Result<Points> {
    let mut points = vec![("final".to_owned(), rows.iter().map(|r| (r.algo.clone(), r.evaluations.clone())).collect())];
    let curves: Vec<Vec<Vec<(usize, f64)>>> = all
        .iter()
        .map(|runs| runs.dirs.iter().map(|d| logger::read_evaluations(d)).collect())
        .collect::<Result<_>>()?;
    let Some(first) = curves.first().and_then(|c| c.first()) else { return Ok(points) };
    for (step, _) in first {
        let at_step = |run: &Vec<(usize, f64)>| run.iter().find(|(s, _)| s == step).map(|(_, m)| *m);
        let scores: Option<Vec<(String, Vec<f64>)>> = rows
            .iter()
            .zip(&curves)
            .map(|(row, runs)| runs.iter().map(at_step).collect::<Option<Vec<f64>>>().map(|v| (row.algo.clone(), v)))
            .collect();
        if let Some(scores) = scores {
            points.push((step.to_string(), scores));
        }
    }
    Ok(points)
}

/// An algorithm's evaluations during training: (step, mean, std over seeds).
fn evaluation_curve(points: &Points, algo: &str) -> Vec<(f64, f64, f64)> {
    points
        .iter()
        .filter_map(|(point, scores)| {
            let step: f64 = point.parse().ok()?;
            let (_, xs) = scores.iter().find(|(a, _)| a == algo)?;
            let (m, s) = mean_std(xs);
            Some((step, m, s))
        })
        .collect()
}

fn print_table(rows: &[Row], threshold: Option<f64>, eval_episodes: usize) {
    let threshold = threshold.map_or("the threshold".into(), |t| t.to_string());
    println!();
    println!("final return: the mean of each run's last {WINDOW} training episodes, over seeds");
    println!(
        "final evaluation: each run's final policy, {eval_episodes} episodes from the same start states, {}",
        actions_taken(rows)
    );
    println!(
        "| algorithm | final return (median) | final return (mean ± std) | steps to reach {threshold} | final evaluation (mean ± std; per seed) | wall time per run |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!("| {} | {} | {} | {} | {:.1} s |", r.algo, r.final_text, r.reach_text, r.eval_text, r.seconds);
    }
    println!();
}

/// How the final evaluations chose their actions, for the table's legend.
fn actions_taken(rows: &[Row]) -> &'static str {
    let all = rows.iter().flat_map(|r| &r.deterministic);
    if all.clone().all(|d| *d) {
        "each action the policy's mean or most likely one (deterministic)"
    } else if all.clone().all(|d| !*d) {
        "each action sampled from the policy (the runs' eval_deterministic = false)"
    } else {
        "deterministic, except where a row says sampled (eval_deterministic = false)"
    }
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
