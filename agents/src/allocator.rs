//! The C allocator's settings for a learner whose every iteration allocates
//! and frees the same tensors.
//!
//! libtorch takes its CPU memory from malloc. With glibc's defaults a block
//! of 128 KiB or more (one [512 × 64] float tensor) is mapped afresh and
//! unmapped when freed, and freed memory at the top of the heap goes back to
//! the system: every iteration then pays page faults for memory it had a
//! moment before. Measured on TRPO CartPole-v1, one thread, 100k steps:
//! 2.8 s with the defaults, 2.3 to 2.4 s with the three settings below, at
//! the same peak resident memory (the learner's memory is flat, so keeping
//! what it freed costs nothing). A trim threshold alone is worse (4.5 s): it
//! freezes glibc's adaptive mmap threshold at 128 KiB.

/// Keep freed memory for reuse: blocks below 256 MiB come from the heap, the
/// heap grows 64 MiB at a time and is trimmed only past 1 GiB free. A
/// `MALLOC_*_` variable set in the environment wins (glibc reads those
/// itself); elsewhere than glibc this does nothing.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MIB: i32 = 1 << 20;
        let settings = [
            ("MALLOC_MMAP_THRESHOLD_", libc::M_MMAP_THRESHOLD, 256 * MIB),
            ("MALLOC_TOP_PAD_", libc::M_TOP_PAD, 64 * MIB),
            ("MALLOC_TRIM_THRESHOLD_", libc::M_TRIM_THRESHOLD, 1024 * MIB),
        ];
        if settings.iter().any(|(var, _, _)| std::env::var_os(var).is_some()) {
            return;
        }
        for (_, param, value) in settings {
            // SAFETY: mallopt only changes the allocator's tunables; it is
            // called before any other thread allocates.
            unsafe { libc::mallopt(param, value) };
        }
    }
}
