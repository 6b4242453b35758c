//! The algorithms, each in its own file that reads top to bottom: TRPO and
//! NPG (natural-gradient steps) and VPG (the plain policy gradient).

pub mod npg;
pub mod trpo;
pub mod vpg;
