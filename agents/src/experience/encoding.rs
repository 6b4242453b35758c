//! Observations as the networks take them, as Stable-Baselines3's
//! `preprocess_obs` prepares them: a `Box` as it is, a `Discrete` index
//! one-hot, a `MultiDiscrete` one-hot per component (the components'
//! encodings side by side), `MultiBinary` bits as the floats 0 and 1, and a
//! `Dict` as the encodings of its keys, in Gymnasium's key order, side by
//! side (SB3's `CombinedExtractor` for vector keys). Fed as one number, an
//! index makes neighbouring states look alike to the network and lines them
//! up on one axis, so a tanh MLP cannot tell FrozenLake's holes from the
//! squares beside them; one-hot, every state has its own input.
//!
//! Running normalisation, where enabled, applies to the columns that come
//! from `Box` values only, as SB3's `VecNormalize` normalises `Box` keys
//! only: a one-hot code or a bit is already on a unit scale.

use std::borrow::Cow;

use natgrad_envs::Space;

use crate::cnn::ImageShape;

/// One stretch of an observation and how it becomes the networks' input.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// `dim` values as they are: a `Box`'s (`normalizable`) or bits.
    Values { dim: usize, normalizable: bool },
    /// An index (one raw value) as `n` values, a 1 at the index and 0 elsewhere.
    OneHot { n: usize },
}

/// How the raw observations of a space become the networks' input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObsEncoding {
    parts: Vec<Part>,
}

impl ObsEncoding {
    pub fn of(space: &Space) -> Self {
        let mut parts = vec![];
        push_parts(space, &mut parts);
        Self { parts }
    }

    /// Raw values per observation, as the environments give them.
    pub fn raw_dim(&self) -> usize {
        self.parts.iter().map(|p| if let Part::Values { dim, .. } = p { *dim } else { 1 }).sum()
    }

    /// Values per observation as the networks take them: their input width.
    pub fn input_dim(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Values { dim, .. } => *dim,
                Part::OneHot { n } => *n,
            })
            .sum()
    }

    /// Per input column, whether running normalisation applies to it: the
    /// columns of `Box` values.
    pub fn normalizable_columns(&self) -> Vec<bool> {
        self.parts
            .iter()
            .flat_map(|p| match p {
                Part::Values { dim, normalizable } => vec![*normalizable; *dim],
                Part::OneHot { n } => vec![false; *n],
            })
            .collect()
    }

    /// Whether the input is the raw values themselves.
    fn is_identity(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Values { .. }))
    }

    /// Appends the encoding of `raw` (whole observations, `raw_dim` values
    /// each) to `out`.
    pub fn encode_into(&self, raw: &[f32], out: &mut Vec<f32>) {
        if self.is_identity() {
            return out.extend_from_slice(raw);
        }
        for row in raw.chunks(self.raw_dim()) {
            let mut at = 0;
            for part in &self.parts {
                match part {
                    Part::Values { dim, .. } => {
                        out.extend_from_slice(&row[at..at + dim]);
                        at += dim;
                    }
                    Part::OneHot { n } => {
                        one_hot(row[at], *n, out);
                        at += 1;
                    }
                }
            }
        }
    }

    /// The encoding of `raw`, borrowed where it is the raw values themselves.
    pub fn encode<'a>(&self, raw: &'a [f32]) -> Cow<'a, [f32]> {
        if self.is_identity() {
            return Cow::Borrowed(raw);
        }
        let mut out = Vec::with_capacity(raw.len() / self.raw_dim() * self.input_dim());
        self.encode_into(raw, &mut out);
        Cow::Owned(out)
    }
}

fn push_parts(space: &Space, parts: &mut Vec<Part>) {
    match space {
        Space::Box(b) => parts.push(Part::Values { dim: b.dim(), normalizable: true }),
        Space::MultiBinary { n } => parts.push(Part::Values { dim: *n, normalizable: false }),
        Space::Discrete { n } => parts.push(Part::OneHot { n: *n }),
        Space::MultiDiscrete { nvec } => parts.extend(nvec.iter().map(|n| Part::OneHot { n: *n })),
        Space::Dict { keys } => keys.iter().for_each(|(_, space)| match ImageShape::of(space) {
            // An image key is scaled by its CNN, never by running statistics
            // (SB3's norm_obs_keys leave images out).
            Some(shape) => parts.push(Part::Values { dim: shape.values(), normalizable: false }),
            None => push_parts(space, parts),
        }),
    }
}

