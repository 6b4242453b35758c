//! Observation and action spaces, as Gymnasium's `Discrete`, `Box`,
//! `MultiDiscrete` and `MultiBinary`, and the actions that are their elements.

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
    /// One index per component of a `MultiDiscrete` space, or one bit (0 or
    /// 1) per component of a `MultiBinary` one.
    Indices(&'a [i64]),
}

/// A `Box` space: float32 values between `low` and `high` (inclusive, possibly
/// infinite), stored flat in row-major order for `shape`.
#[derive(Clone, Debug, PartialEq)]
pub struct BoxSpace {
    pub low: Vec<f32>,
    pub high: Vec<f32>,
    pub shape: Vec<usize>,
    /// The environment's values are `uint8` (turned into float32 on the way):
    /// with three dimensions and bounds 0 to 255, an image.
    pub uint8: bool,
}

impl BoxSpace {
    /// A one-dimensional box; `low` and `high` must have the same length.
    pub fn new(low: Vec<f32>, high: Vec<f32>) -> Self {
        assert_eq!(low.len(), high.len(), "BoxSpace bounds of different lengths");
        let shape = vec![low.len()];
        Self { low, high, shape, uint8: false }
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
    /// One integer per component, component k in `0..nvec[k]` (one-dimensional
    /// `nvec`, as Stable-Baselines3 takes it).
    MultiDiscrete { nvec: Vec<usize> },
    /// `n` bits, each 0 or 1.
    MultiBinary { n: usize },
    /// Named spaces, in Gymnasium's key order (sorted, unless the
    /// environment gave an order); an observation holds each key's values
    /// one after another. Observations only.
    Dict { keys: Vec<(String, Space)> },
}

impl Space {
    /// Scalars per element: 1 for `Discrete` (an index), the box's size, one
    /// per component of `MultiDiscrete` and `MultiBinary`.
    pub fn flat_dim(&self) -> usize {
        match self {
            Space::Discrete { .. } => 1,
            Space::Box(b) => b.dim(),
            Space::MultiDiscrete { nvec } => nvec.len(),
            Space::MultiBinary { n } => *n,
            Space::Dict { keys } => keys.iter().map(|(_, space)| space.flat_dim()).sum(),
        }
    }

    /// Each component's number of values, for the spaces of integers:
    /// `[n]` for `Discrete`, `nvec`, and 2 per bit for `MultiBinary`; `None`
    /// for a `Box`.
    pub fn nvec(&self) -> Option<Vec<usize>> {
        match self {
            Space::Discrete { n } => Some(vec![*n]),
            Space::Box(_) | Space::Dict { .. } => None,
            Space::MultiDiscrete { nvec } => Some(nvec.clone()),
            Space::MultiBinary { n } => Some(vec![2; *n]),
        }
    }

    /// What an action of this space is, for error messages.
    fn action_name(&self) -> &'static str {
        match self {
            Space::Discrete { .. } => "a discrete action (Action::Discrete)",
            Space::Box(_) => "a continuous action (Action::Continuous)",
            Space::MultiDiscrete { .. } => "one index per component (Action::Indices)",
            Space::MultiBinary { .. } => "one bit per component (Action::Indices)",
            Space::Dict { .. } => "no action: a Dict space holds observations only",
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
            (Space::MultiDiscrete { .. } | Space::MultiBinary { .. }, Action::Indices(a)) => {
                let nvec = self.nvec().expect("a space of integers");
                if a.len() != nvec.len() {
                    return Err(EnvError::ActionDimension { expected: nvec.len(), got: a.len() });
                }
                match a.iter().zip(&nvec).position(|(v, n)| *v < 0 || *v as u64 >= *n as u64) {
                    Some(index) => Err(EnvError::ComponentOutOfRange { index, action: a[index], n: nvec[index] }),
                    None => Ok(()),
                }
            }
            (_, action) => Err(EnvError::ActionKind {
                expected: self.action_name(),
                got: match action {
                    Action::Discrete(_) => "a discrete one",
                    Action::Continuous(_) => "a continuous one",
                    Action::Indices(_) => "indices",
                },
            }),
        }
    }

