//! `make("CartPole-v1")`: environments by Gymnasium id. The native ids (the
//! classic five, and with the `mujoco` feature the MuJoCo tasks) make
//! natgrad's own environments; with the `gym` feature any other id (or
//! `gym:<id>`, to force Gymnasium's version of a native one) is made by
//! Gymnasium in Python.

use crate::env::Env;
use crate::error::EnvError;
use crate::native::{Entry, entries, ids};
use crate::options::MakeOptions;
use crate::suggest::closest_match;
use crate::time_limit::TimeLimit;
use crate::vector::{VecEnv, VectorEnv};

/// Where an id's environment comes from.
enum Source<'a> {
    Native(&'a Entry),
    /// Gymnasium in Python, with the id as given (possibly `gym:`-prefixed).
    /// Never made without the `gym` feature, where such ids are unknown.
    #[cfg_attr(not(feature = "gym"), allow(dead_code))]
    Gymnasium,
}

fn source<'a>(id: &str, entries: &'a [Entry], options: &MakeOptions) -> Result<Source<'a>, EnvError> {
    if id.starts_with("gym:") {
        return gymnasium_source(id);
    }
    match entries.iter().find(|e| e.spec.id == id) {
        Some(entry) if options.kwargs.is_empty() && options.wrappers.is_empty() => Ok(Source::Native(entry)),
        Some(entry) if entry.takes_kwargs && options.wrappers.is_empty() => Ok(Source::Native(entry)),
        Some(entry) if entry.takes_kwargs => {
            let given = options.wrappers.iter().map(|w| w.path.clone()).collect::<Vec<_>>().join(", ");
            Err(EnvError::NativeWrappers { id: id.to_owned(), given })
        }
        Some(_) => {
            let kwargs = options.kwargs.iter().map(|(k, _)| k.clone());
            let given = kwargs.chain(options.wrappers.iter().map(|w| w.path.clone())).collect::<Vec<_>>().join(", ");
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
    let entries = entries();
    match source(id, &entries, options)? {
        Source::Native(entry) => {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            // A MuJoCo step (30 to 200 us) is long against a hand-over to a
            // spinning helper; a classic one (tens of ns) is not.
            let auto = if entry.threaded { num_envs.clamp(1, cores) } else { 1 };
            Ok(Box::new(VecEnv::make(id, num_envs, options)?.with_threads(options.env_threads.unwrap_or(auto))))
        }
        #[cfg(feature = "gym")]
        Source::Gymnasium => Ok(Box::new(crate::gym::GymVecEnv::make(id, num_envs, options)?)),
        #[cfg(not(feature = "gym"))]
        Source::Gymnasium => unreachable!("no Gymnasium source without the gym feature"),
    }
}

// The vector environment's constructor by id lives with the registry, so that
// `vector` knows nothing of how environments are made.
impl VecEnv {
    /// `num_envs` copies of `make_with(id, options)`, stepped one by one (for
    /// an environment in Python too; [`crate::make_vec`] picks Gymnasium's own
    /// vector environments for those).
    pub fn make(id: &str, num_envs: usize, options: &MakeOptions) -> Result<Self, EnvError> {
        let envs = (0..num_envs).map(|_| make_with(id, options)).collect::<Result<Vec<_>, _>>()?;
        Self::new(envs)
    }
}

/// The environment `id` inside its registered [`TimeLimit`].
pub fn make(id: &str) -> Result<Box<dyn Env>, EnvError> {
    make_with(id, &MakeOptions::default())
}

/// [`make`] with options.
pub fn make_with(id: &str, options: &MakeOptions) -> Result<Box<dyn Env>, EnvError> {
    let entries = entries();
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
    Ok(Box::new(TimeLimit::new((entry.build)(options)?, limit)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::specs;
    use crate::options::KwValue;

    #[test]
    fn makes_every_registered_id_with_its_limit() {
        for spec in specs() {
            let env = make(&spec.id).unwrap();
            assert_eq!(env.spec(), &spec);
        }
        let classic = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"];
        assert_eq!(ids()[..5], classic);
        #[cfg(feature = "mujoco")]
        assert_eq!(
            ids()[5..],
            [
                "Hopper-v5",
                "Walker2d-v5",
                "HalfCheetah-v5",
                "Swimmer-v5",
                "Ant-v5",
                "InvertedPendulum-v5",
                "InvertedDoublePendulum-v5",
                "Reacher-v5",
                "Humanoid-v5"
            ]
        );
        #[cfg(not(feature = "mujoco"))]
        assert_eq!(ids().len(), 5);
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
    fn native_ids_refuse_kwargs() {
        let opts = MakeOptions { kwargs: vec![("g".into(), KwValue::Float(9.0))], ..Default::default() };
        let msg = make_with("Pendulum-v1", &opts).err().unwrap().to_string();
        assert!(msg.contains("--env gym:Pendulum-v1"), "{msg}");
    }
}
