//! NumPy's default generator, as Gymnasium seeds it: `np.random.Generator(
//! np.random.PCG64(np.random.SeedSequence(seed)))`, drawing the same numbers.
//!
//! SeedSequence (O'Neill's seed_seq hashing) and PCG64 (XSL-RR on a 128-bit
//! LCG) are a few lines each and written out here; unit tests pin them to
//! NumPy 2.4.6's output. Normal draws go through NumPy's own
//! `random_standard_normal` (its ziggurat, from the `libnpyrandom.a` that the
//! numpy wheel ships for C extensions), fed by this PCG64: the same code and
//! tables as in Python, so the same bits.

use std::ffi::c_void;

const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;
const POOL_SIZE: usize = 4;

/// `np.random.SeedSequence(seed)`'s entropy pool.
fn seed_sequence_pool(seed: u64) -> [u32; POOL_SIZE] {
    // _int_to_uint32_array: little-endian 32-bit words, [0] for 0.
    let entropy: Vec<u32> = if seed >> 32 == 0 { vec![seed as u32] } else { vec![seed as u32, (seed >> 32) as u32] };
    let mut hash_const = INIT_A;
    let mut hashmix = |value: u32| {
        let mut value = value ^ hash_const;
        hash_const = hash_const.wrapping_mul(MULT_A);
        value = value.wrapping_mul(hash_const);
        value ^ (value >> XSHIFT)
    };
    let mix = |x: u32, y: u32| {
        let result = MIX_MULT_L.wrapping_mul(x).wrapping_sub(MIX_MULT_R.wrapping_mul(y));
        result ^ (result >> XSHIFT)
    };
    let mut pool = [0u32; POOL_SIZE];
    for (i, slot) in pool.iter_mut().enumerate() {
        *slot = hashmix(entropy.get(i).copied().unwrap_or(0));
    }
    for src in 0..POOL_SIZE {
        for dst in 0..POOL_SIZE {
            if src != dst {
                pool[dst] = mix(pool[dst], hashmix(pool[src]));
            }
        }
    }
    // Entropy beyond the pool's four words (never, for a u64 seed) would be
    // mixed in here.
    pool
}

/// `SeedSequence.generate_state(n, np.uint64)`.
fn generate_state_u64<const N: usize>(pool: &[u32; POOL_SIZE]) -> [u64; N] {
    let mut hash_const = INIT_B;
    let mut words = pool.iter().cycle().map(|&value| {
        let mut value = value ^ hash_const;
        hash_const = hash_const.wrapping_mul(MULT_B);
        value = value.wrapping_mul(hash_const);
        value ^ (value >> XSHIFT)
    });
    std::array::from_fn(|_| {
        let low = u64::from(words.next().expect("cycle"));
        let high = u64::from(words.next().expect("cycle"));
        low | (high << 32)
    })
}

const PCG_MULTIPLIER: u128 = (2_549_297_995_355_413_924u128 << 64) | 4_865_540_595_714_422_341u128;

/// NumPy's PCG64 bit generator, including its buffered half word for 32-bit
/// draws, so that a snapshot restores every draw exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pcg64 {
    state: u128,
    inc: u128,
    has_uint32: bool,
    uinteger: u32,
}

impl Pcg64 {
    /// `np.random.PCG64(np.random.SeedSequence(seed))`.
    pub fn from_seed(seed: u64) -> Self {
        let [s_high, s_low, i_high, i_low] = generate_state_u64::<4>(&seed_sequence_pool(seed));
        let initstate = (u128::from(s_high) << 64) | u128::from(s_low);
        let initseq = (u128::from(i_high) << 64) | u128::from(i_low);
        let mut rng = Self { state: 0, inc: (initseq << 1) | 1, has_uint32: false, uinteger: 0 };
        rng.step();
        rng.state = rng.state.wrapping_add(initstate);
        rng.step();
        rng
    }

    fn step(&mut self) {
        self.state = self.state.wrapping_mul(PCG_MULTIPLIER).wrapping_add(self.inc);
    }

    pub fn next_u64(&mut self) -> u64 {
        self.step();
        let high = (self.state >> 64) as u64;
        let low = self.state as u64;
        (high ^ low).rotate_right((self.state >> 122) as u32)
    }

    pub fn next_u32(&mut self) -> u32 {
        if self.has_uint32 {
            self.has_uint32 = false;
            return self.uinteger;
        }
        let next = self.next_u64();
        self.has_uint32 = true;
        self.uinteger = (next >> 32) as u32;
        next as u32
    }

    /// Uniform on [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `Generator.uniform(low, high)`: `low + (high - low) * u`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }

    /// `Generator.standard_normal()`.
    pub fn standard_normal(&mut self) -> f64 {
        let mut bitgen = BitGen {
            state: (self as *mut Self).cast(),
            next_uint64: bitgen_next_u64,
            next_uint32: bitgen_next_u32,
            next_double: bitgen_next_f64,
            next_raw: bitgen_next_u64,
        };
        // SAFETY: `bitgen` lives across the call and its state points at
        // `self`, borrowed mutably for as long; NumPy's sampler only calls the
        // function pointers.
        unsafe { random_standard_normal(&mut bitgen) }
    }

