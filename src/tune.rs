//! `natgrad tune`: hyperparameter search with Optuna, rl-baselines3-zoo's
//! engine, driven from natgrad's embedded Python (`tune.py`, ask and tell),
//! each trial an ordinary `natgrad train` child process. Several workers on
//! any number of machines share one study through its storage. Everything
//! is checked here before Optuna opens the study.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use natgrad_envs::make_with;
use serde_json::{Value, json};

use crate::config::{self, Algo, Overrides};

const TUNE_PY: &str = include_str!("tune.py");

#[derive(Debug)]
pub struct TuneRequest {
    pub env: String,
    pub algo: String,
    pub trials: usize,
    pub study_name: String,
    pub storage: String,
    pub n_jobs: usize,
    pub total_steps: Option<usize>,
    pub eval_freq: Option<usize>,
    pub eval_episodes: usize,
    pub seed: u64,
    /// Runs per trial, on seeds `seed`, `seed + 1`, ...; the trial scores their mean.
    pub trial_seeds: usize,
    pub sampler_seed: Option<u64>,
    pub space: Option<PathBuf>,
    pub sampler: String,
    pub pruner: String,
    pub n_startup_trials: usize,
    pub pruner_warmup_steps: usize,
    pub logdir: PathBuf,
    pub env_kwargs: Vec<String>,
    pub env_wrappers: Vec<String>,
}

/// Optuna's storage: a database URL, or a JournalFile path (`.log`), as zoo takes them.
fn check_storage(storage: &str) -> Result<()> {
    if storage.contains("://") || storage.ends_with(".log") {
        return Ok(());
    }
    bail!(
        "--storage {storage}: give an Optuna storage URL (sqlite:///study.db on one machine; postgresql://USER@HOST/DB \
         or mysql://... for many) or a JournalFile path ending in .log on a file system every worker sees"
    )
}

/// The search space's first candidate of each hyperparameter, as `key=value`
/// settings (zoo's `net_arch` as natgrad's two layer lists), so that the
/// whole space can be checked against the algorithm before any trial runs.
fn first_candidates(space: &serde_json::Map<String, Value>, origin: &str) -> Result<Vec<String>> {
    let mut sets = vec![];
    for (name, spec) in space {
        let first = match (spec.get("choices"), spec.get("low"), spec.get("high")) {
            (Some(Value::Array(choices)), _, _) if !choices.is_empty() => choices[0].clone(),
            (None, Some(low), Some(high)) if low.is_number() && high.is_number() => {
                if low.as_f64() > high.as_f64() {
                    bail!("{origin}: {name} has low {low} above high {high}");
                }
                low.clone()
            }
            _ => bail!(
                "{origin}: {name} needs `choices = [...]` (non-empty) or numbers `low` and `high` (and `log = true` for a \
                 log scale)"
            ),
        };
        match (name.as_str(), &first) {
            ("net_arch", Value::String(arch)) if arch == "small" || arch == "medium" => {}
            ("net_arch", _) => {
                bail!("{origin}: net_arch takes \"small\" or \"medium\" (zoo's); or search policy_hidden")
            }
            (_, value) => sets.push(format!("{name}={value}")),
        }
    }
    Ok(sets)
}

/// The space file as JSON, or the algorithm's default space.
fn read_space(path: Option<&Path>, algo: Algo) -> Result<(serde_json::Map<String, Value>, String)> {
    let Some(path) = path else {
        let text = natgrad_envs::gym::run_python(TUNE_PY, "natgrad_tune", "default_space", algo.name())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let space: serde_json::Map<String, Value> = serde_json::from_str(&text)?;
        return Ok((space, format!("the default {} space", algo.name())));
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read --space {}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("--space {} is not TOML", path.display()))?;
    let space = serde_json::to_value(&table)?;
    let Value::Object(space) = space else { unreachable!("a TOML table is an object") };
    if space.is_empty() {
        bail!("--space {} holds no hyperparameter; give one table per hyperparameter", path.display());
    }
    Ok((space, format!("--space {}", path.display())))
}

