//! Everything that learns: networks, distributions, rollouts, the
//! natural-gradient core and the agents. Built on libtorch through `tch`.

pub use tch;

mod device;
pub mod distributions;
pub mod natural_gradient;
pub mod nn;
pub mod normalize;
pub mod policy;
pub mod rollout;
pub mod value;

pub use device::{DeviceError, parse_device};
