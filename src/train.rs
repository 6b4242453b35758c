//! `natgrad train`: one run, from its folder to its final checkpoint.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use natgrad_agents::evaluation::evaluate;
use natgrad_agents::{Agent, Collector, Control, Iteration, NonFinite, TrainError, parse_device, train};
use natgrad_envs::{MakeOptions, Restored, VectorEnv, VectorMode, make_vec, make_with, parse_kwarg, parse_wrapper};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, Checkpoint, Meta};
use crate::config::{self, AgentConfig, Algo, Overrides};
use crate::logger::{self, RunLogger};
use crate::run_lock::RunLock;

/// Checkpoints are written this often (in iterations), at the end, and on Ctrl-C.
const CHECKPOINT_EVERY: usize = 10;
/// The progress bar and the summary report the mean of this many episodes.
const RECENT_EPISODES: usize = 20;
/// Evaluations during training reset copy i with this seed + i, so that every
/// evaluation of every run plays the same start states, as `natgrad eval
/// --seed 0` and `natgrad compare`'s final evaluation do.
const EVAL_SEED: u64 = 0;

/// A run's `config.toml`: everything needed to repeat or resume it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunConfig {
    pub natgrad_version: String,
    pub algo: String,
    pub env: String,
    pub seed: u64,
    pub total_steps: usize,
    pub threads: usize,
    pub device: String,
    /// The critic fits beside the policy step, on a second thread.
    #[serde(default)]
    pub parallel_critic: bool,
    /// Threads stepping a native environment's copies; absent: automatic
    /// (one per copy up to the cores for MuJoCo, one for classic control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_threads: Option<usize>,
    /// `--env-kwargs` for Gymnasium, as given (`key=value`).
    #[serde(default)]
    pub env_kwargs: Vec<String>,
    /// Gymnasium wrappers inside each copy, innermost first, in
    /// `--env-wrapper` syntax (`module.Class:key=value,...`).
    #[serde(default)]
    pub env_wrappers: Vec<String>,
    /// How copies of an environment in Python are stepped: sync or async.
    #[serde(default = "default_vector_mode")]
    pub vector_mode: String,
    /// Environment steps between evaluations during training; 0: none.
    #[serde(default)]
    pub eval_freq: usize,
    /// Episodes per evaluation during training.
    #[serde(default = "default_eval_episodes")]
    pub eval_episodes: usize,
    /// Whether evaluations take the most likely actions (zoo's
    /// `deterministic_eval`; sampled ones on Atari, where a deterministic
    /// policy can wait forever for a ball it never serves).
    #[serde(default = "default_eval_deterministic")]
    pub eval_deterministic: bool,
    /// Environment copies an evaluation runs on.
    #[serde(default = "default_n_eval_envs")]
    pub n_eval_envs: usize,
    pub hyperparameters: toml::Table,
}

fn default_eval_episodes() -> usize {
    10
}

fn default_eval_deterministic() -> bool {
    true
}

fn default_n_eval_envs() -> usize {
    1
}

fn default_vector_mode() -> String {
    "sync".into()
}

/// The environment options of `--env-kwargs`, `--env-wrapper` and
/// `--vector-mode`, checked.
pub fn make_options(env_kwargs: &[String], env_wrappers: &[String], vector_mode: &str) -> Result<MakeOptions> {
    let kwargs =
        env_kwargs.iter().map(|kv| parse_kwarg(kv).map_err(|e| anyhow!("--env-kwargs: {e}"))).collect::<Result<_>>()?;
    let wrappers = env_wrappers
        .iter()
        .map(|w| parse_wrapper(w).map_err(|e| anyhow!("--env-wrapper: {e}")))
        .collect::<Result<_>>()?;
    let vector_mode = match vector_mode {
        "sync" => VectorMode::Sync,
        "async" => VectorMode::Async,
        other => bail!("--vector-mode '{other}' is neither sync nor async"),
    };
    Ok(MakeOptions { kwargs, vector_mode, wrappers, ..MakeOptions::default() })
}