/// Refuses counts of zero, a storage Optuna cannot open and a study name
/// that is not a plain folder name.
fn check_request(req: &TuneRequest) -> Result<()> {
    check_storage(&req.storage)?;
    if req.trials == 0 || req.n_jobs == 0 || req.eval_episodes == 0 || req.trial_seeds == 0 {
        bail!("--trials, --n-jobs, --eval-episodes and --trial-seeds must be at least 1");
    }
    if req.study_name.is_empty() || req.study_name.contains(['/', '\\']) {
        bail!("--study-name '{}': use a plain name, without '/' (it names the study's folder too)", req.study_name);
    }
    Ok(())
}

/// The environment's `--env-kwargs` and `--env-wrapper` flags, passed on to every trial.
fn trial_env_args(req: &TuneRequest) -> Vec<String> {
    let kwargs = req.env_kwargs.iter().flat_map(|kv| ["--env-kwargs".to_owned(), kv.clone()]);
    kwargs.chain(req.env_wrappers.iter().flat_map(|w| ["--env-wrapper".to_owned(), w.clone()])).collect()
}

/// Runs `natgrad tune`; `Ok(false)` when Ctrl-C or SIGTERM stopped it.
pub fn run(req: &TuneRequest) -> Result<bool> {
    let algo = Algo::parse(&req.algo)?;
    check_request(req)?;
    let wrappers = crate::train::env_wrappers(&req.env_wrappers, &req.env);
    let options = crate::train::make_options(&req.env_kwargs, &wrappers, "sync")?;
    let spec = make_with(&req.env, &options)?.spec().clone();
    let total_steps = req.total_steps.unwrap_or_else(|| config::preset_total_steps(&spec.id));
    // Five evaluations a trial by default: what the median pruner compares.
    let eval_freq = req.eval_freq.unwrap_or(total_steps / 5).max(1);
    if total_steps == 0 || eval_freq > total_steps {
        bail!(
            "--total-steps must be at least 1 and --eval-freq at most --total-steps: a trial's value is its last evaluation"
        );
    }
    let (space, origin) = read_space(req.space.as_deref(), algo)?;
    let sets = first_candidates(&space, &origin)?;
    config::resolve(algo, &spec.id, &Overrides { sets: &sets, ..Default::default() })
        .with_context(|| format!("{origin} does not fit {} on {}", algo.name(), spec.id))?;
    let env_args = trial_env_args(req);
    std::fs::create_dir_all(&req.logdir)
        .with_context(|| format!("cannot create {}; choose a writable --logdir", req.logdir.display()))?;
    let logdir = std::path::absolute(&req.logdir)?;
    let exe = std::env::current_exe().context("cannot find the natgrad executable")?;
    let cfg = json!({
        "exe": exe, "algo": algo.name(), "env": spec.id, "seed": req.seed, "total_steps": total_steps,
        "eval_freq": eval_freq, "eval_episodes": req.eval_episodes, "env_args": env_args,
        "sampler_seed": req.sampler_seed, "trial_seeds": req.trial_seeds,
        "logdir": logdir, "study_name": req.study_name, "storage": req.storage, "n_trials": req.trials,
        "n_jobs": req.n_jobs, "sampler": req.sampler, "pruner": req.pruner,
        "n_startup_trials": req.n_startup_trials, "pruner_warmup_steps": req.pruner_warmup_steps,
        "space_file": req.space.as_ref().map(std::path::absolute).transpose()?,
    });
    println!(
        "tuning {} on {} in study {} ({}): {} trials of {total_steps} steps on {} seed(s) each, {} at a time here, \
         evaluated every {eval_freq} steps over {} episodes; runs in {}",
        algo.name(),
        spec.id,
        req.study_name,
        req.storage,
        req.trials,
        req.trial_seeds,
        req.n_jobs,
        req.eval_episodes,
        logdir.join(&req.study_name).display()
    );
    let summary =
        natgrad_envs::gym::run_python(TUNE_PY, "natgrad_tune", "run", &cfg.to_string()).map_err(|e| match e {
            natgrad_envs::EnvError::Python { kind, message, .. } if kind == "TuneError" => anyhow::anyhow!("{message}"),
            e => anyhow::anyhow!("{e}"),
        })?;
    let summary: Value = serde_json::from_str(&summary)?;
    report(&summary, algo, &spec.id, &req.study_name, &req.storage)?;
    Ok(summary["interrupted"] != Value::Bool(true))
}

