//! Plain-Rust loops compiled for the widest vector instructions the CPU has.
//!
//! natgrad's own loops (the rollout's layers, the critic's tanh) are built
//! for the baseline x86-64, four floats at a time; AVX2 does eight and
//! AVX-512 sixteen. [`widest_simd!`] compiles a function's body three times
//! and picks one at run time. The results are the same bits on every CPU:
//! Rust never fuses a multiply and an add, and vectorising across a layer's
//! outputs keeps each output's sum in its order.

/// Defines a function whose body is compiled for AVX-512, AVX2 and the
/// baseline, the first the CPU supports chosen on each call (the feature
/// test is one cached load).
macro_rules! widest_simd {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn generic($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? {
                    generic($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    generic($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: this CPU has the instructions `avx512` uses.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: as above, for `avx2`.
                    return unsafe { avx2($($arg),*) };
                }
            }
            generic($($arg),*)
        }
    };
}

pub(crate) use widest_simd;