impl RunConfig {
    /// The settings that make `self` another run than `other`: everything
    /// but what a resume may change (total steps, threads, device, the
    /// critic's thread, the environment's threads) and the version that wrote it.
    fn settings_differing_from(&self, other: &RunConfig) -> Vec<&'static str> {
        [
            (self.algo != other.algo, "algo"),
            (self.env != other.env, "env"),
            (self.seed != other.seed, "seed"),
            (self.env_kwargs != other.env_kwargs, "env_kwargs"),
            (self.env_wrappers != other.env_wrappers, "env_wrappers"),
            (self.vector_mode != other.vector_mode, "vector_mode"),
            (self.eval_freq != other.eval_freq, "eval_freq"),
            (self.eval_episodes != other.eval_episodes, "eval_episodes"),
            (self.eval_deterministic != other.eval_deterministic, "eval_deterministic"),
            (self.n_eval_envs != other.n_eval_envs, "n_eval_envs"),
            (self.hyperparameters != other.hyperparameters, "hyperparameters"),
        ]
        .into_iter()
        .filter_map(|(differs, name)| differs.then_some(name))
        .collect()
    }

    pub fn read(run_dir: &Path) -> Result<Self> {
        let path = run_dir.join("config.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{} is not a natgrad run folder (no readable config.toml)", run_dir.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{} is damaged; it cannot be read as a run configuration", path.display()))
    }

    /// The agent's hyperparameters, checked as on a fresh run.
    pub fn agent_config(&self) -> Result<AgentConfig> {
        let algo = Algo::parse(&self.algo)?;
        let sets: Vec<String> = self.hyperparameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        config::resolve(algo, &self.env, &Overrides { config_file: None, sets: &sets, flags: &[] })
    }

    /// How this run's environment is made.
    pub fn make_options(&self) -> Result<MakeOptions> {
        let options = make_options(&self.env_kwargs, &self.env_wrappers, &self.vector_mode)?;
        Ok(MakeOptions { env_threads: self.env_threads, ..options })
    }
}

/// What `natgrad train` was asked for.
#[derive(Debug)]
pub struct TrainRequest {
    pub algo: Option<String>,
    pub env: Option<String>,
    pub seed: u64,
    pub total_steps: Option<usize>,
    pub logdir: PathBuf,
    pub run_name: Option<String>,
    pub threads: usize,
    /// Threads stepping a native environment's copies; `None`: automatic.
    pub env_threads: Option<usize>,
    pub device: String,
    /// `None`: on when the machine has more cores than `threads`.
    pub parallel_critic: Option<bool>,
    pub config: Option<PathBuf>,
    pub sets: Vec<String>,
    pub flags: Vec<(String, String)>,
    pub quiet: bool,
    pub resume: Option<PathBuf>,
    /// Continue the `run_name` folder if it exists (job arrays, requeues).
    pub resume_existing: bool,
    pub env_kwargs: Vec<String>,
    /// `--env-wrapper`, as given; empty: the preset's; `none` alone: none.
    pub env_wrappers: Vec<String>,
    /// `None`: sync for a fresh run, the run's own on resume.
    pub vector_mode: Option<String>,
    /// Evaluation during training; `None`: the environment's preset.
    pub eval_freq: Option<usize>,
    pub eval_episodes: Option<usize>,
    pub eval_deterministic: Option<bool>,
    pub n_eval_envs: Option<usize>,
}

/// How a run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    /// Stopped by Ctrl-C or SIGTERM after checkpointing.
    Interrupted,
}

