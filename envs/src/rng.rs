//! The one random-number algorithm of the environments.
//!
//! xoshiro256++ (Blackman and Vigna, 2019) with its 256-bit state filled from
//! the seed by SplitMix64, the seeding its authors recommend. Both are written
//! out here rather than taken from a crate so that an upgrade can never change
//! an episode: the same seed gives the same episodes in every natgrad version.
//! Floats are drawn as `(next_u64() >> 11) * 2^-53`, uniform on [0, 1) with 53
//! random bits, and scaled as NumPy's `uniform(low, high)` does: `low + (high -
//! low) * u`. Standard normals come from the Box–Muller transform of two such
//! draws, `sqrt(-2 ln(1 - u1)) * cos(2π u2)`, one normal per pair.
//! [`Rng::derive`] gives independent streams for the parts of an experiment
//! that one seed drives (environments, actions, minibatches).

/// xoshiro256++ generator; see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole stream is fixed by `seed`.
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut x = seed;
        let s = [splitmix64(&mut x), splitmix64(&mut x), splitmix64(&mut x), splitmix64(&mut x)];
        Self { s }
    }

    /// A generator seeded from the operating system's entropy source.
    pub fn from_entropy() -> Self {
        Self::seed_from_u64(rand::random())
    }

    /// The generator for stream `stream` of an experiment seeded with `seed`:
    /// the two numbers are mixed through SplitMix64, so nearby seeds and
    /// streams give unrelated sequences.
    pub fn derive(seed: u64, stream: u64) -> Self {
        let mut x = seed;
        let mixed = splitmix64(&mut x) ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        Self::seed_from_u64(mixed)
    }

    /// A standard normal draw (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform();
        let u2 = self.uniform();
        (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// The full internal state, for checkpoints.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// Restores a state taken with [`Rng::state`]. The all-zero state is the one
    /// state xoshiro cannot leave, so it is mapped to the stream of seed 0.
    pub fn from_state(s: [u64; 4]) -> Self {
        if s == [0; 4] { Self::seed_from_u64(0) } else { Self { s } }
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform on [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on [low, high), computed as NumPy's `Generator.uniform`.
    pub fn uniform_range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Uniform integer in `0..n` without modulo bias (Lemire's method), `n > 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below needs n > 0");
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

impl rand::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        (Rng::next_u64(self) >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        Rng::next_u64(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = Rng::next_u64(self).to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_xoshiro256plusplus_stream() {
        // Reference values: the C reference implementation (prng.di.unimi.it)
        // started from s = {1, 2, 3, 4}.
        let mut rng = Rng { s: [1, 2, 3, 4] };
        let got: Vec<u64> = (0..6).map(|_| rng.next_u64()).collect();
        assert_eq!(
            got,
            [41943041, 58720359, 3588806011781223, 3591011842654386, 9228616714210784205, 9973669472204895162]
        );
    }

    #[test]
    fn splitmix_seeding_is_fixed() {
        // SplitMix64 from 0 gives 0xE220A8397B1DCDAF first (Vigna's splitmix64.c).
        let mut x = 0u64;
        assert_eq!(splitmix64(&mut x), 0xE220_A839_7B1D_CDAF);
        let a = Rng::seed_from_u64(7);
        let b = Rng::seed_from_u64(7);
        assert_eq!(a, b);
        assert_ne!(Rng::seed_from_u64(7), Rng::seed_from_u64(8));
    }

    #[test]
    fn uniform_stays_in_range_and_below_is_unbiased_enough() {
        let mut rng = Rng::seed_from_u64(1);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            let u = rng.uniform_range(-0.05, 0.05);
            assert!((-0.05..0.05).contains(&u));
            counts[rng.below(3) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn normals_have_unit_variance_and_derived_streams_differ() {
        let mut rng = Rng::seed_from_u64(5);
        let xs: Vec<f64> = (0..40_000).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.03, "{mean} {var}");
        assert_ne!(Rng::derive(1, 0).next_u64(), Rng::derive(1, 1).next_u64());
        assert_ne!(Rng::derive(1, 0).next_u64(), Rng::derive(2, 0).next_u64());
        assert_ne!(Rng::derive(1, 0).next_u64(), Rng::seed_from_u64(1).next_u64());
        assert_eq!(Rng::derive(9, 3), Rng::derive(9, 3));
    }

    #[test]
    fn state_round_trips() {
        let mut rng = Rng::seed_from_u64(3);
        rng.next_u64();
        let mut copy = Rng::from_state(rng.state());
        assert_eq!(copy.next_u64(), rng.next_u64());
    }
}
