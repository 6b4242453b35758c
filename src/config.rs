//! Hyperparameters: the agent's defaults, then the environment's preset from
//! `presets.toml`, then `--config FILE.toml`, then `--set key=value`, then
//! per-key flags (`--target-kl 0.02`), each overriding the one before.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use natgrad_agents::jacobian_fvp::FvpMethod;
use natgrad_agents::policy_fisher::FisherKind;
use natgrad_agents::{
    Acktr, AcktrConfig, Agent, CommonConfig, Key, Npg, NpgConfig, Schedule, Trpo, TrpoConfig, Vpg, VpgConfig,
};
use natgrad_envs::{Space, closest_match};
use tch::Device;
use toml::{Table, Value};

/// The presets, compiled in so the binary works from any folder.
pub const PRESETS: &str = include_str!("../presets.toml");

/// Environment steps of a run when neither the preset nor `--total-steps` says.
pub const DEFAULT_TOTAL_STEPS: usize = 100_000;
/// Evaluation episodes where the preset gives none: the mean of 100 returns
/// is within a few percent on every classic-control task but Pendulum.
pub const DEFAULT_EVAL_EPISODES: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algo {
    Trpo,
    Npg,
    Acktr,
    Vpg,
}

impl Algo {
    pub const ALL: [Algo; 4] = [Algo::Trpo, Algo::Npg, Algo::Acktr, Algo::Vpg];

    pub fn name(self) -> &'static str {
        match self {
            Algo::Trpo => "trpo",
            Algo::Npg => "npg",
            Algo::Acktr => "acktr",
            Algo::Vpg => "vpg",
        }
    }

    /// Parses a name, with an error that lists the valid ones.
    pub fn parse(name: &str) -> Result<Algo> {
        let names: Vec<&str> = Algo::ALL.iter().map(|a| a.name()).collect();
        Algo::ALL.into_iter().find(|a| a.name() == name.to_lowercase()).ok_or_else(|| {
            let hint = closest_match(name, &names).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
            anyhow!("unknown algorithm '{name}'{hint}; valid algorithms: {}", names.join(", "))
        })
    }

    /// Every hyperparameter key this algorithm accepts.
    pub fn keys(self) -> Vec<Key> {
        match self {
            Algo::Trpo => TrpoConfig::keys(),
            Algo::Npg => NpgConfig::keys(),
            Algo::Acktr => AcktrConfig::keys(),
            Algo::Vpg => VpgConfig::keys(),
        }
    }
}

/// One key of one or more algorithms: its documentation, which may differ
/// between the algorithms that take it (VPG's and ACKTR's `learning_rate`).
pub struct SharedKey {
    pub name: &'static str,
    /// Each distinct documentation with the algorithms that give it.
    pub docs: Vec<(&'static str, Vec<Algo>)>,
}

impl SharedKey {
    /// Every algorithm that takes the key.
    pub fn algos(&self) -> Vec<Algo> {
        self.docs.iter().flat_map(|(_, algos)| algos.iter().copied()).collect()
    }
}

/// Every key of every algorithm, each once.
pub fn all_keys() -> Vec<SharedKey> {
    let mut out: Vec<SharedKey> = vec![];
    for algo in Algo::ALL {
        for key in algo.keys() {
            let Some(shared) = out.iter_mut().find(|k| k.name == key.name) else {
                out.push(SharedKey { name: key.name, docs: vec![(key.doc, vec![algo])] });
                continue;
            };
            match shared.docs.iter_mut().find(|(doc, _)| *doc == key.doc) {
                Some((_, algos)) => algos.push(algo),
                None => shared.docs.push((key.doc, vec![algo])),
            }
        }
    }
    out
}

/// One agent's fully resolved hyperparameters.
#[derive(Clone, Debug, PartialEq)]
pub enum AgentConfig {
    Trpo(TrpoConfig),
    Npg(NpgConfig),
    Acktr(AcktrConfig),
    Vpg(VpgConfig),
}

impl AgentConfig {
    pub fn default_for(algo: Algo) -> Self {
        match algo {
            Algo::Trpo => AgentConfig::Trpo(TrpoConfig::default()),
            Algo::Npg => AgentConfig::Npg(NpgConfig::default()),
            Algo::Acktr => AgentConfig::Acktr(AcktrConfig::default()),
            Algo::Vpg => AgentConfig::Vpg(VpgConfig::default()),
        }
    }

