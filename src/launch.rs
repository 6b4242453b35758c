//! Where `natgrad compare` runs its grid: a local process pool, a printed
//! list of command lines for any scheduler, or one Slurm job array. Every
//! run is the same `natgrad train ... --resume-existing` command line, kept
//! in the comparison folder's `commands.txt`, so a resubmitted task (a
//! requeue, or the whole array again) finishes only what is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::checkpoint::Checkpoint;
use crate::train::RunConfig;

/// The comparison folder's file of command lines, one run a line.
pub const COMMANDS_NAME: &str = "commands.txt";
/// The job-array script `--launcher slurm` writes and submits.
pub const SLURM_SCRIPT_NAME: &str = "slurm.sh";
/// The id `sbatch` gave the array.
pub const SLURM_JOB_ID_NAME: &str = "slurm_job_id";

/// How `natgrad compare` runs its grid.
#[derive(Clone, Debug, PartialEq)]
pub enum Launcher {
    /// Up to `jobs` runs at once on this machine.
    Local {
        jobs: usize,
    },
    /// Write the command lines and print them; run nothing.
    Print,
    Slurm(SlurmOptions),
}

/// `#SBATCH` settings of the job array, and whether to wait for it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SlurmOptions {
    pub partition: Option<String>,
    pub cpus_per_task: usize,
    /// `--time`, in any of Slurm's formats (`30:00`, `1-00:00:00`).
    pub time: Option<String>,
    /// At most this many tasks at once (`--array=0-N%K`).
    pub max_running: Option<usize>,
    /// Further `#SBATCH` options, passed as given (`--mem=4G`, `--requeue`).
    pub options: Vec<String>,
    /// Poll `squeue` until the array ends, then report.
    pub wait: bool,
}

/// Writes `commands` (each a program and its arguments) into `group`'s
/// commands.txt, one shell-quoted line each.
pub fn write_commands(group: &Path, commands: &[Vec<String>]) -> Result<PathBuf> {
    let path = group.join(COMMANDS_NAME);
    let text: String = commands.iter().map(|c| shell_words::join(c) + "\n").collect();
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// The run folders commands.txt names (`--logdir` joined with `--run-name`).
pub fn planned_runs(group: &Path) -> Result<Option<Vec<PathBuf>>> {
    let path = group.join(COMMANDS_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut runs = vec![];
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let words =
            shell_words::split(line).with_context(|| format!("{} has a malformed line: {line}", path.display()))?;
        let value = |flag: &str| words.iter().position(|w| w == flag).and_then(|i| words.get(i + 1));
        let (Some(logdir), Some(name)) = (value("--logdir"), value("--run-name")) else {
            bail!("{}: a line without --logdir and --run-name: {line}", path.display());
        };
        runs.push(Path::new(logdir).join(name));
    }
    Ok(Some(runs))
}

/// Whether a run folder holds a checkpoint of all its steps.
pub fn is_complete(run: &Path) -> bool {
    let (Ok(config), Ok(checkpoint)) = (RunConfig::read(run), Checkpoint::read(run)) else { return false };
    checkpoint.meta.total_steps >= config.total_steps
}

/// The planned runs of `group` that have not finished, each with what is
/// known of it: not started, or started and not finished (running, stopped
/// or failed).
pub fn unfinished(group: &Path) -> Result<Vec<String>> {
    let Some(runs) = planned_runs(group)? else { return Ok(vec![]) };
    Ok(runs
        .iter()
        .filter(|r| !is_complete(r))
        .map(|r| {
            let name = r.file_name().map_or_else(|| r.display().to_string(), |n| n.to_string_lossy().into_owned());
            if r.exists() { format!("{name} (started, not finished)") } else { format!("{name} (not started)") }
        })
        .collect())
}

/// The job-array script: task i runs line i + 1 of commands.txt, with its
/// output in `slurm/ARRAYJOB_TASK.out`.
pub fn slurm_script(group: &Path, tasks: usize, o: &SlurmOptions) -> String {
    let group = group.display();
    let limit = o.max_running.map_or(String::new(), |k| format!("%{k}"));
    let mut lines = vec![
        "#!/bin/bash".to_owned(),
        "# Written by natgrad compare --launcher slurm: one task per run of commands.txt.".to_owned(),
        "# Resubmitting it (sbatch slurm.sh) finishes only the runs that are missing.".to_owned(),
        "#SBATCH --job-name=natgrad-compare".to_owned(),
        format!("#SBATCH --array=0-{}{limit}", tasks - 1),
        "#SBATCH --ntasks=1".to_owned(),
        format!("#SBATCH --cpus-per-task={}", o.cpus_per_task),
        format!("#SBATCH --output={group}/slurm/%A_%a.out"),
    ];
    lines.extend(o.partition.iter().map(|p| format!("#SBATCH --partition={p}")));
    lines.extend(o.time.iter().map(|t| format!("#SBATCH --time={t}")));
    lines.extend(o.options.iter().map(|opt| format!("#SBATCH {opt}")));
    lines.extend([
        "set -euo pipefail".to_owned(),
        format!(
            "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" {})",
            shell_words::quote(&format!("{group}/{COMMANDS_NAME}"))
        ),
        "# exec: natgrad itself receives Slurm's SIGTERM, checkpoints and exits.".to_owned(),
        "eval \"exec $line\"".to_owned(),
    ]);
    lines.join("\n") + "\n"
}

