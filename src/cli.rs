//! Command-line interface.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Arg, ArgMatches, Args, FromArgMatches, Parser, Subcommand};
use natgrad_envs::{Env, Rng, Space, make, specs};

use crate::compare::{self, CompareRequest};
use crate::config;
use crate::demo::{self, NgdRequest};
use crate::eval::{self, EvalRequest};
use crate::launch::{Launcher, SlurmOptions};
use crate::scores;
use crate::train::{self, Outcome, TrainRequest};

#[derive(Parser, Debug)]
#[command(
    name = "natgrad",
    version,
    about = "Natural-gradient reinforcement learning: TRPO, NPG, ACKTR and VPG, with exact, K-FAC, diagonal or \
             empirical Fisher matrices, on every Gymnasium environment (classic control native in Rust)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const TRAIN_EXAMPLES: &str = "Examples:
  natgrad train --algo trpo --env CartPole-v1
  natgrad train --algo vpg --env Pendulum-v1 --seed 3 --total-steps 200000
  natgrad train --algo trpo --env Acrobot-v1 --target-kl 0.02 --set cg_iters=20
  natgrad train --algo npg --env CartPole-v1 --config my_settings.toml --run-name npg-test
  natgrad train --algo trpo --env CartPole-v1 --eval-freq 10000 --eval-episodes 20 --n-eval-envs 4
  natgrad train --resume runs/CartPole-v1__trpo__1__1764000000
Watch a run: tensorboard --logdir runs";

const EVAL_EXAMPLES: &str = "Examples:
  natgrad eval runs/CartPole-v1__trpo__1__1764000000 --episodes 20 --deterministic
  natgrad eval runs/my-run/checkpoint.safetensors --gif cartpole.gif
  natgrad eval runs/Hopper-v5__trpo__1__1764000000 --best --episodes 10 --deterministic";

const COMPARE_EXAMPLES: &str = "Examples:
  natgrad compare --env CartPole-v1
  natgrad compare --env Pendulum-v1 --algos trpo,npg,vpg --seeds 5 --jobs 2
  natgrad compare --env CartPole-v1 --algos trpo,trpo+fisher=kfac,trpo+fisher=diagonal,acktr --seeds 5
Writes evaluations.csv, statistics.csv (mean ± standard error, IQM and probability of improvement with
95% bootstrap intervals), curves.csv, curves.png and curves_wall_time.png into a compare__{env}__{unix_time}
folder under --logdir; --report COMPARE_DIR rebuilds them.";

const STATISTICS_EXAMPLES: &str = "Examples:
  natgrad statistics scores.csv
  natgrad statistics scores.csv --csv statistics.csv --plot curves.png
