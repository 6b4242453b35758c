//! The algorithms, each in its own file that reads top to bottom: TRPO and
//! NPG (natural-gradient steps), ACKTR (K-FAC steps for actor and critic)
//! and VPG (the plain policy gradient).

pub mod acktr;
pub mod npg;
pub mod trpo;
pub mod vpg;