/// Ctrl-C, SIGTERM or SIGHUP: the first asks the run to stop after the
/// current iteration and write its checkpoint; a second ends the process at
/// once (status 130). SIGTERM is how Slurm preempts a job or ends one at its
/// time limit (then SIGKILL after its KillWait, 30 s by default), and how
/// `scancel` and `kill` stop one.
fn interrupt_flag() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let presses = Arc::new(AtomicUsize::new(0));
    let flag = stop.clone();
    let installed = ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            flag.store(true, Ordering::SeqCst);
            eprintln!(
                "\nstopping after this iteration and writing a checkpoint (a second Ctrl-C or SIGTERM stops at once)"
            );
        } else {
            eprintln!("\nstopped at once, without writing a new checkpoint");
            // _exit, not exit: exit would run libtorch's static destructors
            // while the main thread is still inside a torch operation.
            // SAFETY: _exit has no preconditions; it ends the process.
            unsafe { libc::_exit(130) };
        }
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C will stop the run at once, without a checkpoint ({e})");
    }
    stop
}

fn validate_run_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        bail!("invalid --run-name '{name}': use a plain folder name, without '/'");
    }
    Ok(())
}

/// Creates the run folder, refusing to reuse an existing one.
fn create_run_dir(logdir: &Path, name: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(logdir)
        .with_context(|| format!("cannot create the log folder {}; choose a writable --logdir", logdir.display()))?;
    let dir = logdir.join(name);
    match std::fs::create_dir(&dir) {
        Ok(()) => Ok(dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "run folder {} already exists and is never overwritten; choose another --run-name, or continue it with --resume {}",
            dir.display(),
            dir.display()
        ),
        Err(e) => Err(anyhow!("cannot create run folder {}: {e}; choose a writable --logdir", dir.display())),
    }
}

/// The wrappers a run applies: those given, the preset's if none are, and
/// none for `--env-wrapper none`.
pub fn env_wrappers(given: &[String], env: &str) -> Vec<String> {
    match given {
        [] => config::preset_env_wrappers(env),
        [none] if none == "none" => vec![],
        given => given.to_vec(),
    }
}

/// Resolves a fresh run's configuration and creates its folder, locked.
fn start(req: &TrainRequest, algo: &str, env: &str) -> Result<(RunConfig, PathBuf, RunLock)> {
    let (run, name) = fresh_config(req, algo, env)?;
    let dir = create_run_dir(&req.logdir, &name)?;
    let lock = RunLock::acquire(&dir)?;
    let text = format!("# natgrad {} run configuration\n{}", run.natgrad_version, toml::to_string(&run)?);
    std::fs::write(dir.join("config.toml"), text)
        .with_context(|| format!("cannot write {}/config.toml", dir.display()))?;
    Ok((run, dir, lock))
}

/// A fresh run's configuration, every setting checked, and its folder's
/// name; nothing is written.
fn fresh_config(req: &TrainRequest, algo: &str, env: &str) -> Result<(RunConfig, String)> {
    let algo = Algo::parse(algo)?;
    let vector_mode = req.vector_mode.clone().unwrap_or_else(default_vector_mode);
    let env_wrappers = env_wrappers(&req.env_wrappers, env);
    let probe = make_with(env, &make_options(&req.env_kwargs, &env_wrappers, &vector_mode)?)?;
    let spec = probe.spec().clone();
    let overrides = Overrides { config_file: req.config.as_deref(), sets: &req.sets, flags: &req.flags };
    let agent_config = config::resolve(algo, &spec.id, &overrides)?;
    // Every setting against the spaces (gSDE, a CNN, the Fisher), before the
    // run folder exists: the networks are built once and dropped.
    agent_config.build(probe.observation_space(), probe.action_space(), tch::Device::Cpu, req.seed)?;
    let total_steps = req.total_steps.unwrap_or_else(|| config::preset_total_steps(&spec.id));
    let eval_episodes = req.eval_episodes.unwrap_or_else(|| config::preset_eval_episodes(&spec.id));
    let n_eval_envs = req.n_eval_envs.unwrap_or_else(|| config::preset_n_eval_envs(&spec.id));
    check_counts(req, total_steps, eval_episodes, n_eval_envs)?;
    parse_device(&req.device)?;
    let name = match &req.run_name {
        Some(name) => {
            validate_run_name(name)?;
            name.clone()
        }
        None => default_run_name(&spec.id, algo, req.seed),
    };
    let run = RunConfig {
        natgrad_version: env!("CARGO_PKG_VERSION").into(),
        algo: algo.name().into(),
        env: spec.id.clone(),
        seed: req.seed,
        total_steps,
        threads: req.threads,
        env_threads: req.env_threads,
        device: req.device.clone(),
        parallel_critic: req.parallel_critic.unwrap_or_else(|| spare_core(req.threads)),
        env_kwargs: req.env_kwargs.clone(),
        env_wrappers,
        vector_mode,
        eval_freq: req.eval_freq.unwrap_or_else(|| config::preset_eval_freq(&spec.id)),
        eval_episodes,
        eval_deterministic: req.eval_deterministic.unwrap_or_else(|| config::preset_eval_deterministic(&spec.id)),
        n_eval_envs,
        hyperparameters: agent_config.to_table(),
    };
    Ok((run, name))
}