/// Prints the study's counts and writes its best trial as a preset-format
/// TOML that `natgrad train --config` takes.
fn report(summary: &Value, algo: Algo, env: &str, study: &str, storage: &str) -> Result<()> {
    let count = |state: &str| summary["counts"][state].as_u64().unwrap_or(0);
    println!(
        "study {study}: {} complete, {} pruned, {} failed, {} running elsewhere",
        count("complete"),
        count("pruned"),
        count("fail"),
        count("running")
    );
    let folder = PathBuf::from(summary["folder"].as_str().unwrap_or("."));
    let Some(best) = summary.get("best") else {
        println!("no trial has completed yet, so there is no best one to write");
        return Ok(());
    };
    let mut toml = format!(
        "# natgrad tune: the best trial so far of study {study} ({storage}): trial {}, value {:.3} (its last \
         deterministic evaluation, the mean over its seeds), {} on {env}; run folders {}\n# natgrad train --algo {} \
         --env {env} --config {}\n",
        best["number"],
        best["value"].as_f64().unwrap_or(f64::NAN),
        algo.name(),
        best["run"].as_str().unwrap_or(""),
        algo.name(),
        folder.join("best.toml").display()
    );
    if let Some(settings) = best["settings"].as_object() {
        for (key, value) in settings {
            toml += &format!("{key} = {}\n", value.as_str().unwrap_or_default());
        }
    }
    let path = folder.join("best.toml");
    std::fs::write(&path, &toml).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "best: trial {} with {:.2}; its settings in {}",
        best["number"],
        best["value"].as_f64().unwrap_or(f64::NAN),
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storages_are_urls_or_journal_files() {
        assert!(check_storage("sqlite:///study.db").is_ok());
        assert!(check_storage("postgresql://me@db/optuna").is_ok());
        assert!(check_storage("/shared/study.log").is_ok());
        assert!(check_storage("study.db").unwrap_err().to_string().contains("sqlite:///study.db"));
    }

    #[test]
    fn a_space_is_checked_by_its_first_candidates() {
        let space = |text: &str| -> serde_json::Map<String, Value> {
            let table: toml::Table = toml::from_str(text).unwrap();
            serde_json::to_value(table).unwrap().as_object().unwrap().clone()
        };
        let sets = first_candidates(
            &space("gamma = { choices = [0.99, 0.9] }\ncritic_learning_rate = { low = 1e-4, high = 1e-2, log = true }\nnet_arch = { choices = [\"small\"] }\npolicy_hidden = { choices = [[64, 64], [32]] }"),
            "s",
        )
        .unwrap();
        assert_eq!(sets, ["critic_learning_rate=0.0001", "gamma=0.99", "policy_hidden=[64,64]"]);
        assert!(first_candidates(&space("gamma = { low = 0.99 }"), "s").unwrap_err().to_string().contains("choices"));
        assert!(first_candidates(&space("gamma = { choices = [] }"), "s").is_err());
        assert!(
            first_candidates(&space("gamma = { low = 1, high = 0 }"), "s").unwrap_err().to_string().contains("above")
        );
        assert!(first_candidates(&space("net_arch = { choices = [\"big\"] }"), "s").is_err());
    }
}
