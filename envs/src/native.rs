//! The five native environments, as the registry lists them.

use crate::classic::{Acrobot, CartPole, ClassicEnv, Dynamics, MountainCar, MountainCarContinuous, Pendulum};
use crate::env::{Env, EnvSpec};

/// A native environment: its id, its registered spec and how to build it.
pub(crate) struct Entry {
    pub(crate) id: &'static str,
    pub(crate) spec: EnvSpec,
    pub(crate) build: fn() -> Box<dyn Env>,
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

pub(crate) fn entries() -> [Entry; 5] {
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
    entries().iter().map(|e| e.id).collect()
}

/// The registered specs (with their default time limits).
pub fn specs() -> Vec<EnvSpec> {
    entries().into_iter().map(|e| e.spec).collect()
}
