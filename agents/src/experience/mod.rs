//! Experience: the one rollout collector every agent shares, GAE, and the
//! observation and reward normalisation it applies on the way.

pub mod normalize;
pub mod rollout;