    /// Draws a uniformly random element, as Gymnasium's `Space.sample`; a box
    /// sample or a vector of indices is written into `buf`, which the
    /// returned action borrows.
    ///
    /// # Panics
    /// On a box with an infinite bound, which has no uniform distribution
    /// (observation boxes can be unbounded; action boxes never are), and on
    /// a `Dict`, which is never an action space.
    pub fn sample<'b>(&self, rng: &mut Rng, buf: &'b mut SampleBuffer) -> Action<'b> {
        buf.floats.clear();
        buf.indices.clear();
        self.sample_into(rng, &mut buf.floats, &mut buf.indices);
        match self {
            Space::Discrete { .. } => Action::Discrete(buf.indices[0]),
            Space::Box(_) => Action::Continuous(&buf.floats),
            Space::MultiDiscrete { .. } | Space::MultiBinary { .. } => Action::Indices(&buf.indices),
            Space::Dict { .. } => unreachable!("sample_into refused the Dict"),
        }
    }

    /// Appends a uniformly random element: a box's values to `floats`, the
    /// indices of the others to `indices`.
    pub(crate) fn sample_into(&self, rng: &mut Rng, floats: &mut Vec<f32>, indices: &mut Vec<i64>) {
        match self {
            Space::Box(b) => {
                for (lo, hi) in b.low.iter().zip(&b.high) {
                    assert!(lo.is_finite() && hi.is_finite(), "cannot sample uniformly from an unbounded box");
                    floats.push(rng.uniform_range(f64::from(*lo), f64::from(*hi)) as f32);
                }
            }
            Space::Discrete { n } => indices.push(rng.below(*n as u64) as i64),
            Space::MultiDiscrete { nvec } => indices.extend(nvec.iter().map(|n| rng.below(*n as u64) as i64)),
            Space::MultiBinary { n } => indices.extend((0..*n).map(|_| rng.below(2) as i64)),
            Space::Dict { .. } => panic!("a Dict space holds observations, and has no actions to sample"),
        }
    }
}

/// Where [`Space::sample`] writes the actions it returns, reused from one
/// draw to the next.
#[derive(Clone, Debug, Default)]
pub struct SampleBuffer {
    pub(crate) floats: Vec<f32>,
    pub(crate) indices: Vec<i64>,
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
                // One bound for all, as Gymnasium prints it, where all share it.
                let same = |v: &[String]| v.len() > 1 && v.iter().all(|x| *x == v[0]);
                if same(&lo) && same(&hi) {
                    write!(f, "Box({}, {}, {:?})", lo[0], hi[0], b.shape)
                } else {
                    write!(f, "Box([{}], [{}], {:?})", lo.join(", "), hi.join(", "), b.shape)
                }
            }
            Space::MultiDiscrete { nvec } => {
                let nvec: Vec<String> = nvec.iter().map(ToString::to_string).collect();
                write!(f, "MultiDiscrete([{}])", nvec.join(" "))
            }
            Space::MultiBinary { n } => write!(f, "MultiBinary({n})"),
            Space::Dict { keys } => {
                let keys: Vec<String> = keys.iter().map(|(k, space)| format!("'{k}': {space}")).collect();
                write!(f, "Dict({})", keys.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_vector_actions_are_checked_component_by_component() {
        let space = Space::MultiDiscrete { nvec: vec![3, 2] };
        assert_eq!(space.check_action(Action::Indices(&[2, 1])), Ok(()));
        assert_eq!(
            space.check_action(Action::Indices(&[2, 2])),
            Err(EnvError::ComponentOutOfRange { index: 1, action: 2, n: 2 })
        );
        assert_eq!(
            space.check_action(Action::Indices(&[-1, 0])).unwrap_err().to_string(),
            "action component 0 is -1, out of range: that component takes 0..3 (0 to 2)"
        );
        assert_eq!(space.check_action(Action::Indices(&[0])), Err(EnvError::ActionDimension { expected: 2, got: 1 }));
        assert!(matches!(space.check_action(Action::Discrete(0)), Err(EnvError::ActionKind { .. })));
        let bits = Space::MultiBinary { n: 3 };
        assert_eq!(bits.check_action(Action::Indices(&[1, 0, 1])), Ok(()));
        assert!(bits.check_action(Action::Indices(&[1, 2, 1])).is_err());
        assert!(matches!(
            Space::Discrete { n: 2 }.check_action(Action::Indices(&[0])),
            Err(EnvError::ActionKind { .. })
        ));
        assert_eq!((space.flat_dim(), bits.flat_dim()), (2, 3));
        assert_eq!((space.to_string(), bits.to_string()), ("MultiDiscrete([3 2])".into(), "MultiBinary(3)".into()));
    }

    #[test]
    fn samples_cover_every_value_of_every_component_and_nothing_else() {
        let mut rng = Rng::seed_from_u64(0);
        let mut buf = SampleBuffer::default();
        for space in [Space::MultiDiscrete { nvec: vec![3, 1, 2] }, Space::MultiBinary { n: 2 }] {
            let nvec = space.nvec().unwrap();
            let mut seen = vec![vec![false; 3]; nvec.len()];
            for _ in 0..200 {
                let action = space.sample(&mut rng, &mut buf);
                assert_eq!(space.check_action(action), Ok(()));
                let Action::Indices(a) = action else { panic!("{space}: {action:?}") };
                for (k, v) in a.iter().enumerate() {
                    seen[k][*v as usize] = true;
                }
            }
            for (k, n) in nvec.iter().enumerate() {
                assert!(seen[k][..*n].iter().all(|s| *s), "{space}: component {k} {:?}", seen[k]);
            }
        }
    }
}
