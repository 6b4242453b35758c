//! Experience: the one rollout collector every agent shares, GAE, the
//! observation encoding and the observation and reward normalisation it
//! applies on the way, and the
//! deterministic evaluation of a policy during training.

pub mod encoding;
pub mod evaluation;
pub mod normalize;
pub mod rollout;
