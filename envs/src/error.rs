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
        "action component {index} is {action}, out of range: that component takes 0..{n} (0 to {})",
        n.saturating_sub(1)
    )]
    ComponentOutOfRange { index: usize, action: i64, n: usize },

    #[error("the action has {got} values but the action space has {expected}; pass a slice of length {expected}")]
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

    #[error(
        "'{id}' cannot save its state (natgrad snapshots MuJoCo environments, and others that define natgrad_get_state() and natgrad_set_state(state)); its episodes in progress restart on resume"
    )]
    NotRestorable { id: String },

    #[error("unknown environment id '{id}': not one of natgrad's native environments ({}) nor registered with Gymnasium{}; `natgrad envs` lists every id", native.join(", "), closest_text(closest))]
    UnknownGymEnv { id: String, native: Vec<String>, closest: Vec<String> },

    #[error(
        "{what} needs Gymnasium in Python, which is not set up: {reason}; run scripts/bootstrap (it installs gymnasium[mujoco,box2d]==1.4.0 into .venv)"
    )]
    GymnasiumMissing { what: String, reason: String },

    #[error("'{id}': {message}")]
    UnsupportedSpace { id: String, message: String },

    #[error("Gymnasium's {id} raised {kind} in {during}: {message}")]
    Python { id: String, during: String, kind: String, message: String },

    #[error(
        "{id} returned a non-finite {what} ({value} at index {index}) on step {step} of copy {copy}; the environment diverged or is broken: check it (and its --env-kwargs) outside natgrad"
    )]
    NonFiniteFromEnv { id: String, what: &'static str, value: f64, index: usize, step: u64, copy: usize },

    #[error(
        "{id} returned {got} observation values in {during} where its observation space holds {expected}; the environment does not match its own observation_space: fix one of them"
    )]
    ObservationSize { id: String, during: &'static str, expected: usize, got: usize },

    #[error(
        "the native {id} takes no keyword arguments or wrappers (got {given}); use --env gym:{id} to make Gymnasium's own version with them"
    )]
    NativeKwargs { id: String, given: String },

    #[error(
        "the native {id} takes no wrappers (got {given}); use --env gym:{id} to make Gymnasium's own version with them"
    )]
    NativeWrappers { id: String, given: String },

    #[error("the native {id} has no keyword argument '{key}'; it takes {accepted} (or use --env gym:{id})")]
    UnknownKwarg { id: String, key: String, accepted: String },

    #[error("{id}'s keyword argument {key} must be {expected} (got {got})")]
    KwargValue { id: String, key: String, expected: String, got: String },

    #[error("MuJoCo could not load {path}: {message}")]
    MujocoLoad { path: String, message: String },

    #[error(
        "natgrad was built against MuJoCo {built} but loaded MuJoCo {loaded}; rebuild natgrad (cargo build) after changing the mujoco wheel"
    )]
    MujocoVersion { built: i32, loaded: i32 },

    #[error("a vectorized environment needs at least one copy (got 0)")]
    NoEnvs,

    #[error("vectorized environments must share spaces, but '{first}' and '{other}' differ")]
    MixedSpaces { first: String, other: String },
}

fn closest_text(closest: &[String]) -> String {
    match closest {
        [] => String::new(),
        names => format!(" (closest: {})", names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")),
    }
}