/// Refuses counts of zero, naming the flag.
fn check_counts(req: &TrainRequest, total_steps: usize, eval_episodes: usize, n_eval_envs: usize) -> Result<()> {
    if total_steps == 0 {
        bail!("--total-steps must be at least 1");
    }
    if req.env_threads == Some(0) {
        bail!("--env-threads must be at least 1 (leave it out to choose automatically)");
    }
    if req.threads == 0 {
        bail!("--threads must be at least 1");
    }
    if eval_episodes == 0 || n_eval_envs == 0 {
        bail!("--eval-episodes and --n-eval-envs must be at least 1 (--eval-freq 0 turns evaluation off)");
    }
    Ok(())
}

/// A run folder's name when `--run-name` gives none: the environment, the
/// algorithm, the seed and the time, so that runs never collide.
fn default_run_name(env: &str, algo: Algo, seed: u64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    // ':' of `gym:` or `module:` ids would be awkward in a folder name.
    format!("{}__{}__{seed}__{now}", env.replace(':', "-"), algo.name())
}

/// `--resume-existing`: the run folder `--run-name` names, if it exists, for
/// a job that may be a resubmission of itself. A folder with a checkpoint is
/// resumed when it was started with the settings given; one without (killed
/// before its first checkpoint) is moved aside, never deleted, and `None`
/// says to start afresh.
fn open_existing(req: &TrainRequest, algo: &str, env: &str) -> Result<Option<OpenRun>> {
    let Some(name) = &req.run_name else {
        bail!("--resume-existing needs --run-name: it continues the run folder of that name if it exists");
    };
    validate_run_name(name)?;
    let dir = req.logdir.join(name);
    if !dir.exists() {
        return Ok(None);
    }
    // Every setting checked first: a refused command moves nothing.
    let (given, _) = fresh_config(req, algo, env)?;
    let lock = RunLock::acquire(&dir)?;
    if !dir.join(checkpoint::FILE_NAME).exists() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let aside = req.logdir.join(format!("{name}.incomplete-{now}"));
        drop(lock);
        std::fs::rename(&dir, &aside)
            .with_context(|| format!("cannot move {} (no checkpoint) aside to {}", dir.display(), aside.display()))?;
        eprintln!(
            "note: {} had no checkpoint (stopped before its first); moved to {} and started afresh",
            dir.display(),
            aside.display()
        );
        return Ok(None);
    }
    let mut run = RunConfig::read(&dir)?;
    let differing = run.settings_differing_from(&given);
    if !differing.is_empty() {
        bail!(
            "{} was started with other settings ({}); --resume-existing continues a run only with the settings it \
             was started with: give the same ones, or another --run-name",
            dir.display(),
            differing.join(", ")
        );
    }
    (run.total_steps, run.threads, run.env_threads, run.device, run.parallel_critic) =
        (given.total_steps, given.threads, given.env_threads, given.device, given.parallel_critic);
    let checkpoint = Checkpoint::read(&dir)?;
    checkpoint.check_matches(&run.algo, &run.env)?;
    Ok(Some(OpenRun { run, dir, _lock: lock, checkpoint: Some(checkpoint) }))
}

