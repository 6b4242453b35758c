//! End-to-end tests of `natgrad train` and `natgrad eval`: they run the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{
    Scalars, TempDir, csv_rows, curve, interrupt_after, natgrad, natgrad_args, read_events, send, text, trpo_args,
};

#[test]
fn a_short_training_run_writes_its_folder_and_logs() {
    let tmp = TempDir::new("short");
    let out = natgrad(&[
        "train",
        "--algo",
        "trpo",
        "--env",
        "CartPole-v1",
        "--total-steps",
        "3000",
        "--seed",
        "4",
        "--logdir",
        tmp.str(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "--quiet prints one line: {stdout}");
    assert!(stdout.starts_with("trpo CartPole-v1 seed 4: finished 4096 steps"), "{stdout}");

    let runs: Vec<PathBuf> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let name = run.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("CartPole-v1__trpo__4__"), "{name}");
    assert!(name.rsplit("__").next().unwrap().parse::<u64>().unwrap() > 1_700_000_000);

    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    for line in [
        "natgrad_version = \"0.1.0\"",
        "algo = \"trpo\"",
        "seed = 4",
        "total_steps = 3000",
        "n_steps = 1024",
        "cg_damping = 0.001",
        "target_kl = \"lin_0.005\"",
    ] {
        assert!(config.contains(line), "config.toml lacks {line}:\n{config}");
    }
    let rows = csv_rows(&run.join("progress.csv"));
    assert_eq!(rows[0][..3], ["iteration", "total_steps", "episodes"]);
    assert_eq!(rows.len(), 3, "2 iterations of 2048 steps");
    assert_eq!(rows[2][1], "4096");
    // The preset's trust region falls linearly to 0 over the run (lin_0.005):
    // 0.005 (1 - 2048/3000) for the first update, and no step in the last.
    let column = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let (trust_region, skipped) = (column("target_kl"), column("update_skipped"));
    assert_eq!(rows[1][trust_region].parse::<f64>().unwrap(), 0.005 * (1.0 - 2048.0 / 3000.0));
    assert_eq!(rows[1][skipped], "");
    assert_eq!((rows[2][trust_region].as_str(), rows[2][skipped].as_str()), ("0", "schedule_end"));
    assert!(run.join("checkpoint.safetensors").is_file());
    assert!(!run.join("checkpoint.safetensors.tmp").exists());

    let (scalars, texts) = read_events(run);
    for tag in [
        "charts/episodic_return",
        "charts/episodic_length",
        "charts/SPS",
        "losses/policy_loss",
        "losses/value_loss",
        "losses/entropy",
        "losses/approx_kl",
        "losses/explained_variance",
        "trpo/cg_iterations",
        "trpo/cg_residual",
        "trpo/step_size",
        "trpo/line_search_steps",
        "trpo/line_search_success",
        "trpo/surrogate_improvement",
        "trpo/skipped_bad_curvature",
        "trpo/skipped_line_search",
        "trpo/skipped_schedule_end",
        "trpo/target_kl",
        "rollout/ep_rew_mean",
        "rollout/ep_len_mean",
    ] {
        assert!(scalars.contains_key(tag), "no {tag} in the event file: {:?}", scalars.keys());
    }
    assert_eq!(texts, ["hyperparameters/text_summary"]);
    // Environment steps on the x-axis: one KL point per iteration, at its step count.
    let kl_steps: Vec<i64> = scalars["losses/approx_kl"].iter().map(|(s, _)| *s).collect();
    assert_eq!(kl_steps, [2048, 4096]);
    assert!(scalars["losses/approx_kl"].iter().all(|(_, kl)| *kl <= 0.01));
    // One point per finished episode, with the episodes of progress.csv.
    let episodes: usize = rows[1..].iter().map(|r| r[2].parse::<usize>().unwrap()).sum();
    assert_eq!(scalars["charts/episodic_return"].len(), episodes);
    let steps = &scalars["charts/episodic_return"];
    assert!(steps.windows(2).all(|w| w[0].0 <= w[1].0) && steps.iter().all(|(s, _)| (1..=4096).contains(s)));

    // VPG has no natural-gradient tags.
    let out = natgrad(&[
        "train",
        "--algo",
        "vpg",
        "--env",
        "Pendulum-v1",
        "--total-steps",
        "2048",
        "--logdir",
        tmp.str(),
        "--run-name",
        "vpg",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (scalars, _) = read_events(&tmp.path().join("vpg"));
    assert!(scalars.contains_key("losses/approx_kl") && !scalars.keys().any(|k| k.starts_with("trpo/")));
}

/// `signal_diagnostics` fills progress.csv's columns of that name and their
/// TensorBoard tags on every update.
#[test]
fn signal_diagnostics_log_each_update_s_signal() {
    let tmp = TempDir::new("signal");
    let extra = ["--total-steps", "2048", "--n-envs", "1", "--n-steps", "512", "--set", "signal_diagnostics=true"];
    let out = natgrad_args(&trpo_args("CartPole-v1", &tmp, "r", &extra));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = tmp.path().join("r");
    let rows = csv_rows(&run.join("progress.csv"));
    let column = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let (fraction, cosine) = (column("signal_fraction"), column("halves_cosine"));
    assert_eq!(rows.len(), 1 + 4);
    for row in &rows[1..] {
        assert!((-1.0..=1.0).contains(&row[cosine].parse::<f64>().unwrap()), "{row:?}");
        assert!(row[fraction].parse::<f64>().unwrap().is_finite(), "{row:?}");
    }
    let (scalars, _) = read_events(&run);
    for tag in ["trpo/signal_fraction", "trpo/halves_cosine"] {
        assert_eq!(scalars[tag].len(), 4, "{tag}");
    }
}

#[test]
fn eval_reports_the_return_and_renders_a_gif() {
    let tmp = TempDir::new("eval");
    let out = natgrad(&[
        "train",
        "--algo",
        "npg",
        "--env",
        "Acrobot-v1",
        "--total-steps",
        "2048",
        "--logdir",
        tmp.str(),
        "--run-name",
        "r",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = tmp.path().join("r");
    let gif = tmp.path().join("acrobot.gif");
    let out =
        natgrad(&["eval", run.to_str().unwrap(), "--episodes", "2", "--deterministic", "--gif", gif.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("npg on Acrobot-v1") && stdout.contains("over 2 episodes (deterministic policy, seed 0)"),
        "{stdout}"
    );
    let bytes = std::fs::read(&gif).unwrap();
    assert_eq!(&bytes[..6], b"GIF89a");
    // Same seed, same result; the checkpoint file works as well as the folder.
    let again =
        natgrad(&["eval", run.join("checkpoint.safetensors").to_str().unwrap(), "--episodes", "2", "--deterministic"]);
    let first_line = |s: &str| s.lines().next().unwrap().split("): ").nth(1).unwrap().to_owned();
    assert_eq!(first_line(&stdout), first_line(&text(&again.stdout)));

    // --csv: one row per episode, whose returns make the printed mean, and
    // each start state with the observation Acrobot shows for it.
    let csv = tmp.path().join("episodes.csv");
    let out =
        natgrad(&["eval", run.to_str().unwrap(), "--episodes", "3", "--seed", "7", "--csv", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = csv_rows(&csv);
    assert_eq!(rows[0], ["episode", "return", "length", "first_observation", "first_state"]);
    assert_eq!(rows.len(), 4);
    let mean: f64 = rows[1..].iter().map(|r| r[1].parse::<f64>().unwrap()).sum::<f64>() / 3.0;
    assert!(text(&out.stdout).contains(&format!("mean return {mean:.2} ")), "{} vs {mean}", text(&out.stdout));
    for row in &rows[1..] {
        let values = |field: &str| -> Vec<f64> { field.split(' ').map(|v| v.parse().unwrap()).collect() };
        let (obs, state) = (values(&row[3]), values(&row[4]));
        assert_eq!((obs.len(), state.len()), (6, 4), "{row:?}");
        // [cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2] of a state drawn in (-0.1, 0.1).
        assert!(state.iter().all(|s| s.abs() < 0.1), "{row:?}");
        assert!((obs[1] - state[0].sin()).abs() < 1e-6 && (obs[4] - state[2]).abs() < 1e-6, "{row:?}");
    }
    // An unwritable --csv stops before any episode; a failed evaluation
    // leaves an existing file as it was.
    let unwritable = tmp.path().join("no-such-folder").join("e.csv");
    fails_with(
        &["eval", run.to_str().unwrap(), "--csv", unwritable.to_str().unwrap()],
        "choose a writable path for --csv",
    );
    let missing = tmp.path().join("no-such-run");
    fails_with(&["eval", missing.to_str().unwrap(), "--csv", csv.to_str().unwrap()], "does not exist");
    assert_eq!(csv_rows(&csv).len(), 4, "the earlier evaluation's file is intact");
}

/// The deterministic columns of progress.csv (everything but sps and wall time).
/// The scalar series of a run that the seed determines: every tag but the
/// measured `charts/SPS` and `time/*`, with steps and values.
fn deterministic_scalars(run: &Path) -> Scalars {
    let mut scalars = read_events(run).0;
    assert!(scalars.remove("charts/SPS").is_some());
    let timings: Vec<String> = scalars.keys().filter(|k| k.starts_with("time/")).cloned().collect();
    assert_eq!(timings.len(), 5, "{timings:?}");
    for tag in timings {
        scalars.remove(&tag);
    }
    scalars.remove("fisher/direction_time_s");
    scalars
}

#[test]
fn a_stopped_or_killed_and_resumed_run_reproduces_the_straight_run() {
    let tmp = TempDir::new("resume");
    // Evaluating during training too (at iterations 3, 6, 9, 11, ...), so
    // that the kill below leaves an evaluation after the checkpoint behind;
    // and a trust region on a linear schedule, whose value a resumed run
    // must take up where it was.
    let eval = ["--eval-freq", "5632", "--eval-episodes", "3", "--n-eval-envs", "2", "--set", "target_kl=lin_0.01"];
    let args = |name: &str| {
        trpo_args("Acrobot-v1", &tmp, name, &[&["--total-steps", "40960", "--seed", "3"], &eval[..]].concat())
    };
    let straight = natgrad_args(&args("straight"));
    assert!(straight.status.success(), "{}", text(&straight.stderr));
    let straight = tmp.path().join("straight");
    let episodes = |run: &Path| std::fs::read_to_string(run.join("episodes.csv")).unwrap();

    // Ctrl-C: the run finishes its iteration, checkpoints and says how to resume.
    let split = tmp.path().join("split");
    let stopped = interrupt_after(&args("split"), &split.join("progress.csv"), 3, libc::SIGINT);
    assert_eq!(stopped.status.code(), Some(130), "{}", text(&stopped.stderr));
    assert!(text(&stopped.stderr).contains("resume with: natgrad train --resume"));
    let rows_at_stop = csv_rows(&split.join("progress.csv")).len() - 1;
    assert!(rows_at_stop < 20, "the run should have stopped early, ran {rows_at_stop} iterations");

    // SIGKILL after the periodic checkpoint at iteration 10: the iterations
    // after it are in every log, and must not be there twice after resuming.
    let killed = tmp.path().join("killed");
    let out = interrupt_after(&args("killed"), &killed.join("progress.csv"), 12, libc::SIGKILL);
    assert_eq!(out.status.code(), None, "killed by a signal");
    let rows_at_kill = csv_rows(&killed.join("progress.csv")).len() - 1;
    assert!((12..20).contains(&rows_at_kill), "killed after {rows_at_kill} iterations");
    assert!(read_events(&killed).0["losses/approx_kl"].len() >= 12, "the orphaned points are on disk");
    // A power loss can also tear the last row of each log.
    assert!(csv_rows(&killed.join("evaluations.csv")).iter().any(|r| r[0] == "22528"), "an orphaned evaluation");
    for (name, torn) in [("progress.csv", "12,2"), ("episodes.csv", "4"), ("evaluations.csv", "24576,-9")] {
        let mut file = std::fs::OpenOptions::new().append(true).open(killed.join(name)).unwrap();
        std::io::Write::write_all(&mut file, torn.as_bytes()).unwrap();
    }

    for run in [&split, &killed] {
        let resumed = natgrad(&["train", "--resume", run.to_str().unwrap(), "--quiet"]);
        assert!(resumed.status.success(), "{}", text(&resumed.stderr));
        assert_eq!(curve(run), curve(&straight), "{}", run.display());
        assert_eq!(episodes(run), episodes(&straight), "{}", run.display());
        assert_eq!(deterministic_scalars(run), deterministic_scalars(&straight), "{}", run.display());
        let evaluations = |run: &Path| std::fs::read_to_string(run.join("evaluations.csv")).unwrap();
        assert_eq!(evaluations(run), evaluations(&straight), "{}", run.display());
        let best = |run: &Path| std::fs::read(run.join("best.safetensors")).unwrap();
        assert!(best(run) == best(&straight), "{}: best.safetensors differs", run.display());
    }
    assert_eq!(csv_rows(&straight.join("evaluations.csv")).len(), 1 + 7, "evaluations at 5632 × 1, ..., 7");
}

/// Evaluation during training: its own copies, the deterministic policy and
/// the observation statistics of the moment, logged where zoo's users look;
/// the training run itself unchanged.
#[test]
fn a_run_evaluates_during_training_without_changing_what_it_learns() {
    let tmp = TempDir::new("evaluate");
    let steps = ["--total-steps", "8192", "--seed", "2"];
    let eval = ["--eval-freq", "4096", "--eval-episodes", "3"];
    let out = natgrad_args(&trpo_args("Acrobot-v1", &tmp, "evaluated", &[&steps[..], &eval[..]].concat()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("last evaluation "), "{}", text(&out.stdout));
    let plain = natgrad_args(&trpo_args("Acrobot-v1", &tmp, "plain", &steps));
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    let (evaluated, plain) = (tmp.path().join("evaluated"), tmp.path().join("plain"));
    assert_eq!(curve(&evaluated), curve(&plain), "evaluating changed the training run");
    assert!(!plain.join("evaluations.csv").exists() && !plain.join("best.safetensors").exists());

    // One row per evaluation, each with its episodes, in the CSV and in TensorBoard.
    let rows = csv_rows(&evaluated.join("evaluations.csv"));
    assert_eq!(rows[0], ["total_steps", "mean_reward", "std_reward", "mean_ep_length", "returns"]);
    assert_eq!(rows.iter().skip(1).map(|r| r[0].as_str()).collect::<Vec<_>>(), ["4096", "8192"]);
    let returns = |row: &[String]| -> Vec<f64> { row[4].split(' ').map(|v| v.parse().unwrap()).collect() };
    for row in &rows[1..] {
        let r = returns(row);
        assert_eq!(r.len(), 3);
        assert!((r.iter().sum::<f64>() / 3.0 - row[1].parse::<f64>().unwrap()).abs() < 1e-9, "{row:?}");
    }
    let scalars = read_events(&evaluated).0;
    let means: Vec<(i64, f32)> = rows[1..].iter().map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap())).collect();
    assert_eq!(scalars["eval/mean_reward"], means);
    assert_eq!(scalars["eval/mean_ep_length"].len(), 2);

    // The last evaluation is of the final policy with the final statistics:
    // natgrad eval, deterministic from seed 0, plays the same episodes.
    let csv = tmp.path().join("final.csv");
    let args =
        ["eval", evaluated.to_str().unwrap(), "--deterministic", "--episodes", "3", "--csv", csv.to_str().unwrap()];
    let out = natgrad(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let final_returns: Vec<f64> = csv_rows(&csv)[1..].iter().map(|r| r[1].parse().unwrap()).collect();
    assert_eq!(final_returns, returns(&rows[2]));

    // The best evaluation's policy is kept, and natgrad eval --best reads it.
    let best_step =
        if rows[2][1].parse::<f64>().unwrap() > rows[1][1].parse::<f64>().unwrap() { "8192" } else { "4096" };
    let out = natgrad(&["eval", evaluated.to_str().unwrap(), "--best", "--deterministic", "--episodes", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("best.safetensors"), "{}", text(&out.stdout));
    let best = std::fs::read(evaluated.join("best.safetensors")).unwrap();
    assert_eq!(best == std::fs::read(evaluated.join("checkpoint.safetensors")).unwrap(), best_step == "8192");

    // Sampled actions (zoo's Atari evaluation): the same training run, other episodes.
    let sampling = [&steps[..], &eval[..], &["--eval-deterministic", "false"][..]].concat();
    let out = natgrad_args(&trpo_args("Acrobot-v1", &tmp, "sampled", &sampling));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sampled = tmp.path().join("sampled");
    assert_eq!(curve(&sampled), curve(&plain), "sampling in the evaluations changed the training run");
    let config = std::fs::read_to_string(sampled.join("config.toml")).unwrap();
    assert!(config.contains("eval_deterministic = false"), "{config}");
    let sampled_rows = csv_rows(&sampled.join("evaluations.csv"));
    assert_eq!(sampled_rows.len(), rows.len());
    assert_ne!(
        sampled_rows[1..].iter().map(|r| returns(r)).collect::<Vec<_>>(),
        rows[1..].iter().map(|r| returns(r)).collect::<Vec<_>>()
    );

    fails_with(&["eval", plain.to_str().unwrap(), "--best"], "has no best.safetensors");
    fails_with(
        &["train", "--resume", evaluated.to_str().unwrap(), "--eval-freq", "10"],
        "--eval-freq cannot be given with --resume",
    );
    let zero = trpo_args("Acrobot-v1", &tmp, "zero", &["--eval-freq", "10", "--eval-episodes", "0"]);
    fails_with(&zero, "--eval-episodes and --n-eval-envs must be at least 1");
    assert!(!tmp.path().join("zero").exists());
}

/// What a Slurm task lives through: SIGTERM (preemption, the time limit,
/// `scancel`) stops the run after its iteration with a checkpoint; the same
/// command, resubmitted, resumes it and ends equal to a straight run; once
/// more, it finds the run complete and does nothing. A resubmission with
/// other settings is refused.
#[test]
fn a_job_stopped_by_sigterm_and_resubmitted_reproduces_the_straight_run() {
    let tmp = TempDir::new("resume-existing");
    let args = |name: &str, extra: &[&str]| {
        let settings = [&["--total-steps", "20480", "--seed", "2", "--resume-existing"], extra].concat();
        trpo_args("Acrobot-v1", &tmp, name, &settings)
    };
    let straight = natgrad_args(&args("straight", &[]));
    assert!(straight.status.success(), "{}", text(&straight.stderr));
    let job = tmp.path().join("job");
    let stopped = interrupt_after(&args("job", &[]), &job.join("progress.csv"), 2, libc::SIGTERM);
    assert_eq!(stopped.status.code(), Some(130), "{}", text(&stopped.stderr));
    assert!(csv_rows(&job.join("progress.csv")).len() - 1 < 10, "the run should have stopped early");
    let other = natgrad_args(&args("job", &["--set", "gamma=0.9"]));
    assert_eq!(other.status.code(), Some(1));
    assert!(
        text(&other.stderr).contains("was started with other settings (hyperparameters)"),
        "{}",
        text(&other.stderr)
    );
    let resubmitted = natgrad_args(&args("job", &[]));
    assert!(resubmitted.status.success(), "{}", text(&resubmitted.stderr));
    assert_eq!(curve(&job), curve(&tmp.path().join("straight")));
    let again = natgrad_args(&args("job", &[]));
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains("complete (20480 steps); nothing to do"), "{}", text(&again.stdout));
    assert_eq!(curve(&job), curve(&tmp.path().join("straight")));
}

#[test]
fn a_gsde_run_stopped_and_resumed_draws_the_same_exploration_matrices() {
    // Pendulum's preset explores with gSDE, a new matrix every 4 steps.
    let tmp = TempDir::new("resume-gsde");
    let args = |name: &str| trpo_args("Pendulum-v1", &tmp, name, &["--total-steps", "40960", "--seed", "5"]);
    let straight = natgrad_args(&args("straight"));
    assert!(straight.status.success(), "{}", text(&straight.stderr));
    let straight = tmp.path().join("straight");
    let config = std::fs::read_to_string(straight.join("config.toml")).unwrap();
    assert!(config.contains("use_sde = true") && config.contains("sde_sample_freq = 4"), "{config}");

    let split = tmp.path().join("split");
    let stopped = interrupt_after(&args("split"), &split.join("progress.csv"), 3, libc::SIGINT);
    assert_eq!(stopped.status.code(), Some(130), "{}", text(&stopped.stderr));
    assert!(csv_rows(&split.join("progress.csv")).len() - 1 < 20, "the run should have stopped early");
    let resumed = natgrad(&["train", "--resume", split.to_str().unwrap(), "--quiet"]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(curve(&split), curve(&straight));
    assert_eq!(deterministic_scalars(&split), deterministic_scalars(&straight));
}

/// K-FAC's running factors, its inverses (refreshed every 7 updates here, so
/// that a stop usually falls between two refreshes)
/// and ACKTR's momentum are part of the checkpoint: a stopped and resumed
/// run takes the same steps as the straight one.
#[test]
fn kfac_runs_stopped_and_resumed_reproduce_the_straight_run() {
    let tmp = TempDir::new("resume-kfac");
    let runs: [(&str, &[&str]); 2] = [
        ("trpo", &["--set", "fisher=kfac", "--set", "kfac_inverse_update_period=7", "--total-steps", "30720"]),
        ("acktr", &["--set", "kfac_momentum=0.5", "--set", "kfac_inverse_update_period=7", "--total-steps", "102400"]),
    ];
    for (algo, extra) in runs {
        let args = |name: &str| -> Vec<String> {
            let base = ["train", "--algo", algo, "--env", "CartPole-v1", "--seed", "2", "--quiet"];
            let place = ["--logdir", tmp.str(), "--run-name", name];
            base.iter().chain(&place).chain(extra).map(|s| s.to_string()).collect()
        };
        let straight = natgrad_args(&args(&format!("{algo}-straight")));
        assert!(straight.status.success(), "{}", text(&straight.stderr));
        let straight = tmp.path().join(format!("{algo}-straight"));
        let split = tmp.path().join(format!("{algo}-split"));
        let stopped = interrupt_after(&args(&format!("{algo}-split")), &split.join("progress.csv"), 4, libc::SIGINT);
        assert_eq!(stopped.status.code(), Some(130), "{algo}: {}", text(&stopped.stderr));
        let stopped_at = csv_rows(&split.join("progress.csv")).len() - 1;
        assert!(stopped_at < curve(&straight).len() - 1, "{algo}: the run should have stopped early");
        let resumed = natgrad(&["train", "--resume", split.to_str().unwrap(), "--quiet"]);
        assert!(resumed.status.success(), "{algo}: {}", text(&resumed.stderr));
        assert_eq!(curve(&split), curve(&straight), "{algo}");
        assert_eq!(deterministic_scalars(&split), deterministic_scalars(&straight), "{algo}");
    }
}

#[test]
fn a_diverging_critic_stops_the_run_and_keeps_the_last_checkpoint() {
    let tmp = TempDir::new("diverge");
    let run = tmp.path().join("r");
    let train = |extra: &[&str]| {
        let mut args = vec!["train", "--algo", "trpo", "--env", "Pendulum-v1", "--n-steps", "256", "--quiet"];
        args.extend_from_slice(extra);
        natgrad(&args)
    };
    // Diverges in its first iteration: nothing to keep, and no NaN state saved.
    let out = train(&["--total-steps", "20480", "--critic-learning-rate", "1e30", "--logdir", tmp.str()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("training stopped at iteration 0: the value loss became non-finite (NaN or infinite)")
            && stderr.contains("lower critic_learning_rate")
            && stderr.contains("no checkpoint was written"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // A healthy run with a checkpoint, then its critic made to diverge.
    // 2 copies x 256 steps: 10 iterations, checkpointed after the 10th.
    let out = train(&["--total-steps", "5120", "--logdir", tmp.str(), "--run-name", "r"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let saved = std::fs::read(run.join("checkpoint.safetensors")).unwrap();
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    let edited = config.replace("critic_learning_rate = 0.001", "critic_learning_rate = 1e30");
    assert_ne!(config, edited);
    std::fs::write(run.join("config.toml"), edited).unwrap();
    let out = natgrad(&["train", "--resume", run.to_str().unwrap(), "--total-steps", "10240", "--quiet"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("training stopped at iteration 10:")
            && stderr.contains("non-finite")
            && stderr.contains("the checkpoint after iteration 10 is kept"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(run.join("checkpoint.safetensors")).unwrap(), saved, "the checkpoint is untouched");
    assert_eq!(csv_rows(&run.join("progress.csv")).len(), 11, "no row for the diverged iteration");
}

#[test]
fn a_failed_checkpoint_write_stops_the_run_and_keeps_the_previous_checkpoint() {
    let tmp = TempDir::new("ckpt-fail");
    let run = tmp.path().join("r");
    let out = natgrad_args(&trpo_args("CartPole-v1", &tmp, "r", &["--n-steps", "128", "--total-steps", "1280"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let saved = std::fs::read(run.join("checkpoint.safetensors")).unwrap();
    // Something in the way of the temporary file: the write fails as on a full disk.
    std::fs::create_dir(run.join("checkpoint.safetensors.tmp")).unwrap();
    let out = natgrad(&["train", "--resume", run.to_str().unwrap(), "--total-steps", "2560", "--quiet"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write checkpoint") && stderr.contains("the previous checkpoint"), "{stderr}");
    assert_eq!(std::fs::read(run.join("checkpoint.safetensors")).unwrap(), saved);
}

#[test]
fn a_run_whose_stdout_nobody_reads_finishes_cleanly() {
    // A launcher killed mid-run leaves natgrad writing its last line into a
    // closed pipe: the run is done and its folder complete, so it must not panic.
    let tmp = TempDir::new("closed-stdout");
    let mut child = Command::new(env!("CARGO_BIN_EXE_natgrad"))
        .args(trpo_args("CartPole-v1", &tmp, "r", &["--total-steps", "2048"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(tmp.path().join("r/checkpoint.safetensors").exists());
}

#[test]
fn a_run_folder_is_used_by_one_process_at_a_time() {
    let tmp = TempDir::new("lock");
    let run = tmp.path().join("r");
    let args = trpo_args("Acrobot-v1", &tmp, "r", &["--total-steps", "81920"]);
    let first = Command::new(env!("CARGO_BIN_EXE_natgrad"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let csv = run.join("progress.csv");
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::read_to_string(&csv).map_or(0, |t| t.lines().count()) < 12 {
        assert!(Instant::now() < deadline, "the run wrote no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Paused, so that it cannot finish (and let go of the folder) before the
    // second process tries it, however fast either runs.
    send(&first, libc::SIGSTOP);
    let second = natgrad(&["train", "--resume", run.to_str().unwrap(), "--total-steps", "120000", "--quiet"]);
    // Reading its checkpoint is fine while it runs.
    let eval = natgrad(&["eval", run.to_str().unwrap(), "--episodes", "1"]);
    send(&first, libc::SIGCONT);
    let stderr = text(&second.stderr);
    assert!(!second.status.success());
    assert!(stderr.contains(&format!("is in use by process {}", first.id())), "{stderr}");
    assert!(eval.status.success(), "{}", text(&eval.stderr));

    let out = first.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = csv_rows(&csv);
    let iterations: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    let expected: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    assert_eq!(iterations, expected, "each iteration once, in order");
    // The lock is gone with its holder.
    let again = natgrad(&["train", "--resume", run.to_str().unwrap(), "--total-steps", "83968", "--quiet"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
}

#[test]
fn pendulum_logs_one_episode_aggregate_per_iteration() {
    // Every Pendulum episode lasts 200 steps, so the copies finish on the same
    // step and TensorBoard's data server keeps one of their per-episode points.
    let tmp = TempDir::new("aggregate");
    let extra = ["--n-envs", "4", "--n-steps", "256", "--total-steps", "40960"];
    let out = natgrad_args(&trpo_args("Pendulum-v1", &tmp, "r", &extra));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = tmp.path().join("r");
    let (scalars, _) = read_events(&run);
    let rows = csv_rows(&run.join("progress.csv"));
    let iteration_steps: Vec<i64> = rows[1..].iter().map(|r| r[1].parse().unwrap()).collect();
    assert_eq!(iteration_steps.len(), 40);
    for tag in ["rollout/ep_rew_mean", "rollout/ep_len_mean"] {
        let steps: Vec<i64> = scalars[tag].iter().map(|(s, _)| *s).collect();
        assert_eq!(steps, iteration_steps, "{tag}: one point per iteration");
    }
    let per_episode: Vec<i64> = scalars["charts/episodic_return"].iter().map(|(s, _)| *s).collect();
    assert_eq!(per_episode.len(), 204, "4 copies x 51 episodes of 200 steps in 10,240 steps each");
    assert!(per_episode.windows(2).any(|w| w[0] == w[1]), "copies finish on the same step");
    // The last point is the mean of the last 100 episodes.
    let episodes = csv_rows(&run.join("episodes.csv"));
    let last: Vec<f64> = episodes[episodes.len() - 100..].iter().map(|r| r[1].parse().unwrap()).collect();
    let mean = last.iter().sum::<f64>() / 100.0;
    let logged = scalars["rollout/ep_rew_mean"].last().unwrap().1;
    assert!((f64::from(logged) - mean).abs() <= 1e-5 * mean.abs(), "{logged} vs {mean}");
    assert!(scalars["rollout/ep_len_mean"].iter().all(|(_, len)| *len == 200.0));
}

fn fails_with<S: AsRef<str> + std::fmt::Debug>(args: &[S], message: &str) {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let out = natgrad(&args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let stderr = text(&out.stderr);
    assert!(stderr.contains(message), "{args:?}: expected '{message}' in:\n{stderr}");
    assert!(stderr.lines().count() <= 2, "{args:?}: expected one clear line, got:\n{stderr}");
}

#[test]
fn bad_input_is_one_clear_line_and_loses_nothing() {
    let tmp = TempDir::new("bad");
    let d = tmp.str();
    let base = ["train", "--logdir", d, "--total-steps", "1024", "--quiet"];
    let with = |extra: &[&str]| -> Vec<String> { base.iter().chain(extra.iter()).map(|s| s.to_string()).collect() };
    fails_with(
        &with(&["--algo", "trop", "--env", "CartPole-v1"]),
        "unknown algorithm 'trop' (did you mean 'trpo'?); valid algorithms: trpo, npg, acktr, vpg",
    );
    fails_with(
        &with(&["--algo", "trpo", "--env", "CartPole-v1", "--set", "fisher=kfc"]),
        "fisher (from --set): unknown fisher 'kfc': use exact, kfac, diagonal or empirical",
    );
    fails_with(
        &with(&["--algo", "npg", "--env", "CartPole-v1", "--fisher", "diagonal", "--cg-damping", "0"]),
        "invalid cg_damping = 0: fisher = kfac, diagonal and empirical need cg_damping > 0",
    );
    fails_with(
        &with(&["--algo", "trpo", "--env", "CartPole-v1", "--set", "cg_damping=-0.1"]),
        "invalid cg_damping = -0.1: must be >= 0",
    );
    fails_with(
        &with(&[
            "--algo",
            "trpo",
            "--env",
            "Pendulum-v1",
            "--set",
            "fisher=kfac",
            "--set",
            "kfac_inverse_update_period=0",
        ]),
        "invalid kfac_inverse_update_period = 0: must be at least 1",
    );
    fails_with(
        &with(&["--algo", "acktr", "--env", "Pendulum-v1", "--set", "kfac_damping=-0.01"]),
        "invalid kfac_damping = -0.01: must be positive",
    );
    fails_with(
        &with(&["--algo", "acktr", "--env", "CartPole-v1", "--set", "kfac_stats_decay=1"]),
        "invalid kfac_stats_decay = 1: must be in [0, 1)",
    );
    fails_with(
        &with(&["--algo", "acktr", "--env", "CartPole-v1", "--set", "critic_batch_size=64"]),
        "'critic_batch_size' (from --set) is a hyperparameter of trpo, npg and vpg, not of acktr; acktr's critic takes K-FAC steps",
    );
    fails_with(
        &with(&["--algo", "trpo", "--env", "CartPol-v1"]),
        "unknown environment id 'CartPol-v1': not one of natgrad's native environments (CartPole-v1, Acrobot-v1,",
    );
    fails_with(
        &with(&["--algo", "trpo", "--env", "CartPole-v1", "--target-kl", "0"]),
        "invalid target_kl = 0: target_kl must be positive",
    );
    fails_with(
        &with(&["--algo", "trpo", "--env", "CartPole-v1", "--set", "gamma=1.5"]),
        "invalid gamma = 1.5: gamma must be in (0, 1]",
    );
    fails_with(
        &with(&["--algo", "trpo", "--env", "CartPole-v1", "--set", "use_sde=true"]),
        "invalid use_sde = true: gSDE explores in a continuous (Box) action space and this environment's actions are discrete",
    );
    fails_with(
        &with(&["--algo", "trpo", "--env", "Pendulum-v1", "--set", "sde_sample_freq=-1"]),
        "sde_sample_freq (from --set) must be a whole number >= 0, got -1 (0 draws only at the start of each rollout)",
    );
    fails_with(
        &with(&["--algo", "trpo", "--env", "CartPole-v1", "--gae-lambda", "2"]),
        "invalid gae_lambda = 2: gae_lambda must be in [0, 1]",
    );
    fails_with(&with(&["--algo", "trpo", "--env", "CartPole-v1", "--n-steps", "0"]), "invalid n_steps = 0");
    fails_with(
        &with(&["--algo", "trpo", "--env", "CartPole-v1", "--set", "n_critic_updates=0"]),
        "invalid n_critic_updates = 0: must be at least 1",
    );
    fails_with(
        &with(&["--algo", "npg", "--env", "CartPole-v1", "--set", "cg_residual_tol=inf"]),
        "invalid cg_residual_tol = inf",
    );
    fails_with(
        &with(&["--algo", "trpo", "--env", "CartPole-v1", "--policy-hidden", "[]"]),
        "invalid policy_hidden = []",
    );
    fails_with(
        &with(&["--algo", "trpo", "--env", "CartPole-v1", "--set", "gama=0.9"]),
        "unknown hyperparameter 'gama' in --set (did you mean 'gamma'?)",
    );
    fails_with(
        &with(&["--algo", "vpg", "--env", "CartPole-v1", "--cg-iters", "5"]),
        "'cg_iters' (from a flag) is a hyperparameter of trpo and npg, not of vpg",
    );
    let toml = tmp.path().join("bad.toml");
    std::fs::write(&toml, "target_kl = 0.02\nline_serch_shrink = 0.5\n").unwrap();
    fails_with(
        &with(&["--algo", "trpo", "--env", "CartPole-v1", "--config", toml.to_str().unwrap()]),
        "unknown hyperparameter 'line_serch_shrink' in",
    );
    fails_with(
        &["train", "--algo", "trpo", "--env", "CartPole-v1", "--total-steps", "0", "--logdir", d],
        "--total-steps must be at least 1",
    );
    fails_with(&with(&["--algo", "trpo", "--env", "CartPole-v1", "--device", "gpu"]), "unknown device 'gpu'");
    fails_with(&["train", "--env", "CartPole-v1"], "natgrad train needs --algo and --env");
    // None of the above created a run folder.
    assert_eq!(std::fs::read_dir(d).unwrap().filter(|e| e.as_ref().unwrap().path().is_dir()).count(), 0);

    // A log folder that cannot be written.
    let file = tmp.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    fails_with(
        &["train", "--algo", "trpo", "--env", "CartPole-v1", "--logdir", file.to_str().unwrap(), "--quiet"],
        "choose a writable --logdir",
    );

    // An existing run folder is never overwritten.
    let run = |extra: &[&str]| natgrad(&with(extra).iter().map(String::as_str).collect::<Vec<_>>());
    let ok = run(&["--algo", "trpo", "--env", "CartPole-v1", "--run-name", "keep"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let keep = tmp.path().join("keep");
    let before = std::fs::read(keep.join("progress.csv")).unwrap();
    fails_with(
        &with(&["--algo", "vpg", "--env", "CartPole-v1", "--run-name", "keep"]),
        "already exists and is never overwritten",
    );
    assert_eq!(std::fs::read(keep.join("progress.csv")).unwrap(), before);

    // Checkpoints: another algorithm or environment, or corrupt.
    let other = run(&["--algo", "vpg", "--env", "Pendulum-v1", "--run-name", "other"]);
    assert!(other.status.success());
    let keep_config = std::fs::read_to_string(keep.join("config.toml")).unwrap();
    std::fs::copy(tmp.path().join("other/checkpoint.safetensors"), keep.join("checkpoint.safetensors")).unwrap();
    fails_with(&["eval", keep.to_str().unwrap()], "is of vpg on Pendulum-v1, but this run is trpo on CartPole-v1");
    fails_with(
        &["train", "--resume", keep.to_str().unwrap()],
        "is of vpg on Pendulum-v1, but this run is trpo on CartPole-v1",
    );
    std::fs::write(keep.join("checkpoint.safetensors"), b"not a checkpoint").unwrap();
    fails_with(&["eval", keep.to_str().unwrap()], "is corrupt or not a natgrad checkpoint");
    fails_with(&["train", "--resume", keep.to_str().unwrap()], "is corrupt or not a natgrad checkpoint");
    assert_eq!(std::fs::read_to_string(keep.join("config.toml")).unwrap(), keep_config);
    fails_with(&["train", "--resume", keep.to_str().unwrap(), "--algo", "npg"], "cannot be given with --resume");
    fails_with(&["eval", tmp.path().join("missing").to_str().unwrap()], "does not exist");
    fails_with(&["eval", keep.to_str().unwrap(), "--episodes", "0"], "--episodes must be at least 1");
}

#[test]
fn help_documents_every_hyperparameter_with_examples() {
    let out = natgrad(&["train", "--help"]);
    let help = text(&out.stdout);
    for needle in [
        "Examples:",
        "--target-kl <VALUE>",
        "Trust-region radius delta",
        "[trpo, npg]",
        "--line-search-shrink",
        "[trpo]",
        "--learning-rate",
        "[vpg]",
        "--gamma <VALUE>",
        "tensorboard --logdir runs",
    ] {
        assert!(help.contains(needle), "train --help lacks '{needle}'");
    }
    assert!(text(&natgrad(&["eval", "--help"]).stdout).contains("Examples:"));
}

#[test]
fn compare_runs_every_algorithm_and_seed_and_writes_curves() {
    let tmp = TempDir::new("compare");
    let out = natgrad(&[
        "compare",
        "--env",
        "CartPole-v1",
        "--algos",
        "trpo,npg",
        "--seeds",
        "2",
        "--total-steps",
        "12288",
        "--jobs",
        "2",
        "--eval-freq",
        "6144",
        "--logdir",
        tmp.str(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("| trpo | ") && stdout.contains("| npg | ") && stdout.contains("steps to reach 475"),
        "{stdout}"
    );
    let groups: Vec<PathBuf> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(groups.len(), 1);
    let group = &groups[0];
    for run in ["trpo__seed1", "trpo__seed2", "npg__seed1", "npg__seed2"] {
        assert!(group.join(run).join("progress.csv").is_file(), "{run} missing");
    }
    let curves = csv_rows(&group.join("curves.csv"));
    assert_eq!(curves[0], ["total_steps", "trpo_mean", "trpo_std", "npg_mean", "npg_std"]);
    assert_eq!(curves.len(), 101);
    assert_eq!(curves[100][0], "12288");
    let last_mean: f64 = curves[100][1].parse().unwrap();
    assert!((8.0..=500.0).contains(&last_mean), "{last_mean}");
    for chart in ["curves.png", "curves_wall_time.png"] {
        let png = std::fs::read(group.join(chart)).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{chart}");
    }
    // --jobs 2: the first two runs ran at the same time, each started before
    // the other wrote its final checkpoint (6 iterations of 2,048 steps each, so that a
    // loaded machine's slow start of one cannot outlast the other run).
    let modified = |run: &str, file: &str| std::fs::metadata(group.join(run).join(file)).unwrap().modified().unwrap();
    assert!(modified("trpo__seed1", "config.toml") < modified("trpo__seed2", "checkpoint.safetensors"));
    assert!(modified("trpo__seed2", "config.toml") < modified("trpo__seed1", "checkpoint.safetensors"));
    // Each run's final policy is evaluated as `natgrad eval --deterministic`
    // does, from the same start states; --report rebuilds the same table.
    // 100 episodes: CartPole's preset gives no eval_episodes.
    let eval = natgrad(&["eval", group.join("npg__seed2").to_str().unwrap(), "--deterministic", "--episodes", "100"]);
    let eval_mean: f64 =
        text(&eval.stdout).split("mean return ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    let npg_row = stdout.lines().find(|l| l.starts_with("| npg |")).unwrap();
    let per_seed = npg_row.rsplit('(').next().unwrap().split(')').next().unwrap();
    assert_eq!(per_seed.split(", ").nth(1).unwrap(), format!("{eval_mean:.0}"), "{npg_row}");
    // evaluations.csv: per run, the last 20 training episodes (the curve's
    // last point) and the same deterministic evaluation.
    let evaluations = csv_rows(&group.join("evaluations.csv"));
    assert_eq!(evaluations[0], ["algo", "seed", "last_20_training_episodes", "final_evaluation", "deterministic"]);
    assert!(evaluations[1..].iter().all(|r| r[4] == "true"), "{evaluations:?}");
    assert_eq!(evaluations.len(), 5);
    let npg2 = evaluations.iter().find(|r| r[0] == "npg" && r[1] == "2").unwrap();
    assert!((npg2[3].parse::<f64>().unwrap() - eval_mean).abs() < 0.006, "{npg2:?} vs {eval_mean}");
    let last: Vec<f64> = evaluations[1..].iter().filter(|r| r[0] == "trpo").map(|r| r[2].parse().unwrap()).collect();
    assert!(((last[0] + last[1]) / 2.0 - last_mean).abs() < 1e-9, "{last:?} vs the curve's {last_mean}");
    // statistics.csv: at the final evaluation and at each evaluation during
    // training (--eval-freq 6144: at 6144 and 12288 steps), each algorithm's
    // mean and IQM, and each pair's probability of improvement.
    let statistics = csv_rows(&group.join("statistics.csv"));
    assert_eq!(statistics[0], ["point", "statistic", "algorithm", "versus", "estimate", "low", "high", "runs"]);
    let find = |point: &str, statistic: &str, algo: &str| -> Vec<f64> {
        let row = statistics.iter().find(|r| r[0] == point && r[1] == statistic && r[2] == algo);
        row.unwrap_or_else(|| panic!("no {point} {statistic} {algo} in {statistics:?}"))[4..7]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let npg_final: Vec<f64> =
        evaluations[1..].iter().filter(|r| r[0] == "npg").map(|r| r[3].parse().unwrap()).collect();
    let npg_mean = find("final", "mean", "npg");
    assert!((npg_mean[0] - (npg_final[0] + npg_final[1]) / 2.0).abs() < 1e-9, "{npg_mean:?} vs {npg_final:?}");
    let half_gap = (npg_final[0] - npg_final[1]).abs() / 2.0;
    assert!((npg_mean[2] - npg_mean[0] - half_gap / 2f64.sqrt()).abs() < 1e-9, "standard error of {npg_final:?}");
    // Two runs: the IQM cuts nothing, and its interval lies within the runs.
    let iqm = find("final", "iqm", "npg");
    assert!((iqm[0] - npg_mean[0]).abs() < 1e-9 && iqm[1] >= npg_final[0].min(npg_final[1]) - 1e-9, "{iqm:?}");
    let (better, worse) =
        (find("final", "probability_of_improvement", "trpo"), find("final", "probability_of_improvement", "npg"));
    assert!((better[0] + worse[0] - 1.0).abs() < 1e-12, "{better:?} {worse:?}");
    for step in ["6144", "12288"] {
        let during = find(step, "mean", "trpo");
        let means: Vec<f64> = ["trpo__seed1", "trpo__seed2"]
            .iter()
            .map(|run| {
                let rows = csv_rows(&group.join(run).join("evaluations.csv"));
                rows.iter().find(|r| r[0] == step).unwrap()[1].parse().unwrap()
            })
            .collect();
        assert!((during[0] - (means[0] + means[1]) / 2.0).abs() < 1e-9, "{step}: {during:?} vs {means:?}");
    }
    // The last evaluation during training is the final evaluation: the same
    // policy, statistics, episodes and start states.
    assert_eq!(find("12288", "iqm", "npg"), find("final", "iqm", "npg"));
    assert!(stdout.contains("IQM [95% interval]") && stdout.contains("P(row > column)"), "{stdout}");
    let report = natgrad(&["compare", "--report", group.to_str().unwrap(), "--gif"]);
    assert!(report.status.success(), "{}", text(&report.stderr));
    let table = |out: &str| out.lines().filter(|l| l.starts_with('|')).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(table(&text(&report.stdout)), table(&stdout));
    // --gif: each algorithm's best final policy, by its final evaluation (the
    // lower seed among equals), drawn beside the report.
    let trpo: Vec<f64> = evaluations[1..].iter().filter(|r| r[0] == "trpo").map(|r| r[3].parse().unwrap()).collect();
    let best_trpo = if trpo[1] > trpo[0] { "trpo__seed2" } else { "trpo__seed1" };
    assert!(text(&report.stdout).contains(&format!("{best_trpo}/checkpoint.safetensors")), "{}", text(&report.stdout));
    for algo in ["trpo", "npg"] {
        let gif = std::fs::read(group.join(format!("{algo}__best.gif"))).unwrap();
        assert!(gif.starts_with(b"GIF89a"), "{algo}");
    }
    fails_with(
        &["compare", "--env", "CartPole-v1", "--algos", "trpo,ppo", "--logdir", tmp.str()],
        "unknown algorithm 'ppo'",
    );
}

#[test]
fn compare_variants_carry_their_own_settings() {
    let tmp = TempDir::new("compare-variants");
    let base = ["compare", "--env", "CartPole-v1", "--seeds", "1", "--total-steps", "1024", "--eval-episodes", "2"];
    let with = |algos: &str| -> Vec<String> {
        base.iter().chain(&["--algos", algos, "--logdir", tmp.str()]).map(|s| s.to_string()).collect()
    };
    // Bad variants are refused before anything is written.
    fails_with(&with("trpo,trpo+fisher"), "'trpo+fisher' in --algos: 'fisher' is not a key=value setting");
    fails_with(&with("trpo+fisher=kfac,trpo+fisher=kfac"), "--algos names trpo+fisher=kfac twice");
    fails_with(&with("vpg+fisher=kfac"), "'fisher' (from --set) is a hyperparameter of trpo and npg, not of vpg");
    fails_with(&with("trpo+fisher=kfc"), "unknown fisher 'kfc'");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "a refused comparison wrote something");

    let out = natgrad_args(&with("trpo,trpo+fisher=kfac"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("| trpo | ") && stdout.contains("| trpo+fisher=kfac | "), "{stdout}");
    let group = std::fs::read_dir(tmp.path()).unwrap().next().unwrap().unwrap().path();
    let config = |run: &str| std::fs::read_to_string(group.join(run).join("config.toml")).unwrap();
    assert!(config("trpo__seed1").contains("fisher = \"exact\""), "{}", config("trpo__seed1"));
    assert!(config("trpo+fisher=kfac__seed1").contains("fisher = \"kfac\""), "{}", config("trpo+fisher=kfac__seed1"));
    let curves = csv_rows(&group.join("curves.csv"));
    assert_eq!(curves[0], ["total_steps", "trpo_mean", "trpo_std", "trpo+fisher=kfac_mean", "trpo+fisher=kfac_std"]);
    let report = natgrad(&["compare", "--report", group.to_str().unwrap(), "--eval-episodes", "2"]);
    assert!(report.status.success(), "{}", text(&report.stderr));
    let table = |out: &str| out.lines().filter(|l| l.starts_with('|')).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(table(&text(&report.stdout)), table(&stdout));
    assert!(stdout.contains("each action the policy's mean or most likely one (deterministic)"), "{stdout}");

    // Sampled final evaluations (the Atari presets' way) are said so, in the
    // table, in evaluations.csv and in each run's config.
    let sampled = TempDir::new("compare-sampled");
    let sampling = ["--algos", "vpg", "--eval-deterministic", "false", "--logdir", sampled.str()];
    let out = natgrad(&[&base[..], &sampling[..]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("each action sampled from the policy"), "{stdout}");
    let row = stdout.lines().find(|l| l.starts_with("| vpg |")).unwrap();
    assert!(row.contains("), sampled |"), "{row}");
    let group = std::fs::read_dir(sampled.path()).unwrap().next().unwrap().unwrap().path();
    assert_eq!(csv_rows(&group.join("evaluations.csv"))[1][4], "false");
    let config = std::fs::read_to_string(group.join("vpg__seed1").join("config.toml")).unwrap();
    assert!(config.contains("eval_deterministic = false"), "{config}");
}

#[test]
fn a_second_ctrl_c_stops_at_once_and_cleanly() {
    let tmp = TempDir::new("double-ctrl-c");
    // An iteration of a million steps takes many seconds on any machine, so
    // both presses land inside the first one; the second press is sent only
    // once the run has said it saw the first, not after a fixed time.
    let mut child = Command::new(env!("CARGO_BIN_EXE_natgrad"))
        .args(["train", "--algo", "trpo", "--env", "Pendulum-v1", "--n-steps", "500000", "--total-steps", "4000000"])
        .args(["--logdir", tmp.str(), "--run-name", "r", "--quiet"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let line = line.unwrap();
            all.push_str(&line);
            all.push('\n');
            let _ = lines.send(line);
        }
        all
    });
    // The handler is installed just after the logs open: wait for them, not
    // for a fixed time, which a loaded machine can overrun.
    let progress = tmp.path().join("r/progress.csv");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !progress.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    send(&child, libc::SIGINT);
    let first_seen = loop {
        match received.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains("stopping after this iteration") => break true,
            Ok(_) => continue,
            // The deadline passed, or the run ended without a word.
            Err(_) => break false,
        }
    };
    if !first_seen {
        let _ = child.kill();
        panic!("the run did not acknowledge the first Ctrl-C: {}", reader.join().unwrap());
    }
    send(&child, libc::SIGINT);
    let status = child.wait().unwrap();
    let stderr = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopped at once, without writing a new checkpoint"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(csv_rows(&progress).len(), 1, "no iteration finished");
    assert!(!tmp.path().join("r/checkpoint.safetensors").exists(), "no checkpoint was written");
}

/// `--parallel-critic` is recorded, says so in the summary, may change on
/// resume, and changes no number a run writes.
#[test]
fn the_critic_on_a_second_core_gives_the_same_run() {
    let tmp = TempDir::new("parallel-critic");
    let train = |name: &str, setting: &str, steps: &str| {
        let out = natgrad(&[
            "train",
            "--algo",
            "trpo",
            "--env",
            "Pendulum-v1",
            "--total-steps",
            steps,
            "--seed",
            "3",
            "--logdir",
            tmp.str(),
            "--run-name",
            name,
            "--quiet",
            "--parallel-critic",
            setting,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let (on, off) = (train("on", "on", "8192"), train("off", "off", "8192"));
    assert!(on.contains("critic") && on.contains(" beside them)"), "{on}");
    assert!(!off.contains("beside"), "{off}");
    let config = |run: &str| std::fs::read_to_string(tmp.path().join(run).join("config.toml")).unwrap();
    assert!(config("on").contains("parallel_critic = true"), "{}", config("on"));
    assert!(config("off").contains("parallel_critic = false"), "{}", config("off"));
    assert_eq!(curve(&tmp.path().join("on")), curve(&tmp.path().join("off")));
    assert_eq!(csv_rows(&tmp.path().join("on/episodes.csv")), csv_rows(&tmp.path().join("off/episodes.csv")));

    let resumed = natgrad(&[
        "train",
        "--resume",
        tmp.path().join("on").to_str().unwrap(),
        "--total-steps",
        "12288",
        "--quiet",
        "--parallel-critic",
        "off",
    ]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let summary = text(&resumed.stdout);
    assert!(summary.contains("finished 12288 steps") && !summary.contains("beside"), "{summary}");

    let bad = natgrad(&["train", "--algo", "trpo", "--env", "CartPole-v1", "--parallel-critic", "yes"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("invalid value 'yes' for '--parallel-critic <on|off>'"),
        "{}",
        text(&bad.stderr)
    );
}
