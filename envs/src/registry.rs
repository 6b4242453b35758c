//! `make("CartPole-v1")`: environments by Gymnasium id. The five native ids
//! make natgrad's own environments; with the `gym` feature any other id (or
//! `gym:<id>`, to force Gymnasium's version of a native one) is made by
//! Gymnasium in Python.

use crate::classic::{Acrobot, CartPole, ClassicEnv, Dynamics, MountainCar, MountainCarContinuous, Pendulum};
use crate::env::{Env, EnvSpec};
use crate::error::EnvError;
use crate::time_limit::TimeLimit;
use crate::vector::{VecEnv, VectorEnv};

/// Options of [`make_with`], as the keyword arguments of `gymnasium.make`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MakeOptions {
    /// Overrides the registered time limit.
    pub max_episode_steps: Option<usize>,
    /// Keyword arguments for `gymnasium.make` (environments in Python only).
    pub kwargs: Vec<(String, KwValue)>,
    /// How [`make_vec`] steps the copies of an environment in Python.
    pub vector_mode: VectorMode,
}

/// A keyword argument's value: what `key=value` on the command line means.
#[derive(Clone, Debug, PartialEq)]
pub enum KwValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// Parses `key=value`: `true`/`false` (any case) are booleans, then integers,
/// then floats; anything else is a string.
pub fn parse_kwarg(text: &str) -> Result<(String, KwValue), String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!("'{text}' is not key=value (e.g. --env-kwargs ctrl_cost_weight=0.1)"));
    };
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(format!("'{key}' in '{text}' is not a Python keyword name"));
    }
    let value = if value.eq_ignore_ascii_case("true") {
        KwValue::Bool(true)
    } else if value.eq_ignore_ascii_case("false") {
        KwValue::Bool(false)
    } else if let Ok(i) = value.parse::<i64>() {
        KwValue::Int(i)
    } else if let Ok(f) = value.parse::<f64>() {
        KwValue::Float(f)
    } else {
        KwValue::Str(value.to_owned())
    };
    Ok((key.to_owned(), value))
}

/// How several copies of an environment in Python are stepped: in the main
/// process one after another (`sync`, the measured default on small machines:
/// a step is dearer than the pipe round trip saves), or in worker processes
/// (`async`), Gymnasium's `SyncVectorEnv` and `AsyncVectorEnv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VectorMode {
    #[default]
    Sync,
    Async,
}

/// Where an id's environment comes from.
enum Source<'a> {
    Native(&'a Entry),
    /// Gymnasium in Python, with the id as given (possibly `gym:`-prefixed).
    Gymnasium,
}

fn source<'a>(id: &str, entries: &'a [Entry], options: &MakeOptions) -> Result<Source<'a>, EnvError> {
    if id.starts_with("gym:") {
        return gymnasium_source(id);
    }
    match entries.iter().find(|e| e.spec.id == id) {
        Some(entry) if options.kwargs.is_empty() => Ok(Source::Native(entry)),
        Some(_) => {
            let given = options.kwargs.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ");
            Err(EnvError::NativeKwargs { id: id.to_owned(), given })
        }
        None => gymnasium_source(id).map_err(|_| unknown_native(id)),
    }
}

fn unknown_native(id: &str) -> EnvError {
    let valid = ids();
    EnvError::UnknownEnv {
        id: id.to_owned(),
        suggestion: closest_match(id, &valid).map(str::to_owned),
        valid: valid.into_iter().map(str::to_owned).collect(),
    }
}

#[cfg(feature = "gym")]
fn gymnasium_source<'a>(_id: &str) -> Result<Source<'a>, EnvError> {
    Ok(Source::Gymnasium)
}

#[cfg(not(feature = "gym"))]
fn gymnasium_source<'a>(id: &str) -> Result<Source<'a>, EnvError> {
    Err(unknown_native(id))
}

/// `num_envs` copies of the environment `id` in lockstep: natgrad's own
/// [`VecEnv`] for a native id, Gymnasium's vector environments (`options.
/// vector_mode`) for one in Python.
pub fn make_vec(id: &str, num_envs: usize, options: &MakeOptions) -> Result<Box<dyn VectorEnv>, EnvError> {
    let entries = registry();
    match source(id, &entries, options)? {
        Source::Native(_) => Ok(Box::new(VecEnv::make(id, num_envs, options)?)),
        #[cfg(feature = "gym")]
        Source::Gymnasium => Ok(Box::new(crate::gym::GymVecEnv::make(id, num_envs, options)?)),
        #[cfg(not(feature = "gym"))]
        Source::Gymnasium => unreachable!("no Gymnasium source without the gym feature"),
    }
}

struct Entry {
    id: &'static str,
    spec: EnvSpec,
    build: fn() -> Box<dyn Env>,
}

fn entry<D: Dynamics>() -> Entry {
    Entry {
        id: D::ID,
        spec: EnvSpec {
            id: D::ID.into(),
            max_episode_steps: Some(D::MAX_EPISODE_STEPS),
            reward_threshold: D::REWARD_THRESHOLD,
        },
        build: || Box::new(ClassicEnv::<D>::new()),
    }
}

