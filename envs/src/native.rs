//! The native environments, as the registry lists them: the five classic
//! control ones, and with the `mujoco` feature Gymnasium's MuJoCo v5 tasks.

use crate::classic::{Acrobot, CartPole, ClassicEnv, Dynamics, MountainCar, MountainCarContinuous, Pendulum};
use crate::env::{Env, EnvSpec};
use crate::error::EnvError;
use crate::options::MakeOptions;

/// Makes a native environment from `make_with`'s options (Gymnasium's
/// keyword arguments among them).
pub(crate) type Build = fn(&MakeOptions) -> Result<Box<dyn Env>, EnvError>;

/// A native environment: its id, its registered spec and how to build it.
pub(crate) struct Entry {
    pub(crate) id: &'static str,
    pub(crate) spec: EnvSpec,
    /// Whether it takes keyword arguments (MuJoCo tasks do, as Gymnasium's).
    pub(crate) takes_kwargs: bool,
    /// Whether a step is long enough (a MuJoCo step: tens of microseconds)
    /// that stepping copies on threads pays.
    pub(crate) threaded: bool,
    pub(crate) build: Build,
}

fn entry<D: Dynamics>() -> Entry {
    Entry {
        id: D::ID,
        spec: EnvSpec {
            id: D::ID.into(),
            max_episode_steps: Some(D::MAX_EPISODE_STEPS),
            reward_threshold: D::REWARD_THRESHOLD,
        },
        takes_kwargs: false,
        threaded: false,
        build: |_| Ok(Box::new(ClassicEnv::<D>::new())),
    }
}

#[cfg(feature = "mujoco")]
fn mujoco_entry<T: crate::mujoco::Task>() -> Entry {
    Entry {
        id: T::ID,
        spec: EnvSpec {
            id: T::ID.into(),
            max_episode_steps: Some(T::MAX_EPISODE_STEPS),
            reward_threshold: T::REWARD_THRESHOLD,
        },
        takes_kwargs: true,
        threaded: true,
        build: crate::mujoco::build::<T>,
    }
}

pub(crate) fn entries() -> Vec<Entry> {
    #[allow(unused_mut)]
    let mut entries = vec![
        entry::<CartPole>(),
        entry::<Acrobot>(),
        entry::<MountainCar>(),
        entry::<MountainCarContinuous>(),
        entry::<Pendulum>(),
    ];
    #[cfg(feature = "mujoco")]
    {
        use crate::mujoco::*;
        entries.extend([
            mujoco_entry::<Hopper>(),
            mujoco_entry::<Walker2d>(),
            mujoco_entry::<HalfCheetah>(),
            mujoco_entry::<Swimmer>(),
            mujoco_entry::<Ant>(),
            mujoco_entry::<InvertedPendulum>(),
            mujoco_entry::<InvertedDoublePendulum>(),
            mujoco_entry::<Reacher>(),
            mujoco_entry::<Humanoid>(),
        ]);
    }
    entries
}

/// The native ids, in registration order.
pub fn ids() -> Vec<&'static str> {
    entries().iter().map(|e| e.id).collect()
}

/// The registered specs (with their default time limits).
pub fn specs() -> Vec<EnvSpec> {
    entries().into_iter().map(|e| e.spec).collect()
}
