//! Checkpoints: everything a run needs to continue exactly where it stopped,
//! in one safetensors file written atomically (a temporary file, then a
//! rename). Networks, optimizer moments, both random streams, the
//! environments' complete state and the normalisation statistics are tensors;
//! a small TOML text (algorithm, environment, progress) is a byte tensor.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use natgrad_agents::normalize::RunningMeanStd;
use natgrad_agents::{Agent, Collector};
use natgrad_envs::{EnvSnapshot, Restored, Rng};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::atomic_file;

pub const FILE_NAME: &str = "checkpoint.safetensors";
/// The policy whose evaluation during training was the best so far
/// (rl-baselines3-zoo's `best_model`), as a whole checkpoint.
pub const BEST_FILE_NAME: &str = "best.safetensors";

/// The checkpoint's description of itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub natgrad_version: String,
    pub algo: String,
    pub env: String,
    /// Iterations completed.
    pub iterations: usize,
    /// Environment steps taken.
    pub total_steps: usize,
}

fn words_tensor(words: &[u64]) -> Tensor {
    // u64 words stored bit for bit as int64.
    Tensor::from_slice(&words.iter().map(|w| *w as i64).collect::<Vec<_>>())
}

fn words_of(t: &Tensor) -> Result<Vec<u64>> {
    Ok(Vec::<i64>::try_from(&t.to_kind(Kind::Int64).reshape([-1]))?.into_iter().map(|w| w as u64).collect())
}

fn f64_tensor(values: &[f64]) -> Tensor {
    Tensor::from_slice(values)
}

fn f64s_of(t: &Tensor) -> Result<Vec<f64>> {
    Ok(Vec::<f64>::try_from(&t.to_kind(Kind::Double).reshape([-1]))?)
}

fn stats_tensors(prefix: &str, stats: &RunningMeanStd, out: &mut Vec<(String, Tensor)>) {
    out.push((format!("{prefix}.mean"), f64_tensor(&stats.mean)));
    out.push((format!("{prefix}.var"), f64_tensor(&stats.var)));
    out.push((format!("{prefix}.count"), f64_tensor(&[stats.count])));
}

/// Writes a checkpoint of `agent` and `collector` to `dir/checkpoint.safetensors`.
pub fn save(dir: &Path, meta: &Meta, agent: &mut dyn Agent, collector: &Collector) -> Result<PathBuf> {
    save_as(&dir.join(FILE_NAME), meta, agent, collector)
}

/// Writes a checkpoint of `agent` and `collector` to `path`, atomically.
pub fn save_as(path: &Path, meta: &Meta, agent: &mut dyn Agent, collector: &Collector) -> Result<PathBuf> {
    let mut tensors: Vec<(String, Tensor)> = vec![];
    let to_cpu = |t: &Tensor| t.detach().to_device(Device::Cpu);
    for (net, vs) in [("policy", agent.policy().var_store()), ("value", agent.value_function().var_store())] {
        for (name, t) in vs.variables() {
            tensors.push((format!("{net}.{name}"), to_cpu(&t)));
        }
    }
    tensors.push(("rng.agent".into(), words_tensor(&agent.rng().state())));
    for (name, adam) in agent.optimizers() {
        tensors.push((format!("optim.{name}.exp_avg"), to_cpu(&adam.exp_avg)));
        tensors.push((format!("optim.{name}.exp_avg_sq"), to_cpu(&adam.exp_avg_sq)));
        tensors.push((format!("optim.{name}.step"), Tensor::from_slice(&[adam.step])));
    }
    tensors.extend(agent.curvature_state().into_iter().map(|(name, t)| (name, to_cpu(&t).contiguous())));
    tensors.push(("rng.collector".into(), words_tensor(&collector.rng.state())));
    tensors.push(("envs".into(), words_tensor(&collector.venv.snapshot()?.0)));
    if let Some(norm) = &collector.obs_normalizer {
        stats_tensors("obs_norm", &norm.stats, &mut tensors);
    }
    if let Some(scaler) = &collector.reward_scaler {
        stats_tensors("reward_scale", &scaler.stats, &mut tensors);
        tensors.push(("reward_scale.returns".into(), f64_tensor(&scaler.returns)));
    }
    let meta_text = toml::to_string(meta)?;
    tensors.push(("meta".into(), Tensor::from_slice(meta_text.as_bytes())));

    let tmp = path.with_extension("safetensors.tmp");
    atomic_file::replace(path, &tmp, |tmp| Ok(Tensor::write_safetensors(&tensors, tmp)?)).map_err(|e| {
        anyhow!(
            "cannot write checkpoint {} ({e:#}); the previous checkpoint, if any, is unchanged; free disk space or \
             check the run folder, then resume",
            path.display()
        )
    })?;
    Ok(path.to_path_buf())
}

/// A checkpoint read from disk, not yet applied.
pub struct Checkpoint {
    pub path: PathBuf,
    pub meta: Meta,
    tensors: HashMap<String, Tensor>,
}