/// The encoded width of each key of a `Dict`, in key order.
pub fn key_widths(keys: &[(String, Space)]) -> Vec<usize> {
    keys.iter().map(|(_, space)| ObsEncoding::of(space).input_dim()).collect()
}

/// Appends `n` values, a 1 at `index`.
fn one_hot(index: f32, n: usize, out: &mut Vec<f32>) {
    let start = out.len();
    out.resize(start + n, 0.0);
    // The environment checks its observations against its space; an index
    // outside it would be the environment's bug, and leaves the row all zero.
    debug_assert!(index >= 0.0 && (index as usize) < n, "observation {index} outside 0..{n}");
    if index >= 0.0 && (index as usize) < n {
        out[start + index as usize] = 1.0;
    }
}

#[cfg(test)]
mod tests {
    use natgrad_envs::BoxSpace;

    use super::*;

    #[test]
    fn a_box_goes_in_as_it_is() {
        let encoding = ObsEncoding::of(&Space::Box(BoxSpace::new(vec![-1.0; 3], vec![1.0; 3])));
        assert_eq!((encoding.raw_dim(), encoding.input_dim()), (3, 3));
        assert_eq!(encoding.normalizable_columns(), [true; 3]);
        let raw = [0.5, -0.25, 1.0, 2.0, 3.0, 4.0];
        assert!(matches!(encoding.encode(&raw), Cow::Borrowed(_)));
        assert_eq!(encoding.encode(&raw).as_ref(), raw);
    }

    #[test]
    fn a_discrete_index_goes_in_one_hot() {
        let encoding = ObsEncoding::of(&Space::Discrete { n: 4 });
        assert_eq!((encoding.raw_dim(), encoding.input_dim()), (1, 4));
        let mut out = vec![9.0];
        encoding.encode_into(&[2.0, 0.0, 3.0], &mut out);
        assert_eq!(out, [9.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(encoding.encode(&[1.0]).as_ref(), [0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn multi_discrete_indices_go_in_one_hot_per_component_and_bits_as_they_are() {
        let encoding = ObsEncoding::of(&Space::MultiDiscrete { nvec: vec![3, 2] });
        assert_eq!((encoding.raw_dim(), encoding.input_dim()), (2, 5));
        // Two observations: (2, 0) and (0, 1).
        assert_eq!(encoding.encode(&[2.0, 0.0, 0.0, 1.0]).as_ref(), [0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        let bits = ObsEncoding::of(&Space::MultiBinary { n: 3 });
        assert_eq!((bits.raw_dim(), bits.input_dim()), (3, 3));
        assert_eq!(bits.encode(&[1.0, 0.0, 1.0]).as_ref(), [1.0, 0.0, 1.0]);
        assert_eq!(encoding.normalizable_columns(), [false; 5]);
        assert_eq!(bits.normalizable_columns(), [false; 3]);
    }

    #[test]
    fn a_dict_goes_in_key_by_key_and_only_its_boxes_are_normalised() {
        let space = Space::Dict {
            keys: vec![
                ("achieved".into(), Space::Box(BoxSpace::new(vec![-1.0; 2], vec![1.0; 2]))),
                ("door".into(), Space::Discrete { n: 3 }),
                ("lights".into(), Space::MultiBinary { n: 2 }),
            ],
        };
        let encoding = ObsEncoding::of(&space);
        assert_eq!((encoding.raw_dim(), encoding.input_dim()), (5, 7));
        let raw = [0.5, -0.5, 2.0, 1.0, 0.0, 0.1, 0.2, 0.0, 0.0, 1.0];
        let want = [0.5, -0.5, 0.0, 0.0, 1.0, 1.0, 0.0, 0.1, 0.2, 1.0, 0.0, 0.0, 0.0, 1.0];
        assert_eq!(encoding.encode(&raw).as_ref(), want);
        assert_eq!(encoding.normalizable_columns(), [true, true, false, false, false, false, false]);
    }
}
