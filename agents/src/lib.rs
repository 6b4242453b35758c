//! Everything that learns: networks, distributions, rollouts, the
//! natural-gradient core and the agents. Built on libtorch through `tch`.

pub use tch;

mod device;

pub use device::{DeviceError, parse_device};