    /// Six words: the state, the increment, the buffered half word.
    pub fn words(&self) -> [u64; 6] {
        [
            (self.state >> 64) as u64,
            self.state as u64,
            (self.inc >> 64) as u64,
            self.inc as u64,
            u64::from(self.has_uint32),
            u64::from(self.uinteger),
        ]
    }

    /// The generator [`Pcg64::words`] described; `None` for words no
    /// generator has (an even increment, a flag other than 0 or 1).
    pub fn from_words(w: [u64; 6]) -> Option<Self> {
        let inc = (u128::from(w[2]) << 64) | u128::from(w[3]);
        (inc & 1 == 1 && w[4] <= 1 && w[5] <= u64::from(u32::MAX)).then(|| Self {
            state: (u128::from(w[0]) << 64) | u128::from(w[1]),
            inc,
            has_uint32: w[4] == 1,
            uinteger: w[5] as u32,
        })
    }
}

/// NumPy's `bitgen_t` (numpy/random/bitgen.h).
#[repr(C)]
struct BitGen {
    state: *mut c_void,
    next_uint64: unsafe extern "C" fn(*mut c_void) -> u64,
    next_uint32: unsafe extern "C" fn(*mut c_void) -> u32,
    next_double: unsafe extern "C" fn(*mut c_void) -> f64,
    next_raw: unsafe extern "C" fn(*mut c_void) -> u64,
}

unsafe extern "C" fn bitgen_next_u64(state: *mut c_void) -> u64 {
    // SAFETY: `state` is the `Pcg64` of `standard_normal`.
    unsafe { (*state.cast::<Pcg64>()).next_u64() }
}

unsafe extern "C" fn bitgen_next_u32(state: *mut c_void) -> u32 {
    // SAFETY: as above.
    unsafe { (*state.cast::<Pcg64>()).next_u32() }
}

unsafe extern "C" fn bitgen_next_f64(state: *mut c_void) -> f64 {
    // SAFETY: as above.
    unsafe { (*state.cast::<Pcg64>()).next_f64() }
}

unsafe extern "C" {
    fn random_standard_normal(bitgen: *mut BitGen) -> f64;
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values printed by NumPy 2.4.6:
    // g = np.random.Generator(np.random.PCG64(np.random.SeedSequence(s)))
    const POOL_0: [u32; 4] = [0xfe40eb07, 0x4f363a36, 0x4eb2009d, 0xc89a7aa7];
    const STATE_12345: [u64; 4] = [0xb5ae6482a03d837c, 0xbbe2996ffa1f7a2f, 0x64e39a9f37158f94, 0x3ebb0f96a013fd73];
    // g.bit_generator.random_raw(3) for seed 42
    const RAW_42: [u64; 3] = [14276969152011380360, 8095878257575067585, 15838336090824644132];
    // g.uniform(-0.005, 0.005, 3) for seed 7
    const UNIFORM_7: [f64; 3] = [0.0012509546660466695, 0.0039721380096957555, 0.0027568569024519355];
    // g.standard_normal(2000) for seed 3: the first three, and the sum in order
    const NORMAL_3_HEAD: [f64; 3] = [2.0409191213851825, -2.5556650313141818, 0.41809884672577885];
    const NORMAL_3_SUM: f64 = 55.32154406576167;
    const RAW_2_POW_40: u64 = 6655761860222389633;
    #[test]
    fn seed_sequence_matches_numpy() {
        assert_eq!(seed_sequence_pool(0), POOL_0);
        assert_eq!(generate_state_u64::<4>(&seed_sequence_pool(12345)), STATE_12345);
    }

    #[test]
    fn draws_match_numpy() {
        let mut g = Pcg64::from_seed(42);
        let got: Vec<u64> = (0..3).map(|_| g.next_u64()).collect();
        assert_eq!(got, RAW_42);
        let mut g = Pcg64::from_seed(7);
        let got: Vec<f64> = (0..3).map(|_| g.uniform(-0.005, 0.005)).collect();
        assert_eq!(got, UNIFORM_7);
        let mut g = Pcg64::from_seed(3);
        let got: Vec<f64> = (0..2000).map(|_| g.standard_normal()).collect();
        assert_eq!(&got[..3], NORMAL_3_HEAD);
        assert_eq!(got.iter().sum::<f64>(), NORMAL_3_SUM);
        // A seed above 2^32 takes two entropy words.
        assert_eq!(Pcg64::from_seed(1 << 40).next_u64(), RAW_2_POW_40);
    }

    #[test]
    fn words_round_trip_mid_stream() {
        let mut g = Pcg64::from_seed(9);
        g.next_u32();
        let mut copy = Pcg64::from_words(g.words()).unwrap();
        assert_eq!(copy.next_u32(), g.next_u32());
        assert_eq!(copy.standard_normal(), g.standard_normal());
        let mut bad = g.words();
        bad[3] &= !1;
        assert_eq!(Pcg64::from_words(bad), None);
    }
}