fn registry() -> [Entry; 5] {
    [
        entry::<CartPole>(),
        entry::<Acrobot>(),
        entry::<MountainCar>(),
        entry::<MountainCarContinuous>(),
        entry::<Pendulum>(),
    ]
}

/// The native ids, in registration order.
pub fn ids() -> Vec<&'static str> {
    registry().iter().map(|e| e.id).collect()
}

/// The registered specs (with their default time limits).
pub fn specs() -> Vec<EnvSpec> {
    registry().into_iter().map(|e| e.spec).collect()
}

/// The environment `id` inside its registered [`TimeLimit`].
pub fn make(id: &str) -> Result<Box<dyn Env>, EnvError> {
    make_with(id, &MakeOptions::default())
}

/// [`make`] with options.
pub fn make_with(id: &str, options: &MakeOptions) -> Result<Box<dyn Env>, EnvError> {
    let entries = registry();
    let entry = match source(id, &entries, options)? {
        Source::Native(entry) => entry,
        #[cfg(feature = "gym")]
        Source::Gymnasium => return Ok(Box::new(crate::gym::GymEnv::make(id, options)?)),
        #[cfg(not(feature = "gym"))]
        Source::Gymnasium => unreachable!("no Gymnasium source without the gym feature"),
    };
    if options.max_episode_steps == Some(0) {
        return Err(EnvError::ZeroMaxEpisodeSteps);
    }
    let limit = options.max_episode_steps.or(entry.spec.max_episode_steps).expect("registered with a limit");
    Ok(Box::new(TimeLimit::new((entry.build)(), limit)?))
}

/// The candidate closest to `name` (case-insensitive edit distance), when it is
/// close enough to be a plausible typo: at most a third of its length away.
pub fn closest_match<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let name = name.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&name, &c.to_lowercase()), *c))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, c)| *d <= c.chars().count().div_ceil(3))
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_every_registered_id_with_its_limit() {
        for spec in specs() {
            let env = make(&spec.id).unwrap();
            assert_eq!(env.spec(), &spec);
        }
        assert_eq!(ids(), ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]);
    }

    #[test]
    fn overrides_the_time_limit() {
        let opts = MakeOptions { max_episode_steps: Some(7), ..Default::default() };
        assert_eq!(make_with("Pendulum-v1", &opts).unwrap().spec().max_episode_steps, Some(7));
        let zero = MakeOptions { max_episode_steps: Some(0), ..Default::default() };
        assert_eq!(make_with("Pendulum-v1", &zero).err(), Some(EnvError::ZeroMaxEpisodeSteps));
    }

    #[test]
    fn unknown_id_lists_valid_ids_and_suggests_the_closest() {
        // Without the `gym` feature this is make's error; with it, ids that
        // Gymnasium does not know get a message naming both kinds.
        let msg = unknown_native("cartpole-v0").to_string();
        assert!(msg.contains("unknown environment id 'cartpole-v0'"), "{msg}");
        assert!(msg.contains("did you mean 'CartPole-v1'?"), "{msg}");
        assert!(msg.contains("Acrobot-v1, MountainCar-v0"), "{msg}");
        let far = unknown_native("Breakout-v5").to_string();
        assert!(!far.contains("did you mean"), "{far}");
    }

    #[test]
    fn kwargs_parse_as_python_literals() {
        assert_eq!(parse_kwarg("a=1").unwrap(), ("a".into(), KwValue::Int(1)));
        assert_eq!(parse_kwarg("b=-0.5").unwrap(), ("b".into(), KwValue::Float(-0.5)));
        assert_eq!(parse_kwarg("c=True").unwrap(), ("c".into(), KwValue::Bool(true)));
        assert_eq!(parse_kwarg("d=false").unwrap(), ("d".into(), KwValue::Bool(false)));
        assert_eq!(parse_kwarg("e=rgb_array").unwrap(), ("e".into(), KwValue::Str("rgb_array".into())));
        assert_eq!(parse_kwarg("f=").unwrap(), ("f".into(), KwValue::Str(String::new())));
        assert!(parse_kwarg("novalue").unwrap_err().contains("not key=value"));
        assert!(parse_kwarg("bad key=1").unwrap_err().contains("not a Python keyword"));
    }

    #[test]
    fn native_ids_refuse_kwargs() {
        let opts = MakeOptions { kwargs: vec![("g".into(), KwValue::Float(9.0))], ..Default::default() };
        let msg = make_with("Pendulum-v1", &opts).err().unwrap().to_string();
        assert!(msg.contains("--env gym:Pendulum-v1"), "{msg}");
    }

    #[test]
    fn edit_distance_is_levenshtein() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("pendulum-v1", "pendulum-v1"), 0);
        assert_eq!(closest_match("Pendulum-v0", &ids()), Some("Pendulum-v1"));
        assert_eq!(closest_match("MountainCarContinuous", &ids()), Some("MountainCarContinuous-v0"));
    }
}
