//! `make("CartPole-v1")`: environments by Gymnasium id.

use crate::classic::{Acrobot, CartPole, ClassicEnv, Dynamics, MountainCar, MountainCarContinuous, Pendulum};
use crate::env::{Env, EnvSpec};
use crate::error::EnvError;
use crate::time_limit::TimeLimit;

/// Options of [`make_with`], as the keyword arguments of `gymnasium.make`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MakeOptions {
    /// Overrides the registered time limit.
    pub max_episode_steps: Option<usize>,
}

struct Entry {
    spec: EnvSpec,
    build: fn() -> Box<dyn Env>,
}

fn entry<D: Dynamics>() -> Entry {
    Entry {
        spec: EnvSpec {
            id: D::ID,
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

/// The registered ids, in registration order.
pub fn ids() -> Vec<&'static str> {
    registry().iter().map(|e| e.spec.id).collect()
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
    let Some(entry) = entries.iter().find(|e| e.spec.id == id) else {
        let valid = ids();
        return Err(EnvError::UnknownEnv {
            id: id.to_owned(),
            suggestion: closest_match(id, &valid).map(str::to_owned),
            valid: valid.into_iter().map(str::to_owned).collect(),
        });
    };
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
            let env = make(spec.id).unwrap();
            assert_eq!(env.spec(), &spec);
        }
        assert_eq!(ids(), ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]);
    }

    #[test]
    fn overrides_the_time_limit() {
        let opts = MakeOptions { max_episode_steps: Some(7) };
        assert_eq!(make_with("Pendulum-v1", &opts).unwrap().spec().max_episode_steps, Some(7));
        let zero = MakeOptions { max_episode_steps: Some(0) };
        assert_eq!(make_with("Pendulum-v1", &zero).err(), Some(EnvError::ZeroMaxEpisodeSteps));
    }

    #[test]
    fn unknown_id_lists_valid_ids_and_suggests_the_closest() {
        let err = make("cartpole-v0").err().unwrap();
        let msg = err.to_string();
        assert!(msg.contains("unknown environment id 'cartpole-v0'"), "{msg}");
        assert!(msg.contains("did you mean 'CartPole-v1'?"), "{msg}");
        assert!(msg.contains("Acrobot-v1, MountainCar-v0"), "{msg}");
        let far = make("Breakout-v5").err().unwrap().to_string();
        assert!(!far.contains("did you mean"), "{far}");
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