impl Checkpoint {
    /// Reads a checkpoint file, or the checkpoint inside a run folder.
    pub fn read(path: &Path) -> Result<Self> {
        let path = if path.is_dir() { path.join(FILE_NAME) } else { path.to_path_buf() };
        if !path.exists() {
            bail!("no checkpoint at {}: a run writes one every few iterations and when it ends", path.display());
        }
        let corrupt = |why: String| {
            anyhow!(
                "{} is corrupt or not a natgrad checkpoint ({why}); use another checkpoint or start a new run",
                path.display()
            )
        };
        let tensors: HashMap<String, Tensor> =
            Tensor::read_safetensors(&path).map_err(|e| corrupt(e.to_string()))?.into_iter().collect();
        let meta_bytes = tensors.get("meta").ok_or_else(|| corrupt("no metadata".into()))?;
        let meta_bytes = Vec::<u8>::try_from(meta_bytes).map_err(|e| corrupt(e.to_string()))?;
        let meta: Meta = std::str::from_utf8(&meta_bytes)
            .map_err(|e| corrupt(e.to_string()))
            .and_then(|t| toml::from_str(t).map_err(|e| corrupt(e.to_string())))?;
        Ok(Self { path, meta, tensors })
    }

    fn get(&self, name: &str) -> Result<&Tensor> {
        self.tensors.get(name).ok_or_else(|| {
            anyhow!("checkpoint {} lacks '{name}': it was written for other settings", self.path.display())
        })
    }

    /// Checks that the checkpoint belongs to `algo` on `env`.
    pub fn check_matches(&self, algo: &str, env: &str) -> Result<()> {
        if self.meta.algo != algo || self.meta.env != env {
            bail!(
                "checkpoint {} is of {} on {}, but this run is {algo} on {env}; use a checkpoint of the same algorithm and environment",
                self.path.display(),
                self.meta.algo,
                self.meta.env
            );
        }
        Ok(())
    }

    fn copy_into(&self, name: &str, target: &Tensor) -> Result<()> {
        let source = self.get(name)?;
        if source.size() != target.size() {
            bail!(
                "checkpoint {}: '{name}' has shape {:?} but the network has {:?}; were the network sizes changed?",
                self.path.display(),
                source.size(),
                target.size()
            );
        }
        tch::no_grad(|| target.shallow_clone().copy_(&source.to_kind(target.kind()).to_device(target.device())));
        Ok(())
    }

    /// Loads the networks only (enough to evaluate the policy).
    pub fn load_networks(&self, agent: &dyn Agent) -> Result<()> {
        for (net, vs) in [("policy", agent.policy().var_store()), ("value", agent.value_function().var_store())] {
            for (name, t) in vs.variables() {
                self.copy_into(&format!("{net}.{name}"), &t)?;
            }
        }
        Ok(())
    }

    /// The observation-normalisation statistics, if the run used them.
    pub fn obs_stats(&self) -> Result<Option<RunningMeanStd>> {
        self.read_stats("obs_norm")
    }

    fn read_stats(&self, prefix: &str) -> Result<Option<RunningMeanStd>> {
        if !self.tensors.contains_key(&format!("{prefix}.mean")) {
            return Ok(None);
        }
        let count = f64s_of(self.get(&format!("{prefix}.count"))?)?;
        Ok(Some(RunningMeanStd {
            mean: f64s_of(self.get(&format!("{prefix}.mean"))?)?,
            var: f64s_of(self.get(&format!("{prefix}.var"))?)?,
            count: *count.first().ok_or_else(|| anyhow!("empty normalisation count"))?,
        }))
    }

    fn rng(&self, name: &str) -> Result<Rng> {
        let words = words_of(self.get(name)?)?;
        let state: [u64; 4] =
            words.try_into().map_err(|_| anyhow!("checkpoint {}: bad '{name}'", self.path.display()))?;
        Ok(Rng::from_state(state))
    }

    /// Restores everything: networks, optimizers, random streams,
    /// environments and normalisation statistics. Says whether the
    /// environments continue exactly or their episodes restart.
    pub fn restore(&self, agent: &mut dyn Agent, collector: &mut Collector) -> Result<Restored> {
        self.load_networks(agent)?;
        *agent.rng() = self.rng("rng.agent")?;
        for (name, adam) in agent.optimizers() {
            self.copy_into(&format!("optim.{name}.exp_avg"), &adam.exp_avg)?;
            self.copy_into(&format!("optim.{name}.exp_avg_sq"), &adam.exp_avg_sq)?;
            adam.step = self.get(&format!("optim.{name}.step"))?.int64_value(&[0]);
        }
        let device = agent.policy().device();
        agent
            .restore_curvature_state(&|name| self.tensors.get(name).map(|t| t.to_device(device)))
            .map_err(|e| anyhow!("checkpoint {}: {e}", self.path.display()))?;
        collector.rng = self.rng("rng.collector")?;
        let restored = collector
            .restore_envs(&EnvSnapshot(words_of(self.get("envs")?)?))
            .with_context(|| format!("checkpoint {}", self.path.display()))?;
        if let Some(norm) = collector.obs_normalizer.as_mut() {
            let stats =
                self.read_stats("obs_norm")?.ok_or_else(|| anyhow!("checkpoint has no observation statistics"))?;
            norm.set_stats(stats).map_err(|e| anyhow!("checkpoint {}: {e}", self.path.display()))?;
        }
        if let Some(scaler) = collector.reward_scaler.as_mut() {
            scaler.stats =
                self.read_stats("reward_scale")?.ok_or_else(|| anyhow!("checkpoint has no reward statistics"))?;
            scaler.returns = f64s_of(self.get("reward_scale.returns")?)?;
            if restored == Restored::EpisodesRestart {
                scaler.returns.fill(0.0);
            }
        }
        collector.total_steps = self.meta.total_steps;
        Ok(restored)
    }
}
