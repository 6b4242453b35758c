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

// The guide's examples of this crate compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/environments.md")]
struct GuideExamples;

mod classic;
mod env;
mod error;
#[cfg(feature = "gym")]
pub mod gym;
#[cfg(feature = "mujoco")]
mod mujoco;
mod native;
mod options;
mod registry;
mod rng;
mod space;
mod spin_pool;
mod suggest;
mod time_limit;
mod vector;

pub use classic::{Acrobot, CartPole, ClassicEnv, Dynamics, MountainCar, MountainCarContinuous, Pendulum};
pub use env::{Env, EnvSnapshot, EnvSpec, Observation, RgbImage, Step, StepOutcome};
pub use error::EnvError;
pub use native::{ids, specs};
pub use options::{EnvWrapper, KwValue, MakeOptions, NumpyDot, VectorMode, parse_kwarg, parse_wrapper};
pub use registry::{make, make_vec, make_with};
pub use rng::Rng;
pub use space::{Action, BoxSpace, SampleBuffer, Space};
pub use suggest::closest_match;
pub use time_limit::TimeLimit;
pub use vector::{EpisodeStats, Restored, VecActions, VecEnv, VecStep, VectorEnv, random_actions};