scores.csv holds one row per run and point (\"final\", or a step of an evaluation curve):
  point,algorithm,run,score
  final,natgrad,1,2415.3
  final,sb3-contrib,1,943.0";

#[derive(Subcommand, Debug)]
enum Command {
    /// Train an agent; logs, config.toml, progress.csv and checkpoints go to a run folder.
    #[command(after_help = TRAIN_EXAMPLES)]
    Train(TrainArgs),
    /// Evaluate a trained policy: mean and standard deviation of the return.
    #[command(after_help = EVAL_EXAMPLES)]
    Eval(EvalArgs),
    /// Train several algorithms on several seeds; plot and tabulate their learning curves.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(CompareArgs),
    /// The statistics of compare's table (mean ± standard error, IQM and
    /// probability of improvement with 95% bootstrap intervals) for scores
    /// from any tool: one CSV row per run, `point,algorithm,run,score`.
    #[command(after_help = STATISTICS_EXAMPLES)]
    Statistics {
        /// Scores, one run per row under the header point,algorithm,run,score.
        scores: PathBuf,
        /// Also write the table as CSV (compare's statistics.csv columns).
        #[arg(long, value_name = "FILE.csv")]
        csv: Option<PathBuf>,
        /// Also draw the scores against the steps (the points that are
        /// numbers) as curves of mean ± standard error, the final point at
        /// the right edge.
        #[arg(long, value_name = "FILE.png")]
        plot: Option<PathBuf>,
    },
    /// Tune hyperparameters with Optuna (TPE sampler, median pruner), each
    /// trial a natgrad train run; workers anywhere share one study through
    /// its storage.
    #[command(after_help = TUNE_EXAMPLES)]
    Tune(TuneArgs),
    /// Demonstrations of the ideas behind the agents.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// List the native environments with their spaces, time limits and reward
    /// thresholds, then the ids Gymnasium has registered.
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

const TUNE_EXAMPLES: &str = "Examples:
  natgrad tune --env Pendulum-v1 --algo trpo --trials 50 --study-name pendulum --storage sqlite:///pendulum.db
  natgrad tune --env Hopper-v5 --algo trpo --trials 100 --total-steps 200000 --study-name hopper \\
      --storage postgresql://me@db/optuna          # the same command on every machine: one shared study
  natgrad tune --env CartPole-v1 --algo trpo --trials 20 --study-name cp --storage /shared/cp.log --space space.toml
then: natgrad train --algo trpo --env Pendulum-v1 --config runs/tune/pendulum/best.toml

A --space file holds one table per hyperparameter (natgrad's names):
  gamma = { choices = [0.98, 0.99, 0.995] }
  critic_learning_rate = { low = 1e-5, high = 1e-2, log = true }
  policy_hidden = { choices = [[64, 64], [256, 256]] }
  net_arch = { choices = [\"small\", \"medium\"] }   # zoo's: both networks [64, 64] or [256, 256]";

#[derive(Args, Debug)]
struct TuneArgs {
    /// Environment id, as for natgrad train.
    #[arg(long)]
    env: String,
    /// Algorithm: trpo, npg, acktr or vpg.
    #[arg(long)]
    algo: String,
    /// Trials of the study in all, over every worker sharing it (pruned ones count).
    #[arg(long)]
    trials: usize,
    /// The study's name in its storage; also the folder of its trials' runs under --logdir.
    #[arg(long)]
    study_name: String,
    /// Optuna storage: sqlite:///FILE.db on one machine, postgresql://... or
    /// mysql://... for many, or a JournalFile path ending in .log on a file
    /// system every worker sees.
    #[arg(long)]
    storage: String,
    /// Trials at a time in this process (each a natgrad train process with one thread).
    #[arg(long, default_value_t = 1)]
    n_jobs: usize,
    /// Environment steps per trial [default: the environment's preset].
    #[arg(long)]
    total_steps: Option<usize>,
    /// Evaluate each trial every this many steps; the pruner compares these
    /// evaluations, and a trial's value is its last [default: a fifth of
    /// --total-steps].
    #[arg(long, value_name = "STEPS")]
    eval_freq: Option<usize>,
    /// Deterministic episodes per evaluation (zoo's n_eval_episodes).
    #[arg(long, default_value_t = 5)]
    eval_episodes: usize,
    /// Seed of every trial's first run (the same for all: trials differ in
    /// their hyperparameters only).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Runs per trial, side by side on seeds --seed, --seed + 1, ...; the
    /// pruner and the trial's value take the mean of their evaluations.
    /// One seed's evaluation is a noisy score: the best of many trials is
    /// then mostly the luckiest.
    #[arg(long, default_value_t = 1)]
    trial_seeds: usize,
    /// Seed of the sampler, for a repeatable study with one worker; workers
    /// that share a study need different ones, or none (the default).
    #[arg(long)]
    sampler_seed: Option<u64>,
    /// A TOML search space instead of the algorithm's default (zoo's
    /// sample_trpo_params for trpo and npg; see below).
    #[arg(long, value_name = "FILE.toml")]
    space: Option<PathBuf>,
    /// tpe (Optuna's TPESampler) or random.
    #[arg(long, value_parser = ["tpe", "random"], default_value = "tpe")]
    sampler: String,
    /// median (Optuna's MedianPruner) or none.
    #[arg(long, value_parser = ["median", "none"], default_value = "median")]
    pruner: String,
    /// Trials the sampler draws at random and the pruner lets finish before
    /// they start to work.
    #[arg(long, default_value_t = 5)]
    n_startup_trials: usize,
    /// Steps of a trial before the pruner may stop it.
    #[arg(long, default_value_t = 0)]
    pruner_warmup_steps: usize,
    /// Folder under which the study's folder (its trials' run folders and best.toml) is created.
    #[arg(long, default_value = "runs/tune")]
    logdir: PathBuf,
    /// Keyword argument for gymnasium.make, for every trial; repeatable.
    #[arg(long = "env-kwargs", value_name = "KEY=VALUE")]
    env_kwargs: Vec<String>,
    /// A Gymnasium wrapper for every trial (see natgrad train --env-wrapper); repeatable.
    #[arg(long = "env-wrapper", value_name = "MODULE.CLASS[:KEY=VALUE,...]")]
    env_wrappers: Vec<String>,
}

#[derive(Args, Debug)]
struct TrainArgs {
    /// Algorithm: trpo, npg, acktr or vpg.
    #[arg(long)]
    algo: Option<String>,
    /// Environment id: a native one (CartPole-v1, Hopper-v5, ...), any id
    /// Gymnasium knows (LunarLander-v3, ALE/Pong-v5, my_package:MyEnv-v0), or
    /// gym:ID for Gymnasium's version of a native one (see natgrad envs).
    #[arg(long)]
    env: Option<String>,
    /// Keyword argument for gymnasium.make or a native MuJoCo task (numbers, true/false, strings, tuples as "(a,b)"); repeatable.
    #[arg(long = "env-kwargs", value_name = "KEY=VALUE")]
    env_kwargs: Vec<String>,
    /// A Gymnasium wrapper applied inside each copy, as module.Class with
    /// optional keyword arguments after a colon, e.g.
    /// gymnasium.wrappers.AtariPreprocessing:frame_skip=1,screen_size=84 or
    /// minigrid.wrappers.ImgObsWrapper or natgrad's own
    /// natgrad.wrappers.FireOnNewLife (Atari games that wait for FIRE, such
    /// as Breakout); repeatable, applied in the order
    /// given (the first innermost) and recorded in config.toml. Replaces the
    /// preset's wrappers; `none` applies none [default: the environment's
    /// preset].
    #[arg(long = "env-wrapper", value_name = "MODULE.CLASS[:KEY=VALUE,...]")]
    env_wrappers: Vec<String>,
    /// How several copies of an environment in Python step: sync (one after
    /// another in this process) or async (worker processes) [default: sync].
    #[arg(long, value_parser = ["sync", "async"])]
    vector_mode: Option<String>,
    /// Seed of everything random in the run [default: 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Environment steps to train for [default: the environment's preset].
    #[arg(long)]
    total_steps: Option<usize>,
    /// Folder that holds the run folders.
    #[arg(long, default_value = "runs")]
    logdir: PathBuf,
    /// Name of the run folder [default: {env}__{algo}__{seed}__{unix_time}].
    #[arg(long)]
    run_name: Option<String>,
    /// libtorch threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Threads stepping the copies of a native environment (the results are
    /// the same for any count) [default: one per copy up to the machine's
    /// cores for the MuJoCo tasks, one for classic control].
    #[arg(long, value_name = "N")]
    env_threads: Option<usize>,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Fit the value function on a thread of its own while the policy takes
    /// its step (the results are the same either way) [default: on when the
    /// machine has more cores than --threads].
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    parallel_critic: Option<String>,
    /// TOML file of hyperparameters (keys as below, with underscores), applied over the preset.
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Set one hyperparameter, applied over --config; repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Print only the final summary line.
    #[arg(long)]
    quiet: bool,
    /// Continue the run in RUN_DIR from its last checkpoint.
    #[arg(long, value_name = "RUN_DIR")]
    resume: Option<PathBuf>,
    /// With --run-name: if that run folder exists, continue it from its
    /// checkpoint (the settings given must be those it started with; exit at
    /// once if it is complete) instead of refusing; a folder without a
    /// checkpoint is moved aside to NAME.incomplete-UNIXTIME and the run
    /// starts afresh. For job arrays and requeued jobs: the same command,
    /// resubmitted, finishes what is missing.
    #[arg(long, conflicts_with = "resume")]
    resume_existing: bool,
    /// Evaluate the policy every this many environment steps during training
    /// (the most likely actions, copies of their own, the observation
    /// statistics of the moment; eval/mean_reward in TensorBoard,
    /// evaluations.csv, best.safetensors); 0: never [default: the
    /// environment's preset: 50000 on MuJoCo, 0 elsewhere].
    #[arg(long, value_name = "STEPS")]
    eval_freq: Option<usize>,
    /// Episodes per evaluation during training [default: the environment's preset: 10 on MuJoCo, 100 or 1000
    /// elsewhere].
    #[arg(long, value_name = "N")]
    eval_episodes: Option<usize>,
    /// Whether evaluations take the most likely actions (true) or sample
    /// them (false), rl-baselines3-zoo's deterministic_eval; also the final
    /// evaluation of compare [default: the environment's preset: false on
    /// Atari, as zoo, true elsewhere].
    #[arg(long, value_name = "BOOL")]
    eval_deterministic: Option<bool>,
    /// Environment copies an evaluation during training runs on [default: 1].
    #[arg(long, value_name = "N")]
    n_eval_envs: Option<usize>,
    #[command(flatten)]
    hyperparameters: HyperparameterFlags,
}

/// One `--key VALUE` flag per hyperparameter of any agent, documented by the
/// config structs' own doc comments.
#[derive(Debug, Default)]
struct HyperparameterFlags(Vec<(String, String)>);

impl FromArgMatches for HyperparameterFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let given = config::all_keys()
            .into_iter()
            .filter_map(|key| matches.get_one::<String>(key.name).map(|v| (key.name.to_owned(), v.clone())))
            .collect();
        Ok(Self(given))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for HyperparameterFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let mut cmd = cmd.next_help_heading("Hyperparameters [default: the environment's preset, see presets.toml]");
        for key in config::all_keys() {
            let one_line = |doc: &str| doc.lines().map(str::trim).collect::<Vec<_>>().join(" ");
            let names = |algos: &[config::Algo]| algos.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ");
            let help = match key.docs.as_slice() {
                [(doc, algos)] if algos.len() == config::Algo::ALL.len() => one_line(doc),
                [(doc, algos)] => format!("{} [{}]", one_line(doc), names(algos)),
                // The algorithms read the key differently: each reading, named.
                docs => docs
                    .iter()
                    .map(|(doc, algos)| format!("[{}] {}", names(algos), one_line(doc)))
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            cmd = cmd.arg(Arg::new(key.name).long(key.name.replace('_', "-")).value_name("VALUE").help(help));
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

const NGD_EXAMPLES: &str = "Examples:
  natgrad demo ngd
  natgrad demo ngd --out /tmp/ngd --seed 3
  natgrad demo ngd --l2 0          # the unpenalised, separable problem
Writes ngd.png, ngd_sweep.csv and ngd_curves.csv into --out (replacing earlier ones there).";

#[derive(Subcommand, Debug)]
enum DemoCommand {
    /// Natural-gradient descent (exact, empirical and diagonal Fisher) against gradient descent on logistic
    /// regression, well- and ill-conditioned: iterations to the optimum, a step-size sweep and a plot.
    #[command(after_help = NGD_EXAMPLES)]
    Ngd(NgdArgs),
}

#[derive(Args, Debug)]
struct NgdArgs {
    /// Folder for the plot and the CSV files (created if missing).
    #[arg(long, default_value = "runs/demo-ngd")]
    out: PathBuf,
    /// Seed of the 100 data points.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// L2 penalty lambda/2 |theta|^2 added to the objective, and the natural gradient's damping lambda
    /// (0: the unpenalised problem, which has no optimum because the data are separable).
    #[arg(long, default_value_t = 1e-3)]
    l2: f64,
    /// Iterations each method and step size may take.
    #[arg(long, default_value_t = 2_000)]
    max_iters: usize,
    /// How close to the optimal objective counts as converged.
    #[arg(long, default_value_t = 1e-6)]
    tolerance: f64,
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// Environment id, e.g. CartPole-v1 or Hopper-v5; several, separated by
    /// commas, make one grid (one job array) with a comparison folder and a
    /// report for each.
    #[arg(long, required_unless_present = "report")]
    env: Option<String>,
    /// Comma-separated algorithms, each with settings of its own if wanted:
    /// trpo,trpo+fisher=kfac,acktr (run folders and charts take these names).
    #[arg(long, default_value = "trpo,vpg")]
    algos: String,
    /// Seeds per algorithm (1, 2, ..., N).
    #[arg(long, default_value_t = 3)]
    seeds: usize,
    /// Environment steps per run [default: the environment's preset].
    #[arg(long)]
    total_steps: Option<usize>,
    /// Runs at a time, with --launcher local [default: the number of CPU cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Where the runs run: local (a process pool on this machine), print
    /// (write one complete natgrad train command line per run to stdout and
    /// commands.txt, for GNU parallel or any scheduler; run nothing) or slurm
    /// (write one sbatch job-array script into the comparison folder and
    /// submit it). Run folders must be on a file system every node sees;
    /// each command is safe to run again: it resumes an unfinished run and
    /// leaves a finished one alone.
    #[arg(long, value_parser = ["local", "print", "slurm"], default_value = "local")]
    launcher: String,
    /// Slurm partition of the job array.
    #[arg(long, value_name = "NAME")]
    slurm_partition: Option<String>,
    /// CPUs per Slurm task; with 2 or more the critic fits on a core of its own.
    #[arg(long, value_name = "N", default_value_t = 1)]
    cpus_per_task: usize,
    /// Time limit of each Slurm task (sbatch --time, e.g. 2:00:00); at it
    /// Slurm sends SIGTERM and the run checkpoints.
    #[arg(long, value_name = "TIME")]
    slurm_time: Option<String>,
    /// At most this many Slurm tasks at once (the array's %K).
    #[arg(long, value_name = "K")]
    slurm_max_running: Option<usize>,
    /// A further sbatch option for the array, as on sbatch's command line
    /// (e.g. --slurm-option=--mem=4G or --slurm-option=--requeue); repeatable.
    #[arg(long = "slurm-option", value_name = "OPTION", allow_hyphen_values = true)]
    slurm_options: Vec<String>,
    /// With --launcher slurm: wait for the array (polling squeue), then write
    /// the report.
    #[arg(long)]
    wait: bool,
    /// Folder under which the comparison's folder is created.
    #[arg(long, default_value = "runs")]
    logdir: PathBuf,
    /// Evaluation episodes of each run's final policy, its most likely
    /// actions unless the preset samples them (Atari, as zoo) [default: the
    /// environment's preset, 100; 1000 on Pendulum-v1].
    #[arg(long)]
    eval_episodes: Option<usize>,
    /// Keyword argument for gymnasium.make, passed to every run; repeatable.
    #[arg(long = "env-kwargs", value_name = "KEY=VALUE")]
    env_kwargs: Vec<String>,
    /// A Gymnasium wrapper for every run (see natgrad train --env-wrapper); repeatable.
    #[arg(long = "env-wrapper", value_name = "MODULE.CLASS[:KEY=VALUE,...]")]
    env_wrappers: Vec<String>,
    /// sync or async stepping of copies in Python, for every run [default: sync].
    #[arg(long, value_parser = ["sync", "async"])]
    vector_mode: Option<String>,
    /// Evaluate every run during training every this many steps (see natgrad
    /// train --eval-freq); statistics.csv then covers each evaluation
    /// [default: the environment's preset].
    #[arg(long, value_name = "STEPS")]
    eval_freq: Option<usize>,
    /// Whether every run's evaluations, during training and the final one,
    /// take the most likely actions (true) or sample them (false) (see
    /// natgrad train --eval-deterministic) [default: the environment's
    /// preset: false on Atari, true elsewhere].
    #[arg(long, value_name = "BOOL")]
    eval_deterministic: Option<bool>,
    /// Draw one episode of each algorithm's best final policy (by its final
    /// evaluation, its actions chosen as that evaluation chose them) as
    /// ALGO__best.gif beside the report (see natgrad eval --gif).
    #[arg(long)]
    gif: bool,
    /// Only rebuild the report (evaluations, statistics, curves, charts,
    /// tables) of an existing comparison folder.
    #[arg(
        long,
        value_name = "COMPARE_DIR",
        conflicts_with_all = [
            "env", "total_steps", "jobs", "env_kwargs", "env_wrappers", "vector_mode", "eval_freq",
            "eval_deterministic", "launcher"
        ]
    )]
    report: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// A run folder (its last checkpoint is used) or a checkpoint file.
    target: PathBuf,
    /// Episodes to run.
    #[arg(long, default_value_t = 10)]
    episodes: usize,
    /// Take the most likely action (argmax, or the Gaussian's mean) instead of sampling.
    #[arg(long)]
    deterministic: bool,
    /// Seed of the evaluation episodes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also render the first episode as an animated GIF.
    #[arg(long, value_name = "FILE.gif")]
    gif: Option<PathBuf>,
    /// Also write one row per episode: return, length, first observation and
    /// (natgrad's own environments) start state, to start another
    /// implementation's evaluation from the same states.
    #[arg(long, value_name = "FILE.csv")]
    csv: Option<PathBuf>,
    /// Evaluate the run folder's best policy (best.safetensors, kept by
    /// evaluation during training) instead of its last checkpoint.
    #[arg(long)]
    best: bool,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Envs { .. } | Command::Eval(_) | Command::Statistics { .. }) {
        quiet_on_closed_pipe();
    }
    let result = match cli.command {
        Command::Envs { random_episode, seed } => envs(random_episode, seed).map(|()| ExitCode::SUCCESS),
        Command::Train(args) => train_command(args),
        Command::Compare(args) => compare_command(args).map(|()| ExitCode::SUCCESS),
        Command::Tune(args) => {
            tune_command(args).map(|done| if done { ExitCode::SUCCESS } else { ExitCode::from(130) })
        }
        Command::Statistics { scores, csv, plot } => {
            statistics_command(&scores, csv.as_deref(), plot.as_deref()).map(|()| ExitCode::SUCCESS)
        }
        Command::Demo(DemoCommand::Ngd(args)) => demo::run(&NgdRequest {
            out: args.out,
            seed: args.seed,
            l2: args.l2,
            max_iters: args.max_iters,
            tolerance: args.tolerance,
        })
        .map(|()| ExitCode::SUCCESS),
        Command::Eval(args) => eval::run(&EvalRequest {
            target: args.target,
            episodes: args.episodes,
            deterministic: args.deterministic,
            seed: args.seed,
            gif: args.gif,
            csv: args.csv,
            best: args.best,
        })
        .map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `natgrad envs | head` ends quietly, as Unix tools do, rather than panic
/// on the closed pipe: the commands that only print take SIGPIPE's default.
/// Training keeps Rust's handling, so that its checkpoint logic decides.
fn quiet_on_closed_pipe() {
    // SAFETY: setting a signal's disposition to SIG_DFL installs no handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn statistics_command(path: &Path, csv: Option<&Path>, plot: Option<&Path>) -> Result<()> {
    let points = scores::read_scores(path)?;
    let table = scores::statistics_table(&points);
    scores::print_statistics(&table);
    if let Some(csv) = csv {
        scores::write_statistics_csv(csv, &table)?;
        println!("wrote {}", csv.display());
    }
    if let Some(png) = plot {
        // The file's name says what was scored: Hopper-v5__scores.csv draws as "Hopper-v5".
        let stem = path.file_stem().map_or("scores".into(), |s| s.to_string_lossy().into_owned());
        let title = stem.strip_suffix("__scores").filter(|t| !t.is_empty()).unwrap_or(&stem);
        scores::draw_curves(png, title, &points)?;
        println!("wrote {}", png.display());
    }
    Ok(())
}

/// The launcher the compare options describe; Slurm's options only with Slurm.
fn launcher(args: &CompareArgs) -> Result<Launcher> {
    let slurm_given = [
        (args.slurm_partition.is_some(), "--slurm-partition"),
        (args.cpus_per_task != 1, "--cpus-per-task"),
        (args.slurm_time.is_some(), "--slurm-time"),
        (args.slurm_max_running.is_some(), "--slurm-max-running"),
        (!args.slurm_options.is_empty(), "--slurm-option"),
        (args.wait, "--wait"),
    ];
    if args.launcher != "slurm"
        && let Some((_, flag)) = slurm_given.iter().find(|(given, _)| *given)
    {
        anyhow::bail!("{flag} is an option of --launcher slurm, not of --launcher {}", args.launcher);
    }
    if args.launcher != "local" && args.jobs.is_some() {
        anyhow::bail!("--jobs is an option of --launcher local; Slurm's limit is --slurm-max-running");
    }
    Ok(match args.launcher.as_str() {
        "print" => Launcher::Print,
        "slurm" => Launcher::Slurm(SlurmOptions {
            partition: args.slurm_partition.clone(),
            cpus_per_task: args.cpus_per_task,
            time: args.slurm_time.clone(),
            max_running: args.slurm_max_running,
            options: args.slurm_options.clone(),
            wait: args.wait,
        }),
        _ => Launcher::Local {
            jobs: args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        },
    })
}

fn compare_command(args: CompareArgs) -> Result<()> {
    if args.eval_episodes == Some(0) {
        anyhow::bail!("--eval-episodes must be at least 1");
    }
    let launcher = launcher(&args)?;
    match (args.report, args.env) {
        (Some(group), _) => compare::report_existing(&group, args.eval_episodes, args.gif),
        (None, Some(env)) => compare::run(&CompareRequest {
            env,
            algos: args.algos,
            seeds: args.seeds,
            total_steps: args.total_steps,
            launcher,
            logdir: args.logdir,
            eval_episodes: args.eval_episodes,
            env_kwargs: args.env_kwargs,
            env_wrappers: args.env_wrappers,
            vector_mode: args.vector_mode,
            eval_freq: args.eval_freq,
            eval_deterministic: args.eval_deterministic,
            gif: args.gif,
        }),
        (None, None) => unreachable!("clap requires --env without --report"),
    }
}

/// `Ok(false)`: stopped by Ctrl-C or SIGTERM.
#[cfg(feature = "gym")]
fn tune_command(args: TuneArgs) -> Result<bool> {
    crate::tune::run(&crate::tune::TuneRequest {
        env: args.env,
        algo: args.algo,
        trials: args.trials,
        study_name: args.study_name,
        storage: args.storage,
        n_jobs: args.n_jobs,
        total_steps: args.total_steps,
        eval_freq: args.eval_freq,
        eval_episodes: args.eval_episodes,
        seed: args.seed,
        trial_seeds: args.trial_seeds,
        sampler_seed: args.sampler_seed,
        space: args.space,
        sampler: args.sampler,
        pruner: args.pruner,
        n_startup_trials: args.n_startup_trials,
        pruner_warmup_steps: args.pruner_warmup_steps,
        logdir: args.logdir,
        env_kwargs: args.env_kwargs,
        env_wrappers: args.env_wrappers,
    })
}

#[cfg(not(feature = "gym"))]
fn tune_command(_: TuneArgs) -> Result<bool> {
    anyhow::bail!("natgrad tune runs Optuna in the embedded Python: build natgrad with its default gym feature")
}

fn train_command(args: TrainArgs) -> Result<ExitCode> {
    if args.resume.is_some() && args.seed.is_some() {
        anyhow::bail!("--seed cannot be given with --resume: a resumed run keeps its seed");
    }
    let request = TrainRequest {
        algo: args.algo,
        env: args.env,
        seed: args.seed.unwrap_or(1),
        total_steps: args.total_steps,
        logdir: args.logdir,
        run_name: args.run_name,
        threads: args.threads,
        env_threads: args.env_threads,
        device: args.device,
        parallel_critic: args.parallel_critic.map(|v| v == "on"),
        config: args.config,
        sets: args.sets,
        flags: args.hyperparameters.0,
        quiet: args.quiet,
        resume: args.resume,
        resume_existing: args.resume_existing,
        env_kwargs: args.env_kwargs,
        env_wrappers: args.env_wrappers,
        vector_mode: args.vector_mode,
        eval_freq: args.eval_freq,
        eval_episodes: args.eval_episodes,
        eval_deterministic: args.eval_deterministic,
        n_eval_envs: args.n_eval_envs,
    };
    Ok(match train::run(&request)? {
        Outcome::Finished => ExitCode::SUCCESS,
        Outcome::Interrupted => ExitCode::from(130),
    })
}

fn envs(random_episode: bool, seed: u64) -> Result<()> {
    for spec in specs() {
        let mut env = make(&spec.id)?;
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
    #[cfg(feature = "gym")]
    print_gymnasium_ids();
    Ok(())
}

/// The ids Gymnasium has registered beyond the native ones, wrapped.
#[cfg(feature = "gym")]
fn print_gymnasium_ids() {
    let native = natgrad_envs::ids();
    match natgrad_envs::gym::gym_ids() {
        Ok(all) => {
            let others: Vec<String> = all.into_iter().filter(|id| !native.contains(&id.as_str())).collect();
            println!(
                "\nGymnasium: {} more ids, made by Gymnasium itself in Python (natgrad train --env ID; \
                 gym:ID takes Gymnasium's version of a native id, my_module:MyEnv-v0 imports my_module first):",
                others.len()
            );
            let mut line = String::from(" ");
            for id in others {
                if line.len() + id.len() > 100 {
                    println!("{line}");
                    line = String::from(" ");
                }
                line.push(' ');
                line.push_str(&id);
            }
            println!("{line}");
        }
        Err(e) => println!("\nGymnasium's environments are not available: {e}"),
    }
}

/// One episode with uniformly random actions: (return, length).
fn run_random_episode(env: &mut dyn Env, seed: u64) -> Result<(f64, usize)> {
    let mut rng = Rng::seed_from_u64(seed);
    let space: Space = env.action_space().clone();
    let mut buf = natgrad_envs::SampleBuffer::default();
    env.reset(Some(seed))?;
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
