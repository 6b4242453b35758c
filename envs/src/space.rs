//! Observation and action spaces, as Gymnasium's `Discrete` and `Box`, and
//! the actions that are their elements.

use std::fmt;

use crate::error::EnvError;
use crate::rng::Rng;

/// An action, borrowed so that batched callers need not allocate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action<'a> {
    /// An index into a `Discrete` space. Signed, so that a negative index coming
    /// from a tensor is reported as out of range instead of wrapping around.
    Discrete(i64),
    /// A vector for a `Box` space; finite values outside the bounds are clipped.
    Continuous(&'a [f32]),
}

/// A `Box` space: float32 values between `low` and `high` (inclusive, possibly
/// infinite), stored flat in row-major order for `shape`.
#[derive(Clone, Debug, PartialEq)]
pub struct BoxSpace {
    pub low: Vec<f32>,
    pub high: Vec<f32>,
    pub shape: Vec<usize>,
}

impl BoxSpace {
    /// A one-dimensional box; `low` and `high` must have the same length.
    pub fn new(low: Vec<f32>, high: Vec<f32>) -> Self {
        assert_eq!(low.len(), high.len(), "BoxSpace bounds of different lengths");
        let shape = vec![low.len()];
        Self { low, high, shape }
    }

    /// The number of scalars in one element.
    pub fn dim(&self) -> usize {
        self.low.len()
    }

    /// Whether `x` lies inside the bounds (NaN never does).
    pub fn contains(&self, x: &[f32]) -> bool {
        x.len() == self.dim() && x.iter().zip(self.low.iter().zip(&self.high)).all(|(v, (lo, hi))| lo <= v && v <= hi)
    }

    /// Clips `x` into the bounds, element by element, as `np.clip`.
    pub fn clip(&self, x: &mut [f32]) {
        for (v, (lo, hi)) in x.iter_mut().zip(self.low.iter().zip(&self.high)) {
            *v = v.max(*lo).min(*hi);
        }
    }
}

/// The space of an environment's observations or actions.
#[derive(Clone, Debug, PartialEq)]
pub enum Space {
    /// Integers `0..n`.
    Discrete { n: usize },
    /// Float32 vectors inside bounds.
    Box(BoxSpace),
}

impl Space {
    /// Scalars per element: 1 for `Discrete` (an index), the box's size otherwise.
    pub fn flat_dim(&self) -> usize {
        match self {
            Space::Discrete { .. } => 1,
            Space::Box(b) => b.dim(),
        }
    }

    /// Checks that `action` belongs to this (action) space. Finite values outside
    /// a box's bounds are accepted: environments clip them, as Gymnasium does.
    #[inline]
    pub fn check_action(&self, action: Action<'_>) -> Result<(), EnvError> {
        match (self, action) {
            (Space::Discrete { n }, Action::Discrete(a)) => {
                if a < 0 || a as u64 >= *n as u64 {
                    Err(EnvError::ActionOutOfRange { action: a, n: *n })
                } else {
                    Ok(())
                }
            }
            (Space::Box(b), Action::Continuous(x)) => {
                if x.len() != b.dim() {
                    return Err(EnvError::ActionDimension { expected: b.dim(), got: x.len() });
                }
                match x.iter().position(|v| !v.is_finite()) {
                    Some(index) => Err(EnvError::NonFiniteAction { index, value: x[index] }),
                    None => Ok(()),
                }
            }
            (Space::Discrete { .. }, Action::Continuous(_)) => {
                Err(EnvError::ActionKind { expected: "a discrete action (Action::Discrete)", got: "a continuous one" })
            }
            (Space::Box(_), Action::Discrete(_)) => Err(EnvError::ActionKind {
                expected: "a continuous action (Action::Continuous)",
                got: "a discrete one",
            }),
        }
    }

    /// Draws a uniformly random element, as Gymnasium's `Space.sample`; a box
    /// sample is written into `buf`, which the returned action borrows.
    ///
    /// # Panics
    /// On a box with an infinite bound, which has no uniform distribution
    /// (observation boxes can be unbounded; action boxes never are).
    pub fn sample<'b>(&self, rng: &mut Rng, buf: &'b mut Vec<f32>) -> Action<'b> {
        buf.clear();
        match self {
            Space::Discrete { n } => Action::Discrete(rng.below(*n as u64) as i64),
            Space::Box(b) => {
                for (lo, hi) in b.low.iter().zip(&b.high) {
                    assert!(lo.is_finite() && hi.is_finite(), "cannot sample uniformly from an unbounded box");
                    buf.push(rng.uniform_range(f64::from(*lo), f64::from(*hi)) as f32);
                }
                Action::Continuous(buf)
            }
        }
    }
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn bound(v: f32) -> String {
            if v == f32::INFINITY {
                "inf".into()
            } else if v == f32::NEG_INFINITY {
                "-inf".into()
            } else {
                format!("{v}")
            }
        }
        match self {
            Space::Discrete { n } => write!(f, "Discrete({n})"),
            Space::Box(b) => {
                let lo: Vec<String> = b.low.iter().map(|v| bound(*v)).collect();
                let hi: Vec<String> = b.high.iter().map(|v| bound(*v)).collect();
                write!(f, "Box([{}], [{}], {:?})", lo.join(", "), hi.join(", "), b.shape)
            }
        }
    }
}
