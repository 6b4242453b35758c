//! The networks and what they output: MLPs, the policy (its action
//! distributions, gSDE included) and the value function, each with its own
//! `VarStore`, and the actors that act with them during rollouts.

pub mod actor;
pub mod cnn;
pub mod distributions;
pub mod nn;
pub mod policy;
mod simd;
pub mod value;
