//! Observations as the networks take them, as Stable-Baselines3's
//! `preprocess_obs` prepares flat spaces: a `Box` as it is, a `Discrete`
//! index one-hot, a `MultiDiscrete` one-hot per component (the components'
//! encodings side by side), and `MultiBinary` bits as the floats 0 and 1. Fed
//! as one number, an index makes neighbouring states look alike to the
//! network and lines them up on one axis, so a tanh MLP cannot tell
//! FrozenLake's holes from the squares beside them; one-hot, every state has
//! its own input. Running normalisation, where enabled, applies to the
//! encoded input.

use std::borrow::Cow;

use natgrad_envs::Space;

/// How the raw observations of a space become the networks' input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObsEncoding {
    /// A `Box` or a `MultiBinary`: its values, `dim` of them.
    AsIs { dim: usize },
    /// A `Discrete { n }` (`nvec = [n]`) or a `MultiDiscrete { nvec }`: each
    /// index (one raw value per component) as `nvec[k]` values, a 1 at the
    /// index and 0 elsewhere.
    OneHot { nvec: Vec<usize> },
}

impl ObsEncoding {
    pub fn of(space: &Space) -> Self {
        match space {
            Space::Discrete { n } => ObsEncoding::OneHot { nvec: vec![*n] },
            Space::MultiDiscrete { nvec } => ObsEncoding::OneHot { nvec: nvec.clone() },
            Space::Box(_) | Space::MultiBinary { .. } => ObsEncoding::AsIs { dim: space.flat_dim() },
        }
    }

    /// Raw values per observation, as the environments give them.
    pub fn raw_dim(&self) -> usize {
        match self {
            ObsEncoding::AsIs { dim } => *dim,
            ObsEncoding::OneHot { nvec } => nvec.len(),
        }
    }

    /// Values per observation as the networks take them: their input width.
    pub fn input_dim(&self) -> usize {
        match self {
            ObsEncoding::AsIs { dim } => *dim,
            ObsEncoding::OneHot { nvec } => nvec.iter().sum(),
        }
    }

    /// Appends the encoding of `raw` (whole observations, `raw_dim` values
    /// each) to `out`.
    pub fn encode_into(&self, raw: &[f32], out: &mut Vec<f32>) {
        match self {
            ObsEncoding::AsIs { .. } => out.extend_from_slice(raw),
            ObsEncoding::OneHot { nvec } => {
                for (index, n) in raw.iter().zip(nvec.iter().cycle()) {
                    let start = out.len();
                    out.resize(start + n, 0.0);
                    // The environment checks its observations against its space; an index
                    // outside it would be the environment's bug, and leaves the row all zero.
                    debug_assert!(*index >= 0.0 && (*index as usize) < *n, "observation {index} outside 0..{n}");
                    if *index >= 0.0 && (*index as usize) < *n {
                        out[start + *index as usize] = 1.0;
                    }
                }
            }
        }
    }

    /// The encoding of `raw`, borrowed where it is the raw values themselves.
    pub fn encode<'a>(&self, raw: &'a [f32]) -> Cow<'a, [f32]> {
        match self {
            ObsEncoding::AsIs { .. } => Cow::Borrowed(raw),
            ObsEncoding::OneHot { .. } => {
                let mut out = Vec::with_capacity(raw.len() / self.raw_dim() * self.input_dim());
                self.encode_into(raw, &mut out);
                Cow::Owned(out)
            }
        }
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
    }
}
