use thiserror::Error;

/// Everything that can go wrong when using an environment. Each message names
/// the problem and the way out.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EnvError {
    #[error("unknown environment id '{id}'{}; valid ids: {}", suggestion.as_ref().map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default(), valid.join(", "))]
    UnknownEnv { id: String, suggestion: Option<String>, valid: Vec<String> },

    #[error("max_episode_steps must be at least 1 (got 0); leave it unset to use the environment's default")]
    ZeroMaxEpisodeSteps,

    #[error("discrete action {action} is out of range: this environment takes actions 0..{n} (0 to {})", n.saturating_sub(1))]
    ActionOutOfRange { action: i64, n: usize },

    #[error(
        "continuous action has {got} values but the action space has {expected}; pass a slice of length {expected}"
    )]
    ActionDimension { expected: usize, got: usize },

    #[error(
        "action value {value} at index {index} is not finite; the policy produced NaN or infinity, check its outputs"
    )]
    NonFiniteAction { index: usize, value: f32 },

    #[error("this environment takes {expected}, but got {got}")]
    ActionKind { expected: &'static str, got: &'static str },

    #[error("step() called before reset(): call reset() to start an episode")]
    NotReset,

    #[error("step() called after the episode ended ({reason}): call reset() to start a new episode")]
    EpisodeOver { reason: &'static str },

    #[error("state has {got} values but this environment's state has {expected} ({layout})")]
    StateDimension { expected: usize, got: usize, layout: String },

    #[error("state value {value} at index {index} is not finite; a state must be finite")]
    NonFiniteState { index: usize, value: f64 },

    #[error("vectorized step got {got} actions for {expected} environments; pass one action per environment")]
    ActionCount { expected: usize, got: usize },

    #[error("environment copy {index}: {source}")]
    InCopy { index: usize, source: Box<EnvError> },

    #[error(
        "environment snapshot does not fit this environment ({0}); was it taken from another environment or natgrad version?"
    )]
    BadSnapshot(&'static str),

    #[error("a vectorized environment needs at least one copy (got 0)")]
    NoEnvs,

    #[error("vectorized environments must share spaces, but '{first}' and '{other}' differ")]
    MixedSpaces { first: String, other: String },
}
