//! Hyperparameters that change over a run, written as rl-baselines3-zoo
//! writes them: a number stays constant, `lin_X` goes linearly from X at the
//! start of training to 0 at its end. "Progress remaining" is
//! Stable-Baselines3's: 1 before the first update, 0 once the run's steps
//! are all taken, computed after each rollout and before its update.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    Constant(f64),
    /// `initial · progress_remaining`.
    Linear {
        initial: f64,
    },
}

impl Schedule {
    /// The value at `progress_remaining` (1 at the start, 0 at the end).
    pub fn value(self, progress_remaining: f64) -> f64 {
        match self {
            Schedule::Constant(v) => v,
            Schedule::Linear { initial } => initial * progress_remaining.clamp(0.0, 1.0),
        }
    }

    /// The value at the start of training.
    pub fn initial(self) -> f64 {
        self.value(1.0)
    }
}

/// Stable-Baselines3's `1 - num_timesteps / total_timesteps`, clamped to
/// [0, 1]: the last batch may overshoot the run's steps.
pub fn progress_remaining(steps_taken: usize, total_steps: usize) -> f64 {
    if total_steps == 0 {
        return 0.0;
    }
    (1.0 - steps_taken as f64 / total_steps as f64).clamp(0.0, 1.0)
}

#[derive(Debug, PartialEq, Eq)]
pub struct ScheduleError(String);

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a schedule: write a number (constant) or lin_<initial value> (linear to 0 at the end \
             of training, rl-baselines3-zoo's syntax), e.g. 0.005 or lin_0.005",
            self.0
        )
    }
}

impl std::error::Error for ScheduleError {}

impl FromStr for Schedule {
    type Err = ScheduleError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let number = |t: &str| t.trim().parse::<f64>().ok().filter(|v| v.is_finite());
        let parsed = match text.trim().strip_prefix("lin_") {
            Some(initial) => number(initial).map(|initial| Schedule::Linear { initial }),
            None => number(text).map(Schedule::Constant),
        };
        parsed.ok_or_else(|| ScheduleError(text.to_owned()))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Constant(v) => write!(f, "{v}"),
            Schedule::Linear { initial } => write!(f, "lin_{initial}"),
        }
    }
}

/// A constant is a TOML number, a linear schedule the string `lin_X`, so
/// that a run's config.toml reads as the user wrote it.
impl Serialize for Schedule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Schedule::Constant(v) => s.serialize_f64(*v),
            Schedule::Linear { .. } => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Number(f64),
            Text(String),
        }
        match Written::deserialize(d)? {
            Written::Number(v) => Ok(Schedule::Constant(v)),
            Written::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linear_schedule_falls_from_its_initial_value_to_zero() {
        let lin: Schedule = "lin_0.005".parse().unwrap();
        assert_eq!(lin, Schedule::Linear { initial: 0.005 });
        assert_eq!(lin.value(1.0), 0.005);
        assert_eq!(lin.value(0.5), 0.0025);
        assert_eq!(lin.value(0.0), 0.0);
        assert_eq!(lin.value(-0.1), 0.0, "an overshooting last batch");
        assert_eq!(lin.initial(), 0.005);
        let constant: Schedule = "0.01".parse().unwrap();
        assert_eq!((constant.value(1.0), constant.value(0.0)), (0.01, 0.01));
    }

    #[test]
    fn progress_remaining_is_stable_baselines3s() {
        assert_eq!(progress_remaining(0, 100), 1.0);
        assert_eq!(progress_remaining(25, 100), 0.75);
        assert_eq!(progress_remaining(100, 100), 0.0);
        assert_eq!(progress_remaining(102, 100), 0.0);
        assert_eq!(progress_remaining(5, 0), 0.0);
    }

    #[test]
    fn text_that_is_not_a_schedule_is_refused_with_the_syntax() {
        for bad in ["lin_", "lin_abc", "exp_0.1", "linear", "lin_inf", "NaN"] {
            let err = bad.parse::<Schedule>().unwrap_err().to_string();
            assert!(err.starts_with(&format!("'{bad}' is not a schedule")), "{err}");
            assert!(err.contains("lin_0.005"), "{err}");
        }
    }

    #[test]
    fn schedules_round_trip_through_toml_as_written() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct C {
            k: Schedule,
        }
        for (text, value) in
            [("k = \"lin_0.005\"\n", Schedule::Linear { initial: 0.005 }), ("k = 0.01\n", Schedule::Constant(0.01))]
        {
            assert_eq!(toml::to_string(&C { k: value }).unwrap(), text);
            assert_eq!(toml::from_str::<C>(text).unwrap(), C { k: value });
        }
        assert_eq!(toml::from_str::<C>("k = 1").unwrap(), C { k: Schedule::Constant(1.0) });
        let err = toml::from_str::<C>("k = \"exp_1\"").unwrap_err().to_string();
        assert!(err.contains("'exp_1' is not a schedule"), "{err}");
    }
}
