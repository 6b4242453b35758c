//! Everything that learns: networks, distributions, rollouts, the
//! natural-gradient core and the agents. Built on libtorch through `tch`.

pub use tch;

pub mod actor;
pub mod agent;
pub mod classifier;
mod device;
pub mod distributions;
pub mod finite;
pub mod fisher;
pub mod hyperparameters;
pub mod kfac;
pub mod natural_gradient;
pub mod natural_policy_step;
pub mod nn;
pub mod normalize;
pub mod npg;
pub mod optim;
pub mod policy;
pub mod rollout;
pub mod trpo;
pub mod value;
pub mod vpg;

pub use agent::{Agent, CommonConfig, ConfigError, Control, Iteration, TrainError, UpdateStats, train};
pub use finite::NonFinite;
pub use hyperparameters::Key;
pub use natural_policy_step::NaturalGradientConfig;
pub use npg::{Npg, NpgConfig};
pub use rollout::{Collector, Rollout};
pub use trpo::{LineSearchConfig, Trpo, TrpoConfig};
pub use vpg::{PolicyOptimizerConfig, Vpg, VpgConfig};

pub use device::{DeviceError, parse_device};