    pub fn common(&self) -> &CommonConfig {
        match self {
            AgentConfig::Trpo(c) => &c.common,
            AgentConfig::Npg(c) => &c.common,
            AgentConfig::Acktr(c) => &c.common,
            AgentConfig::Vpg(c) => &c.common,
        }
    }

    pub fn algo(&self) -> Algo {
        match self {
            AgentConfig::Trpo(_) => Algo::Trpo,
            AgentConfig::Npg(_) => Algo::Npg,
            AgentConfig::Acktr(_) => Algo::Acktr,
            AgentConfig::Vpg(_) => Algo::Vpg,
        }
    }

    /// Every hyperparameter the algorithm takes as a TOML table, in
    /// declaration order (ACKTR has no Adam critic, so its keys are left out).
    pub fn to_table(&self) -> Table {
        let table = match self {
            AgentConfig::Trpo(c) => Table::try_from(c),
            AgentConfig::Npg(c) => Table::try_from(c),
            AgentConfig::Acktr(c) => Table::try_from(c),
            AgentConfig::Vpg(c) => Table::try_from(c),
        };
        let keys = self.algo().keys();
        let mut table = table.expect("hyperparameters serialise to TOML");
        table.retain(|k, _| keys.iter().any(|key| key.name == k));
        table
    }

    /// Reads a complete table (every key present and type-checked) and
    /// validates the values.
    fn from_table(algo: Algo, table: Table) -> Result<Self> {
        let config = match algo {
            Algo::Trpo => {
                let c: TrpoConfig = table.try_into()?;
                c.validate()?;
                AgentConfig::Trpo(c)
            }
            Algo::Npg => {
                let c: NpgConfig = table.try_into()?;
                c.validate()?;
                AgentConfig::Npg(c)
            }
            Algo::Acktr => {
                let c: AcktrConfig = table.try_into()?;
                c.validate()?;
                AgentConfig::Acktr(c)
            }
            Algo::Vpg => {
                let c: VpgConfig = table.try_into()?;
                c.validate()?;
                AgentConfig::Vpg(c)
            }
        };
        Ok(config)
    }