/// Options that may change when a run is resumed; everything else is fixed
/// by its config.toml.
fn resume(req: &TrainRequest, dir: &Path) -> Result<RunConfig> {
    let changed: Vec<&str> = [
        (req.algo.is_some(), "--algo"),
        (req.env.is_some(), "--env"),
        (req.config.is_some(), "--config"),
        (!req.sets.is_empty(), "--set"),
        (!req.flags.is_empty(), "hyperparameter flags"),
        (req.run_name.is_some(), "--run-name"),
        (!req.env_kwargs.is_empty(), "--env-kwargs"),
        (!req.env_wrappers.is_empty(), "--env-wrapper"),
        (req.vector_mode.is_some(), "--vector-mode"),
        (req.eval_freq.is_some(), "--eval-freq"),
        (req.eval_episodes.is_some(), "--eval-episodes"),
        (req.eval_deterministic.is_some(), "--eval-deterministic"),
        (req.n_eval_envs.is_some(), "--n-eval-envs"),
    ]
    .into_iter()
    .filter_map(|(given, name)| given.then_some(name))
    .collect();
    if !changed.is_empty() {
        bail!(
            "{} cannot be given with --resume: a resumed run keeps its config.toml (only --total-steps, --threads, --env-threads, --device, --parallel-critic and --quiet may change)",
            changed.join(", ")
        );
    }
    let mut run = RunConfig::read(dir)?;
    if let Some(total) = req.total_steps {
        run.total_steps = total;
    }
    run.threads = req.threads;
    run.env_threads = req.env_threads;
    run.device = req.device.clone();
    run.parallel_critic = req.parallel_critic.unwrap_or_else(|| spare_core(req.threads));
    Ok(run)
}

/// Whether the machine has a core beyond libtorch's `threads` for the critic.
fn spare_core(threads: usize) -> bool {
    std::thread::available_parallelism().is_ok_and(|cores| cores.get() > threads)
}

/// A run folder opened for training: its configuration, held by this process.
struct OpenRun {
    run: RunConfig,
    dir: PathBuf,
    _lock: RunLock,
    checkpoint: Option<Checkpoint>,
}

/// Creates a fresh run folder, or opens one to resume; either way locked for
/// this process before anything in it is written.
fn open_run(req: &TrainRequest) -> Result<OpenRun> {
    match &req.resume {
        Some(dir) => {
            let run = resume(req, dir)?;
            let lock = RunLock::acquire(dir)?;
            let checkpoint = Checkpoint::read(dir)?;
            checkpoint.check_matches(&run.algo, &run.env)?;
            Ok(OpenRun { run, dir: dir.clone(), _lock: lock, checkpoint: Some(checkpoint) })
        }
        None => {
            let (Some(algo), Some(env)) = (&req.algo, &req.env) else {
                bail!("natgrad train needs --algo and --env (or --resume RUN_DIR); see natgrad train --help");
            };
            if req.resume_existing
                && let Some(open) = open_existing(req, algo, env)?
            {
                return Ok(open);
            }
            let (run, dir, lock) = start(req, algo, env)?;
            Ok(OpenRun { run, dir, _lock: lock, checkpoint: None })
        }
    }
}

/// The agent and the collector of a run, restored from its checkpoint if it
/// has one; with the number of iterations already done.
fn build(run: &RunConfig, checkpoint: Option<&Checkpoint>) -> Result<(Box<dyn Agent>, Collector, usize)> {
    let agent_config = run.agent_config()?;
    let device = parse_device(&run.device)?;
    tch::set_num_threads(run.threads as i32);
    natgrad_agents::agent::set_parallel_critic(run.parallel_critic);
    let common = agent_config.common().clone();
    let venv = make_vec(&run.env, common.n_envs, &run.make_options()?)?;
    let (observation_space, action_space) = (venv.observation_space().clone(), venv.action_space().clone());
    let mut agent = agent_config.build(&observation_space, &action_space, device, run.seed)?;
    let scale = common.scale_rewards.then_some(common.gamma);
    let mut collector = Collector::new(venv, run.seed, common.normalize_observations, scale)?;
    let iterations = match checkpoint {
        Some(c) => {
            if c.restore(agent.as_mut(), &mut collector)? == Restored::EpisodesRestart {
                eprintln!(
                    "note: {} cannot save its state (natgrad snapshots MuJoCo environments, and others that \
                     define natgrad_get_state() and natgrad_set_state(state)), so the episodes in progress at \
                     the checkpoint restart; the agent continues exactly",
                    run.env
                );
            }
            c.meta.iterations
        }
        None => 0,
    };
    Ok((agent, collector, iterations))
}