/// A Slurm command-line tool, or a clear error naming what is missing.
fn slurm_tool(name: &str) -> Result<Command> {
    let found =
        std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()));
    if !found {
        bail!(
            "--launcher slurm needs Slurm's {name}, which is not on PATH: run natgrad compare on a Slurm login node \
             (or install slurm-wlm; scripts/slurm-single-node starts a one-machine cluster), or use --launcher print \
             for the command lines"
        );
    }
    Ok(Command::new(name))
}

/// Writes the job-array script into `group` and submits it; returns the job id.
pub fn submit_slurm(group: &Path, tasks: usize, o: &SlurmOptions) -> Result<String> {
    let mut sbatch = slurm_tool("sbatch")?;
    std::fs::create_dir_all(group.join("slurm")).with_context(|| format!("cannot create {}/slurm", group.display()))?;
    let script = group.join(SLURM_SCRIPT_NAME);
    std::fs::write(&script, slurm_script(group, tasks, o))
        .with_context(|| format!("cannot write {}", script.display()))?;
    let out = sbatch.arg("--parsable").arg(&script).current_dir(group).output().context("cannot run sbatch")?;
    if !out.status.success() {
        bail!("sbatch refused {}: {}", script.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    // --parsable prints `id` or `id;cluster`.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = stdout.trim().split(';').next().unwrap_or_default().to_owned();
    if id.is_empty() {
        bail!("sbatch printed no job id for {}", script.display());
    }
    std::fs::write(group.join(SLURM_JOB_ID_NAME), format!("{id}\n")).context("cannot record the job id")?;
    Ok(id)
}

/// Waits until Slurm holds no task of job `id`, printing how many runs of
/// `group` are complete whenever that changes.
pub fn wait_for_slurm(group: &Path, id: &str, runs: usize) -> Result<()> {
    let mut shown = None;
    loop {
        let out = slurm_tool("squeue")?.args(["-h", "-j", id, "-o", "%i %t"]).output().context("cannot run squeue")?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        // squeue forgets a job a while after it ends, and then calls its id invalid.
        if !out.status.success() && !stderr.contains("Invalid job id") {
            bail!("squeue cannot say how job {id} stands: {}", stderr.trim());
        }
        let queued = String::from_utf8_lossy(&out.stdout).lines().count();
        let gone = queued == 0;
        let complete = planned_runs(group)?.unwrap_or_default().iter().filter(|r| is_complete(r)).count();
        if shown != Some((complete, queued)) {
            println!("slurm job {id}: {complete}/{runs} runs complete, {queued} tasks queued or running");
            shown = Some((complete, queued));
        }
        if gone {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_runs_the_tasks_line_of_the_commands_with_the_options_given() {
        let o = SlurmOptions {
            partition: Some("cpu".into()),
            cpus_per_task: 2,
            time: Some("1:00:00".into()),
            max_running: Some(3),
            options: vec!["--requeue".into()],
            wait: false,
        };
        let script = slurm_script(Path::new("/shared/runs/compare__X"), 12, &o);
        for line in [
            "#SBATCH --array=0-11%3",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --partition=cpu",
            "#SBATCH --time=1:00:00",
            "#SBATCH --requeue",
            "#SBATCH --output=/shared/runs/compare__X/slurm/%A_%a.out",
            "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" /shared/runs/compare__X/commands.txt)",
            "eval \"exec $line\"",
        ] {
            assert!(script.lines().any(|l| l == line), "{line} missing from\n{script}");
        }
        let bare = slurm_script(Path::new("/r"), 1, &SlurmOptions { cpus_per_task: 1, ..Default::default() });
        assert!(bare.contains("#SBATCH --array=0-0\n") && !bare.contains("--partition") && !bare.contains("--time"));
    }

    #[test]
    fn commands_round_trip_through_the_file_with_awkward_paths() {
        let dir = std::env::temp_dir().join(format!("natgrad-launch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let command = |name: &str| -> Vec<String> {
            ["natgrad", "train", "--env-wrapper", "m.W:a=1,b='x y'", "--logdir", "/runs/a b", "--run-name", name]
                .map(str::to_owned)
                .to_vec()
        };
        write_commands(&dir, &[command("trpo__seed1"), command("vpg__seed1")]).unwrap();
        let text = std::fs::read_to_string(dir.join(COMMANDS_NAME)).unwrap();
        assert_eq!(shell_words::split(text.lines().next().unwrap()).unwrap(), command("trpo__seed1"));
        let runs = planned_runs(&dir).unwrap().unwrap();
        assert_eq!(runs, [PathBuf::from("/runs/a b/trpo__seed1"), PathBuf::from("/runs/a b/vpg__seed1")]);
        assert_eq!(unfinished(&dir).unwrap(), ["trpo__seed1 (not started)", "vpg__seed1 (not started)"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