    /// A fresh agent with these hyperparameters for an environment's
    /// spaces: the networks read its observations encoded (a `Discrete`
    /// index one-hot, ...), or images through NatureCNN (`policy`).
    pub fn build(
        &self,
        observation_space: &Space,
        action_space: &Space,
        device: Device,
        seed: u64,
    ) -> Result<Box<dyn Agent>> {
        let flat_dim = natgrad_agents::encoding::ObsEncoding::of(observation_space).input_dim();
        let input = self.common().network_input(observation_space, flat_dim)?;
        Ok(match self {
            AgentConfig::Trpo(c) => Box::new(Trpo::new(c.clone(), input, action_space, device, seed)?),
            AgentConfig::Npg(c) => Box::new(Npg::new(c.clone(), input, action_space, device, seed)?),
            AgentConfig::Acktr(c) => Box::new(Acktr::new(c.clone(), input, action_space, device, seed)?),
            AgentConfig::Vpg(c) => Box::new(Vpg::new(c.clone(), input, action_space, device, seed)?),
        })
    }
}

/// The preset table of an environment: its `total_steps` and, per algorithm,
/// hyperparameter overrides.
fn preset_tables() -> Table {
    PRESETS.parse().expect("presets.toml is valid TOML (a test checks it)")
}

/// The presets' name for an environment: `gym:CartPole-v1` takes
/// CartPole-v1's.
fn preset_key(env: &str) -> &str {
    env.strip_prefix("gym:").unwrap_or(env)
}

/// A value the preset gives `env` outside its algorithms' tables.
fn preset_entry(env: &str, key: &str) -> Option<Value> {
    preset_tables().get(preset_key(env)).and_then(|t| t.get(key)).cloned()
}

/// A whole number the preset gives `env` outside its algorithms' tables.
fn preset_count(env: &str, key: &str) -> Option<usize> {
    preset_entry(env, key).as_ref().and_then(Value::as_integer).map(|n| n as usize)
}

/// The preset's total steps for `env`.
pub fn preset_total_steps(env: &str) -> usize {
    preset_count(env, "total_steps").unwrap_or(DEFAULT_TOTAL_STEPS)
}

/// Deterministic episodes that evaluate a final policy in `natgrad compare`:
/// the preset's `eval_episodes`, 100 where it gives none.
pub fn preset_eval_episodes(env: &str) -> usize {
    preset_count(env, "eval_episodes").unwrap_or(DEFAULT_EVAL_EPISODES)
}

/// Environment steps between evaluations during training (`natgrad train
/// --eval-freq`): the preset's `eval_freq`, 0 (none) where it gives none.
pub fn preset_eval_freq(env: &str) -> usize {
    preset_count(env, "eval_freq").unwrap_or(0)
}

/// Whether evaluations take the most likely actions: the preset's
/// `eval_deterministic`, true where it gives none.
pub fn preset_eval_deterministic(env: &str) -> bool {
    preset_entry(env, "eval_deterministic").as_ref().and_then(Value::as_bool).unwrap_or(true)
}

/// Environment copies an evaluation during training runs on: the preset's
/// `n_eval_envs`, 1 where it gives none (rl-baselines3-zoo's default).
pub fn preset_n_eval_envs(env: &str) -> usize {
    preset_count(env, "n_eval_envs").unwrap_or(1)
}

/// The Gymnasium wrappers the preset applies to `env` (`env_wrappers`, in
/// `--env-wrapper` syntax), innermost first; none where it gives none.
pub fn preset_env_wrappers(env: &str) -> Vec<String> {
    let tables = preset_tables();
    tables
        .get(preset_key(env))
        .and_then(|t| t.get("env_wrappers"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The preset's hyperparameter overrides for `env` and `algo` (empty if none).
pub fn preset(env: &str, algo: Algo) -> Table {
    preset_tables()
        .get(preset_key(env))
        .and_then(|t| t.get(algo.name()))
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default()
}

/// Where hyperparameter overrides come from, beyond the preset.
#[derive(Debug, Default)]
pub struct Overrides<'a> {
    pub config_file: Option<&'a Path>,
    /// `key=value` strings from `--set`.
    pub sets: &'a [String],
    /// (key, value) pairs from per-key flags.
    pub flags: &'a [(String, String)],
}

/// Resolves the hyperparameters of `algo` on `env`.
pub fn resolve(algo: Algo, env: &str, overrides: &Overrides<'_>) -> Result<AgentConfig> {
    let mut table = AgentConfig::default_for(algo).to_table();
    merge(&mut table, algo, preset(env, algo), "presets.toml")?;
    if let Some(path) = overrides.config_file {
        let file = read_config_file(path)?;
        merge(&mut table, algo, file, &path.display().to_string())?;
    }
    for set in overrides.sets {
        let (key, value) = set
            .split_once('=')
            .ok_or_else(|| anyhow!("--set expects key=value, got '{set}'; for example --set target_kl=0.02"))?;
        merge_one(&mut table, algo, key.trim(), parse_value(value.trim()), "--set")?;
    }
    for (key, value) in overrides.flags {
        merge_one(&mut table, algo, key, parse_value(value), "a flag")?;
    }
    AgentConfig::from_table(algo, table)
}

/// A hyperparameter file: keys at the top level, or the `[hyperparameters]`
/// table of a run's `config.toml` (so a run can be repeated from its folder).
fn read_config_file(path: &Path) -> Result<Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    let mut table: Table =
        text.parse().with_context(|| format!("{} is not valid TOML; fix the line named above", path.display()))?;
    Ok(match table.remove("hyperparameters") {
        Some(Value::Table(h)) => h,
        _ => table,
    })
}

/// A command-line value as TOML: `0.02`, `true`, `[64, 64]`; `64,64` is a
/// list too; anything else is a string.
pub fn parse_value(text: &str) -> Value {
    let as_toml = |t: &str| t.parse::<Table>().ok().and_then(|mut table| table.remove("v"));
    as_toml(&format!("v = {text}"))
        .or_else(|| text.contains(',').then(|| as_toml(&format!("v = [{text}]"))).flatten())
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

fn merge(table: &mut Table, algo: Algo, overrides: Table, source: &str) -> Result<()> {
    for (key, value) in overrides {
        merge_one(table, algo, &key, value, source)?;
    }
    Ok(())
}

/// Sets one key after checking that `algo` has it and that the value has
/// the key's type.
fn merge_one(table: &mut Table, algo: Algo, key: &str, value: Value, source: &str) -> Result<()> {
    let key = key.replace('-', "_");
    let Some(default) = table.get(&key) else {
        let names: Vec<&str> = algo.keys().iter().map(|k| k.name).collect();
        if let Some(shared) = all_keys().into_iter().find(|k| k.name == key) {
            let owners: Vec<&str> = shared.algos().iter().map(|a| a.name()).collect();
            let owners = match owners.split_last() {
                Some((last, [])) => last.to_string(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => unreachable!("a shared key has an algorithm"),
            };
            let hint = if algo == Algo::Acktr && (key.starts_with("critic_") || key == "n_critic_updates") {
                "; acktr's critic takes K-FAC steps instead of Adam's (see vf_learning_rate)"
            } else {
                ""
            };
            bail!("'{key}' (from {source}) is a hyperparameter of {owners}, not of {}{hint}", algo.name());
        }
        let hint = closest_match(&key, &names).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
        bail!("unknown hyperparameter '{key}' in {source}{hint}; {} takes: {}", algo.name(), names.join(", "));
    };
    if takes_schedule(algo, &key) {
        let schedule = schedule_value(&key, value, source)?;
        table.insert(key, schedule);
        return Ok(());
    }
    let value = match (default, value) {
        (Value::Float(_), Value::Integer(i)) => Value::Float(i as f64),
        // Every whole-number hyperparameter is a count.
        (Value::Integer(_), Value::Integer(i)) if i < 0 => {
            // Stable-Baselines3 spells "only at the start of each rollout" -1.
            let hint = if key == "sde_sample_freq" { " (0 draws only at the start of each rollout)" } else { "" };
            bail!("{key} (from {source}) must be a whole number >= 0, got {i}{hint}")
        }
        (d, v) if std::mem::discriminant(d) == std::mem::discriminant(&v) => v,
        (d, Value::String(text)) if text.starts_with("lin_") => {
            bail!(
                "{key} (from {source}) must be {}, got {text}: {} takes no schedule for it; {SCHEDULED}",
                describe(d),
                algo.name()
            )
        }
        (d, v) => bail!("{key} (from {source}) must be {}, got {v}", describe(d)),
    };
    if let (Value::Array(items), Value::Array(_)) = (&value, default)
        && !items.iter().all(Value::is_integer)
    {
        bail!("{key} (from {source}) must be a list of integers like [64, 64], got {value}");
    }
    if let ("fisher", Value::String(name)) = (key.as_str(), &value) {
        name.parse::<FisherKind>().map_err(|e| anyhow!("fisher (from {source}): {e}"))?;
    }
    if let ("fvp", Value::String(name)) = (key.as_str(), &value) {
        name.parse::<FvpMethod>().map_err(|e| anyhow!("fvp (from {source}): {e}"))?;
    }
    if let ("policy", Value::String(name)) = (key.as_str(), &value)
        && !["auto", "cnn", "mlp"].contains(&name.as_str())
    {
        bail!("policy (from {source}): unknown policy '{name}': use auto, cnn or mlp");
    }
    table.insert(key, value);
    Ok(())
}

/// The keys whose value may be a [`Schedule`]: a number or `lin_X`.
fn takes_schedule(algo: Algo, key: &str) -> bool {
    use Algo::*;
    matches!(
        (algo, key),
        (Trpo | Npg, "target_kl")
            | (Vpg | Acktr, "learning_rate")
            | (Acktr, "vf_learning_rate")
            | (Trpo | Npg | Vpg, "critic_learning_rate")
    )
}

/// [`takes_schedule`] in words, for its error.
const SCHEDULED: &str = "schedules (lin_X) are taken by target_kl (trpo, npg), learning_rate (vpg, acktr), \
                         vf_learning_rate (acktr) and critic_learning_rate (trpo, npg, vpg)";

/// A schedule as its TOML value (a number, or the string `lin_X`), after
/// checking that it parses.
fn schedule_value(key: &str, value: Value, source: &str) -> Result<Value> {
    let schedule = match &value {
        Value::Float(f) => Schedule::Constant(*f),
        Value::Integer(i) => Schedule::Constant(*i as f64),
        Value::String(text) => text.parse().map_err(|e| anyhow!("{key} (from {source}): {e}"))?,
        other => bail!("{key} (from {source}) must be a number like 0.01 or a schedule like lin_0.01, got {other}"),
    };
    Ok(match schedule {
        Schedule::Constant(v) => Value::Float(v),
        linear => Value::String(linear.to_string()),
    })
}

fn describe(example: &Value) -> String {
    match example {
        Value::Float(f) => format!("a number like {f}"),
        Value::Integer(i) => format!("a whole number like {i}"),
        Value::Boolean(_) => "true or false".into(),
        Value::Array(a) => format!("a list of integers like {}", Value::Array(a.clone())),
        other => format!("a {}", other.type_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_resolves_for_every_environment_and_algorithm() {
        let presets = preset_tables();
        for id in natgrad_envs::ids() {
            assert!(presets.contains_key(id), "presets.toml has no [{id}]");
            for algo in Algo::ALL {
                resolve(algo, id, &Overrides::default()).unwrap_or_else(|e| panic!("{id} {}: {e:#}", algo.name()));
            }
        }
        let AgentConfig::Trpo(c) = resolve(Algo::Trpo, "CartPole-v1", &Overrides::default()).unwrap() else {
            unreachable!()
        };
        assert_eq!((c.common.n_envs, c.common.n_steps, c.natural.cg_damping), (2, 1024, 0.001));
        assert_eq!(preset_total_steps("MountainCarContinuous-v0"), 50_000);
        assert_eq!((preset_eval_episodes("Pendulum-v1"), preset_eval_episodes("gym:CartPole-v1")), (1000, 100));
        assert_eq!((preset_eval_freq("Hopper-v5"), preset_eval_episodes("Hopper-v5")), (50_000, 10));
        assert_eq!((preset_eval_freq("CartPole-v1"), preset_n_eval_envs("CartPole-v1")), (0, 1));
    }

    #[test]
    fn later_sources_override_earlier_ones() {
        let sets = vec!["target_kl=0.02".to_string(), "gamma=1".into()];
        let flags = vec![("target_kl".to_string(), "0.03".to_string()), ("policy-hidden".into(), "32,16".into())];
        let o = Overrides { config_file: None, sets: &sets, flags: &flags };
        let AgentConfig::Trpo(c) = resolve(Algo::Trpo, "CartPole-v1", &o).unwrap() else { unreachable!() };
        assert_eq!(c.natural.target_kl, Schedule::Constant(0.03));
        assert_eq!(c.common.gamma, 1.0);
        assert_eq!(c.common.policy_hidden, vec![32, 16]);
        assert_eq!(c.common.n_steps, 1024, "the preset still applies");
    }

    /// zoo's `lin_X` for TRPO's and NPG's trust region and for the learning
    /// rates, and back to a number later in the chain.
    #[test]
    fn trust_regions_and_learning_rates_take_a_linear_schedule() {
        let resolved = |sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            let o = Overrides { config_file: None, sets: &sets, flags: &[] };
            match resolve(Algo::Trpo, "Hopper-v5", &o).unwrap() {
                AgentConfig::Trpo(c) => c.natural.target_kl,
                _ => unreachable!(),
            }
        };
        assert_eq!(resolved(&["target_kl=lin_0.005"]), Schedule::Linear { initial: 0.005 });
        assert_eq!(resolved(&["target_kl=lin_0.005", "target_kl=0.02"]), Schedule::Constant(0.02));
        assert_eq!(resolved(&["target_kl=0.02", "target_kl=lin_1e-3"]), Schedule::Linear { initial: 0.001 });
        assert_eq!(resolved(&["target_kl=1"]), Schedule::Constant(1.0));
        let o = Overrides { config_file: None, sets: &["target_kl=lin_0.004".to_string()], flags: &[] };
        let AgentConfig::Npg(c) = resolve(Algo::Npg, "Pendulum-v1", &o).unwrap() else { unreachable!() };
        assert_eq!(c.natural.target_kl, Schedule::Linear { initial: 0.004 });
        // The learning rates too, as zoo writes them most often.
        let sets = ["learning_rate=lin_3e-3".to_string(), "critic_learning_rate=lin_1e-3".to_string()];
        let o = Overrides { config_file: None, sets: &sets, flags: &[] };
        let AgentConfig::Vpg(c) = resolve(Algo::Vpg, "Pendulum-v1", &o).unwrap() else { unreachable!() };
        assert_eq!(c.policy_optimizer.learning_rate, Schedule::Linear { initial: 3e-3 });
        assert_eq!(c.common.critic_learning_rate, Schedule::Linear { initial: 1e-3 });
        let sets = ["learning_rate=lin_0.25".to_string(), "vf_learning_rate=lin_0.25".to_string()];
        let o = Overrides { config_file: None, sets: &sets, flags: &[] };
        let AgentConfig::Acktr(c) = resolve(Algo::Acktr, "Pendulum-v1", &o).unwrap() else { unreachable!() };
        let linear = Schedule::Linear { initial: 0.25 };
        assert_eq!((c.optimizer.learning_rate, c.optimizer.vf_learning_rate), (linear, linear));
    }

    fn err(algo: Algo, sets: &[&str]) -> String {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let o = Overrides { config_file: None, sets: &sets, flags: &[] };
        format!("{:#}", resolve(algo, "CartPole-v1", &o).unwrap_err())
    }

    #[test]
    fn bad_keys_and_values_are_clear_errors() {
        assert_eq!(
            err(Algo::Trpo, &["gama=0.9"]),
            format!(
                "unknown hyperparameter 'gama' in --set (did you mean 'gamma'?); trpo takes: {}",
                Algo::Trpo.keys().iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
            )
        );
        assert_eq!(
            err(Algo::Vpg, &["target_kl=0.1"]),
            "'target_kl' (from --set) is a hyperparameter of trpo, npg and acktr, not of vpg"
        );
        assert_eq!(
            err(Algo::Trpo, &["fisher=kfc"]),
            "fisher (from --set): unknown fisher 'kfc': use exact, kfac, diagonal or empirical"
        );
        assert_eq!(
            err(Algo::Trpo, &["fvp=hessian"]),
            "fvp (from --set): unknown fvp 'hessian': use jacobian or double_backprop"
        );
        assert_eq!(err(Algo::Trpo, &["gamma=abc"]), "gamma (from --set) must be a number like 0.99, got \"abc\"");
        assert_eq!(
            err(Algo::Trpo, &["gamma"]),
            "--set expects key=value, got 'gamma'; for example --set target_kl=0.02"
        );
        assert_eq!(err(Algo::Trpo, &["target_kl=0"]), "invalid target_kl = 0: target_kl must be positive");
        assert_eq!(err(Algo::Trpo, &["target_kl=lin_0"]), "invalid target_kl = lin_0: target_kl must be positive");
        assert!(
            err(Algo::Npg, &["target_kl=lin_x"]).starts_with("target_kl (from --set): 'lin_x' is not a schedule: "),
            "{}",
            err(Algo::Npg, &["target_kl=lin_x"])
        );
        assert_eq!(
            err(Algo::Acktr, &["target_kl=lin_0.002"]),
            format!(
                "target_kl (from --set) must be a number like 0.002, got lin_0.002: acktr takes no schedule for it; {SCHEDULED}"
            )
        );
        assert!(
            err(Algo::Vpg, &["learning_rate=lin_"]).starts_with("learning_rate (from --set): 'lin_' is not a schedule")
        );
        assert_eq!(err(Algo::Trpo, &["gamma=1.5"]), "invalid gamma = 1.5: gamma must be in (0, 1]");
        assert_eq!(err(Algo::Trpo, &["gamma=0"]), "invalid gamma = 0: gamma must be in (0, 1]");
        assert_eq!(err(Algo::Trpo, &["gae_lambda=-0.1"]), "invalid gae_lambda = -0.1: gae_lambda must be in [0, 1]");
        assert_eq!(err(Algo::Trpo, &["n_steps=0"]), "invalid n_steps = 0: need at least 1 step per copy per iteration");
        assert_eq!(err(Algo::Trpo, &["n_steps=-5"]), "n_steps (from --set) must be a whole number >= 0, got -5");
        assert_eq!(
            err(Algo::Trpo, &["policy_hidden=[]"]),
            "invalid policy_hidden = []: give at least one positive layer size, e.g. [64, 64]"
        );
        assert!(err(Algo::Trpo, &["policy_hidden=[1.5]"]).contains("list of integers"));
    }

    #[test]
    fn algorithm_names_are_checked_with_suggestions() {
        assert_eq!(Algo::parse("TRPO").unwrap(), Algo::Trpo);
        assert_eq!(
            format!("{}", Algo::parse("trop").unwrap_err()),
            "unknown algorithm 'trop' (did you mean 'trpo'?); valid algorithms: trpo, npg, acktr, vpg"
        );
    }

    #[test]
    fn values_parse_as_toml_with_comma_lists() {
        assert_eq!(parse_value("0.5"), Value::Float(0.5));
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(parse_value("64,64"), Value::Array(vec![Value::Integer(64), Value::Integer(64)]));
        assert_eq!(parse_value("[8]"), Value::Array(vec![Value::Integer(8)]));
        assert_eq!(parse_value("abc"), Value::String("abc".into()));
    }
}
