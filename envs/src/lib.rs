//! Gymnasium's classic control environments in pure Rust.
//!
//! The five environments (CartPole-v1, Acrobot-v1, MountainCar-v0,
//! MountainCarContinuous-v0, Pendulum-v1) reproduce Gymnasium 1.4.0 transition
//! for transition, down to the float32/float64 arithmetic of each; the parity
//! tests in `tests/gymnasium_parity.rs` check every step of golden trajectories.
//!
//! ```
//! use natgrad_envs::{make, Action};
//!
//! let mut env = make("CartPole-v1")?;
//! let obs = env.reset(Some(42))?;
//! assert_eq!(obs.len(), 4);
//! let step = env.step(Action::Discrete(1))?;
//! assert_eq!(step.reward, 1.0);
//! # Ok::<(), natgrad_envs::EnvError>(())
//! ```
//!
//! Semantics follow Gymnasium: `reset` returns the first observation, `step`
//! returns the observation, the reward and the `terminated`/`truncated` flags
//! separately, and [`make`] wraps every environment in a [`TimeLimit`].
//! Unlike Gymnasium, misuse (a step before reset, an invalid action) is an
//! [`EnvError`], never a warning or a silently wrong state.

// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

mod classic;
mod env;
mod error;
#[cfg(feature = "gym")]
pub mod gym;
mod registry;
mod rng;
mod space;
mod time_limit;
mod vector;

pub use classic::{Acrobot, CartPole, ClassicEnv, Dynamics, MountainCar, MountainCarContinuous, Pendulum};
pub use env::{Action, Env, EnvSnapshot, EnvSpec, Observation, Step};
pub use error::EnvError;
pub use registry::{
    KwValue, MakeOptions, VectorMode, closest_match, ids, make, make_vec, make_with, parse_kwarg, specs,
};
pub use rng::Rng;
pub use space::{BoxSpace, Space};
pub use time_limit::TimeLimit;
pub use vector::{EpisodeStats, Restored, VecActions, VecEnv, VecStep, VectorEnv};