fn progress_bar(quiet: bool, total_steps: usize, position: usize) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total_steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30.cyan/blue} {human_pos}/{human_len} steps | {msg} | {elapsed_precise}")
            .expect("a valid template"),
    );
    bar.set_position(position as u64);
    bar
}

/// What happens between iterations: logs, checkpoints, the progress bar and
/// the Ctrl-C flag.
struct Session<'a> {
    run: &'a RunConfig,
    dir: &'a Path,
    logger: RunLogger,
    bar: ProgressBar,
    stop: Arc<AtomicBool>,
    steps_per_iteration: usize,
    started: Instant,
    iteration_started: Instant,
    /// Returns of the last `RECENT_EPISODES` episodes, for the bar and the summary.
    recent: Vec<f64>,
    /// Iterations the checkpoint on disk holds.
    checkpointed: Option<usize>,
    failure: Option<anyhow::Error>,
    interrupted: bool,
    /// Seconds this process spent collecting rollouts (environments and the
    /// actor), in policy updates and in critic updates.
    time_split: [f64; 3],
    evaluator: Option<Evaluator>,
}

/// Evaluation during training (`eval_freq`), as rl-baselines3-zoo's
/// `EvalCallback`: environment copies of its own, deterministic actions
/// unless `eval_deterministic` is off, the
/// observation statistics of the moment; the best policy kept.
struct Evaluator {
    venv: Box<dyn VectorEnv>,
    /// The best mean so far, from `evaluations.csv` on resume.
    best: Option<f64>,
    last: Option<f64>,
    /// Seconds this process spent evaluating.
    seconds: f64,
}

impl Evaluator {
    /// The evaluator of `run`, if it evaluates; `dir`'s evaluations so far
    /// (already cut back to a resumed run's checkpoint) give the best.
    fn open(run: &RunConfig, dir: &Path) -> Result<Option<Self>> {
        if run.eval_freq == 0 {
            return Ok(None);
        }
        let venv = make_vec(&run.env, run.n_eval_envs, &run.make_options()?)?;
        Ok(Some(Self { venv, best: logger::best_evaluation(dir)?, last: None, seconds: 0.0 }))
    }
}

