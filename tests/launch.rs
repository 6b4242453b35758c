//! `natgrad compare --launcher`: the printed command lines, and a real
//! single-node Slurm (`scripts/slurm-single-node start`, which `.ci/run`
//! runs). The Slurm tests run where `sinfo` answers; with
//! `NATGRAD_SLURM_TESTS=1` (set by `.ci/run`) a missing Slurm fails them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{TempDir, curve, natgrad, text, wait_for_rows};

/// The one comparison folder under `logdir`.
fn group_in(logdir: &Path) -> PathBuf {
    let groups: Vec<PathBuf> = std::fs::read_dir(logdir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(groups.len(), 1, "{groups:?}");
    groups.into_iter().next().unwrap()
}

fn compare_args<'a>(env: &'a str, total: &'a str, logdir: &'a str, launcher: &'a str) -> Vec<&'a str> {
    vec!["compare", "--env", env, "--algos", "trpo,vpg", "--seeds", "2", "--total-steps", total]
        .into_iter()
        .chain(["--logdir", logdir, "--launcher", launcher, "--eval-episodes", "5"])
        .collect()
}

/// Each run's progress.csv (measured columns aside), by run folder name.
fn curves(group: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    ["trpo__seed1", "trpo__seed2", "vpg__seed1", "vpg__seed2"]
        .iter()
        .map(|r| (r.to_string(), curve(&group.join(r))))
        .collect()
}

/// `--launcher print` runs nothing and prints one complete command per run;
/// the report covers what has finished and names the rest, and each
/// command, run (the first twice: the second time it finds its run
/// complete), gives the same runs as the local pool.
#[test]
fn printed_commands_run_anywhere_and_give_the_local_grid() {
    let tmp = TempDir::new("launch-print");
    let (local, printed) = (tmp.path().join("local"), tmp.path().join("printed"));
    let out = natgrad(&compare_args("CartPole-v1", "4096", local.to_str().unwrap(), "local"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = natgrad(&compare_args("CartPole-v1", "4096", printed.to_str().unwrap(), "print"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let group = group_in(&printed);
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(std::fs::read_to_string(group.join("commands.txt")).unwrap(), text(&out.stdout));
    assert!(!group.join("trpo__seed1").exists(), "print runs nothing");

    let report = natgrad(&["compare", "--report", group.to_str().unwrap()]);
    assert_eq!(report.status.code(), Some(1));
    assert!(text(&report.stderr).contains("4 of 4 runs of"), "{}", text(&report.stderr));
    assert!(text(&report.stderr).contains("holds no finished runs"), "{}", text(&report.stderr));

    let run = |line: &String| {
        let out = Command::new("bash").args(["-c", line]).env_remove("LD_LIBRARY_PATH").output().unwrap();
        assert!(out.status.success(), "{line}: {}", text(&out.stderr));
    };
    // Half the grid: the report covers what has finished and names the rest.
    lines[..2].iter().for_each(run);
    let report = natgrad(&["compare", "--report", group.to_str().unwrap(), "--eval-episodes", "5"]);
    assert!(report.status.success(), "{}", text(&report.stderr));
    let stderr = text(&report.stderr);
    assert!(stderr.contains("2 of 4 runs of") && stderr.contains("vpg__seed2 (not started)"), "{stderr}");
    let rows = std::fs::read_to_string(group.join("evaluations.csv")).unwrap();
    assert_eq!(
        rows.lines().skip(1).map(|l| l.split(',').take(2).collect::<Vec<_>>().join(",")).collect::<Vec<_>>(),
        ["trpo,1", "trpo,2"]
    );

    lines.iter().chain(&lines[..1]).for_each(run);
    let report = natgrad(&["compare", "--report", group.to_str().unwrap(), "--eval-episodes", "5"]);
    assert!(report.status.success(), "{}", text(&report.stderr));
    assert_eq!(curves(&group), curves(&group_in(&local)));
    let table = |g: &Path| std::fs::read_to_string(g.join("evaluations.csv")).unwrap();
    assert_eq!(table(&group), table(&group_in(&local)));
}

/// `--env A,B`: one grid, one commands.txt, a comparison folder and a
/// report for each environment; `--report` on the grid reports each again.
#[test]
fn several_environments_make_one_grid_with_a_report_each() {
    let tmp = TempDir::new("launch-envs");
    let args =
        ["compare", "--env", "CartPole-v1,Acrobot-v1", "--algos", "trpo", "--seeds", "2", "--total-steps", "2048"];
    let out = natgrad(&[&args[..], &["--logdir", tmp.str(), "--eval-episodes", "3"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let group = group_in(tmp.path());
    assert!(group.file_name().unwrap().to_str().unwrap().starts_with("compare__CartPole-v1+Acrobot-v1__"));
    assert_eq!(std::fs::read_to_string(group.join("commands.txt")).unwrap().lines().count(), 4);
    for env in ["CartPole-v1", "Acrobot-v1"] {
        for file in ["statistics.csv", "curves.png", "trpo__seed2/checkpoint.safetensors"] {
            assert!(group.join(env).join(file).exists(), "{env}/{file}");
        }
        let config = std::fs::read_to_string(group.join(env).join("trpo__seed1/config.toml")).unwrap();
        assert!(config.contains(&format!("env = \"{env}\"")), "{config}");
    }
    std::fs::remove_file(group.join("Acrobot-v1/statistics.csv")).unwrap();
    let report = natgrad(&["compare", "--report", group.to_str().unwrap(), "--eval-episodes", "3"]);
    assert!(report.status.success(), "{}", text(&report.stderr));
    assert!(group.join("Acrobot-v1/statistics.csv").exists());
    let twice = natgrad(&["compare", "--env", "CartPole-v1, CartPole-v1", "--logdir", tmp.str()]);
    assert!(text(&twice.stderr).contains("--env names CartPole-v1 twice"), "{}", text(&twice.stderr));
}

#[test]
fn slurm_options_without_slurm_are_clear_errors() {
    let tmp = TempDir::new("launch-no-slurm");
    // No sbatch on PATH: a one-line error naming what is missing, at once.
    let args = compare_args("CartPole-v1", "2048", tmp.str(), "slurm");
    let out = Command::new(env!("CARGO_BIN_EXE_natgrad")).args(&args).env("PATH", tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("needs Slurm's sbatch, which is not on PATH"), "{}", text(&out.stderr));
    for (extra, message) in [
        (&["--wait"][..], "--wait is an option of --launcher slurm, not of --launcher local"),
        (&["--slurm-time", "1:00"][..], "--slurm-time is an option of --launcher slurm"),
    ] {
        let mut args = compare_args("CartPole-v1", "2048", tmp.str(), "local");
        args.extend(extra);
        let out = natgrad(&args);
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains(message), "{}", text(&out.stderr));
    }
    let mut args = compare_args("CartPole-v1", "2048", tmp.str(), "print");
    args.extend(["--jobs", "2"]);
    assert!(text(&natgrad(&args).stderr).contains("--jobs is an option of --launcher local"));
}

/// Whether this machine has a Slurm to test against.
fn slurm_is_up() -> bool {
    let up = Command::new("sinfo").args(["-h", "-o", "%t"]).output().is_ok_and(|o| o.status.success());
    if !up && std::env::var("NATGRAD_SLURM_TESTS").as_deref() == Ok("1") {
        panic!("NATGRAD_SLURM_TESTS=1 but sinfo does not answer: start Slurm with scripts/slurm-single-node start");
    }
    if !up {
        eprintln!("no Slurm here (sinfo does not answer): skipped; scripts/slurm-single-node start gives one");
    }
    up
}

/// Polls squeue until Slurm holds no task of job `id`.
fn wait_for_job(id: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let out = Command::new("squeue").args(["-h", "-j", id]).output().unwrap();
        if text(&out.stdout).trim().is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "job {id} did not end");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A grid on a real Slurm equals the local grid run for run; a job array
/// cancelled mid-run (scancel: SIGTERM) and submitted again resumes its
/// runs and ends equal too, and the report then covers them all.
#[test]
fn a_slurm_grid_cancelled_and_resubmitted_equals_the_local_grid() {
    if !slurm_is_up() {
        return;
    }
    let tmp = TempDir::new("launch-slurm");
    let (local, slurm, cancelled) = (tmp.path().join("local"), tmp.path().join("slurm"), tmp.path().join("cancelled"));
    let out = natgrad(&compare_args("Acrobot-v1", "40960", local.to_str().unwrap(), "local"));
    assert!(out.status.success(), "{}", text(&out.stderr));

    let mut args = compare_args("Acrobot-v1", "40960", slurm.to_str().unwrap(), "slurm");
    args.extend(["--wait", "--slurm-max-running", "2"]);
    let out = natgrad(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("4/4 runs complete"), "{}", text(&out.stdout));
    let group = group_in(&slurm);
    assert!(group.join("statistics.csv").exists(), "--wait writes the report");
    assert_eq!(curves(&group), curves(&group_in(&local)));

    // Cancelled while its first run trains; the pending tasks go with it.
    let mut args = compare_args("Acrobot-v1", "40960", cancelled.to_str().unwrap(), "slurm");
    args.extend(["--slurm-max-running", "1"]);
    let out = natgrad(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let group = group_in(&cancelled);
    let id = std::fs::read_to_string(group.join("slurm_job_id")).unwrap().trim().to_owned();
    wait_for_rows(&group.join("trpo__seed1/progress.csv"), 3);
    assert!(Command::new("scancel").arg(&id).status().unwrap().success());
    wait_for_job(&id);
    let log = std::fs::read_to_string(group.join(format!("slurm/{id}_0.out"))).unwrap();
    assert!(log.contains("stopping after this iteration and writing a checkpoint"), "{log}");
    let report = natgrad(&["compare", "--report", group.to_str().unwrap()]);
    assert_eq!(report.status.code(), Some(1));
    assert!(text(&report.stderr).contains("trpo__seed1 (started, not finished)"), "{}", text(&report.stderr));
    assert!(text(&report.stderr).contains(&format!("sbatch {}", group.join("slurm.sh").display())));

    let resubmitted = Command::new("sbatch").arg("--wait").arg(group.join("slurm.sh")).output().unwrap();
    assert!(resubmitted.status.success(), "{}", text(&resubmitted.stderr));
    let report = natgrad(&["compare", "--report", group.to_str().unwrap(), "--eval-episodes", "5"]);
    assert!(report.status.success(), "{}", text(&report.stderr));
    assert_eq!(curves(&group), curves(&group_in(&local)));
}
