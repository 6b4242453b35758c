//! Everything that learns: networks, distributions, rollouts, the
//! natural-gradient core and the agents. Built on libtorch through `tch`.

pub use tch;

pub mod agent;
pub mod algorithms;
pub mod allocator;
mod device;
pub mod experience;
pub mod finite;
pub mod generator;
pub mod hyperparameters;
pub mod natural;
pub mod networks;
pub mod optim;
pub mod schedule;

// Every module keeps its short path (`natgrad_agents::policy`, ...): the
// folders above show the architecture, these the names users know.
pub use algorithms::{acktr, npg, trpo, vpg};
pub use experience::{encoding, evaluation, normalize, rollout};
pub use natural::{classifier, fisher, jacobian_fvp, kfac, natural_gradient, natural_policy_step, policy_fisher};
pub use networks::{actor, cnn, distributions, nn, policy, value};

pub use acktr::{Acktr, AcktrConfig, AcktrOptimizerConfig};
pub use agent::{Agent, CommonConfig, ConfigError, Control, Iteration, TrainError, UpdateStats, train};
pub use finite::NonFinite;
pub use hyperparameters::Key;
pub use natural_policy_step::NaturalGradientConfig;
pub use npg::{Npg, NpgConfig};
pub use rollout::{Collector, Rollout};
pub use schedule::Schedule;
pub use trpo::{LineSearchConfig, Trpo, TrpoConfig};
pub use vpg::{PolicyOptimizerConfig, Vpg, VpgConfig};

pub use device::{DeviceError, parse_device};