impl Session<'_> {
    fn on_iteration(&mut self, it: &Iteration, agent: &mut dyn Agent, collector: &mut Collector) -> Control {
        let sps = self.steps_per_iteration as f64 / self.iteration_started.elapsed().as_secs_f64().max(1e-9);
        self.iteration_started = Instant::now();
        let t = &it.stats.timings;
        let policy = t.policy_gradient + t.conjugate_gradient + t.line_search;
        for (total, d) in self.time_split.iter_mut().zip([t.rollout, policy, t.critic]) {
            *total += d.as_secs_f64();
        }
        self.recent.extend(it.episodes.iter().map(|e| e.episode_return));
        let excess = self.recent.len().saturating_sub(RECENT_EPISODES);
        self.recent.drain(..excess);
        let control = match self.log_and_checkpoint(it, sps, agent, collector) {
            Ok(control) => control,
            Err(e) => {
                self.failure = Some(e);
                Control::Stop
            }
        };
        self.interrupted = control == Control::Stop && self.failure.is_none();
        let mean = mean_of(&self.recent).map_or("no episode yet".into(), |m| format!("return {m:.1}"));
        let eval = self.evaluator.as_ref().and_then(|e| e.last).map_or(String::new(), |m| format!(" | eval {m:.1}"));
        self.bar.set_position(collector.total_steps as u64);
        self.bar.set_message(format!("{mean}{eval} | kl {:.4} | {sps:.0} steps/s", it.stats.approx_kl));
        control
    }

    fn log_and_checkpoint(
        &mut self,
        it: &Iteration,
        sps: f64,
        agent: &mut dyn Agent,
        collector: &mut Collector,
    ) -> Result<Control> {
        self.logger.iteration(it.index, it, sps, self.started.elapsed().as_secs_f64())?;
        let iterations_done = it.index + 1;
        let freq = self.run.eval_freq;
        let steps_before = collector.total_steps - self.steps_per_iteration;
        if freq > 0 && collector.total_steps / freq > steps_before / freq {
            self.evaluate(iterations_done, agent, collector)?;
        }
        let stopping = self.stop.load(Ordering::SeqCst);
        let last = collector.total_steps >= self.run.total_steps;
        if stopping || last || iterations_done.is_multiple_of(CHECKPOINT_EVERY) {
            let meta = self.meta(iterations_done, collector.total_steps);
            self.logger.sync()?;
            checkpoint::save(self.dir, &meta, agent, collector)?;
            self.checkpointed = Some(iterations_done);
        }
        Ok(if stopping { Control::Stop } else { Control::Continue })
    }

    /// What a checkpoint after `iterations` iterations and `total_steps` steps says of itself.
    fn meta(&self, iterations: usize, total_steps: usize) -> Meta {
        Meta {
            natgrad_version: env!("CARGO_PKG_VERSION").into(),
            algo: self.run.algo.clone(),
            env: self.run.env.clone(),
            iterations,
            total_steps,
        }
    }

    /// Evaluates the policy as it stands, logs the result and keeps the
    /// policy as `best.safetensors` when its mean is the best so far. Before
    /// the iteration's checkpoint, so that a resumed run never lacks an
    /// evaluation its checkpoint has passed.
    fn evaluate(&mut self, iterations: usize, agent: &mut dyn Agent, collector: &Collector) -> Result<()> {
        let meta = self.meta(iterations, collector.total_steps);
        let Some(evaluator) = self.evaluator.as_mut() else { return Ok(()) };
        let start = Instant::now();
        let normalizer = collector.obs_normalizer.as_ref();
        let (episodes, deterministic) = (self.run.eval_episodes, self.run.eval_deterministic);
        let result = evaluate(agent.policy(), evaluator.venv.as_mut(), normalizer, episodes, deterministic, EVAL_SEED)?;
        self.logger.evaluation(collector.total_steps, &result)?;
        let mean = result.mean_return();
        if evaluator.best.is_none_or(|best| mean > best) {
            evaluator.best = Some(mean);
            checkpoint::save_as(&self.dir.join(checkpoint::BEST_FILE_NAME), &meta, agent, collector)?;
        }
        evaluator.last = Some(mean);
        evaluator.seconds += start.elapsed().as_secs_f64();
        Ok(())
    }

    /// The error of a run that diverged at `iteration`, saying what is kept.
    fn diverged(&self, iteration: usize, source: NonFinite) -> anyhow::Error {
        let kept = match self.checkpointed {
            Some(n) => format!("the checkpoint after iteration {n} is kept in {}", self.dir.display()),
            None => "no checkpoint was written".to_owned(),
        };
        anyhow!("training stopped at iteration {iteration}: {source}; nothing of that iteration was saved, and {kept}")
    }
}

/// Runs `natgrad train`.
pub fn run(req: &TrainRequest) -> Result<Outcome> {
    let OpenRun { run, dir, _lock, checkpoint } = open_run(req)?;
    if req.resume_existing
        && let Some(c) = &checkpoint
        && c.meta.total_steps >= run.total_steps
    {
        say(&format!("{}: complete ({} steps); nothing to do", dir.display(), c.meta.total_steps));
        return Ok(Outcome::Finished);
    }
    let (mut agent, mut collector, first_iteration) = build(&run, checkpoint.as_ref())?;
    let resumed_at = checkpoint.as_ref().map(|c| (c.meta.iterations, c.meta.total_steps));
    let mut logger = RunLogger::open(&dir, resumed_at, run.eval_freq > 0)?;
    let evaluator = Evaluator::open(&run, &dir)?;
    if checkpoint.is_none() {
        logger.hyperparameters(&hyperparameter_rows(&run))?;
    }
    let common = agent.common().clone();
    let start_steps = collector.total_steps;
    let mut session = Session {
        run: &run,
        dir: &dir,
        logger,
        bar: progress_bar(req.quiet, run.total_steps, start_steps),
        stop: interrupt_flag(),
        steps_per_iteration: common.n_envs * common.n_steps,
        started: Instant::now(),
        iteration_started: Instant::now(),
        recent: vec![],
        checkpointed: checkpoint.as_ref().map(|c| c.meta.iterations),
        failure: None,
        interrupted: false,
        time_split: [0.0; 3],
        evaluator,
    };
    let trained = train(agent.as_mut(), &mut collector, run.total_steps, first_iteration, |it, agent, collector| {
        session.on_iteration(it, agent, collector)
    });
    session.bar.finish_and_clear();
    match trained {
        Err(TrainError::NonFinite { iteration, source }) => return Err(session.diverged(iteration, source)),
        Err(e) => return Err(e.into()),
        Ok(()) => {}
    }
    if let Some(e) = session.failure.take() {
        return Err(e);
    }
    report(&session, &collector, collector.total_steps - start_steps);
    if session.interrupted {
        eprintln!("resume with: natgrad train --resume {}", dir.display());
        Ok(Outcome::Interrupted)
    } else {
        Ok(Outcome::Finished)
    }
}

/// The hyperparameters' text summary of a fresh run.
fn hyperparameter_rows(run: &RunConfig) -> Vec<(String, String)> {
    let mut rows = vec![
        ("algo".to_string(), run.algo.clone()),
        ("env".to_string(), run.env.clone()),
        ("seed".to_string(), run.seed.to_string()),
        ("total_steps".to_string(), run.total_steps.to_string()),
    ];
    rows.extend(run.hyperparameters.iter().map(|(k, v)| (k.clone(), v.to_string())));
    rows
}

/// The one-line summary of a finished or interrupted run; `steps` were taken
/// by this process.
fn report(session: &Session, collector: &Collector, steps: usize) {
    let run = session.run;
    let seconds = session.started.elapsed().as_secs_f64();
    let mean = mean_of(&session.recent).map_or("no episode finished".into(), |m| {
        format!("mean return of the last {} episodes {m:.1}", session.recent.len())
    });
    let threshold =
        collector.venv.spec().reward_threshold.map_or(String::new(), |t| format!(" (reward threshold {t})"));
    let status = if session.interrupted { "stopped (Ctrl-C or SIGTERM) at" } else { "finished" };
    let [rollouts, policy, critic] = session.time_split;
    let beside = if run.parallel_critic { " beside them" } else { "" };
    let (eval_time, eval) = match &session.evaluator {
        Some(Evaluator { last: Some(last), best: Some(best), seconds, .. }) => (
            format!(", evaluation {seconds:.1} s"),
            format!("; last evaluation {last:.1} (best {best:.1}, kept as {})", checkpoint::BEST_FILE_NAME),
        ),
        _ => (String::new(), String::new()),
    };
    say(&format!(
        "{} {} seed {}: {status} {} steps ({steps} in {seconds:.1} s, {:.0} steps/s: rollouts {rollouts:.1} s, policy \
         updates {policy:.1} s, critic {critic:.1} s{beside}{eval_time}); {mean}{threshold}{eval}; run folder {}",
        run.algo,
        run.env,
        run.seed,
        collector.total_steps,
        steps as f64 / seconds.max(1e-9),
        session.dir.display()
    ));
}

/// Prints a line of the run's outcome. The run folder already holds all of
/// it, so a stdout nobody reads any more (a launcher that was killed, `| head`)
/// is no reason to fail, or to panic as `println!` would.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

fn mean_of(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}
