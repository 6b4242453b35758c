//! libtorch's generator. It is one per process, and natgrad draws from it
//! only to initialise networks (everything else draws from its own seeded
//! [`natgrad_envs::Rng`] streams). Whoever seeds it and draws holds one lock,
//! so that two agents made at once, or tests running beside each other,
//! cannot interleave their draws and get each other's numbers.

use std::sync::{Mutex, PoisonError};

static GENERATOR: Mutex<()> = Mutex::new(());

/// Runs `draw` with libtorch's generator seeded with `seed`, while no other
/// thread that goes through here draws from it. The same `seed` and `draw`
/// give the same numbers, whatever other draws go through here meanwhile.
pub fn seeded<T>(seed: i64, draw: impl FnOnce() -> T) -> T {
    // A panic inside another `draw` (a failed test) leaves nothing to mend.
    let _only_drawer = GENERATOR.lock().unwrap_or_else(PoisonError::into_inner);
    tch::manual_seed(seed);
    draw()
}

/// Test data: `Tensor::randn(shape)` drawn under the lock with `seed`.
#[cfg(test)]
pub(crate) fn randn(seed: i64, shape: &[i64], options: (tch::Kind, tch::Device)) -> tch::Tensor {
    seeded(seed, || tch::Tensor::randn(shape, options))
}

/// Test data: `Tensor::rand(shape)` (uniform in [0, 1)) drawn under the lock with `seed`.
#[cfg(test)]
pub(crate) fn rand(seed: i64, shape: &[i64], options: (tch::Kind, tch::Device)) -> tch::Tensor {
    seeded(seed, || tch::Tensor::rand(shape, options))
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::*;

    #[test]
    fn a_seeded_draw_repeats_while_other_threads_draw() {
        // Many small draws, so that an unguarded generator would be seeded
        // or drawn from by the other thread between two of them.
        let draw =
            || seeded(11, || (0..50).map(|_| Tensor::randn([4], (Kind::Double, Device::Cpu))).collect::<Vec<_>>());
        let first = Tensor::cat(&draw(), 0);
        let again = std::thread::scope(|scope| {
            let busy = scope.spawn(|| {
                for i in 0..5000 {
                    let _ = seeded(i, || Tensor::randn([4], (Kind::Double, Device::Cpu)));
                }
            });
            let again: Vec<Tensor> = (0..100).map(|_| Tensor::cat(&draw(), 0)).collect();
            busy.join().unwrap();
            again
        });
        assert!(again.iter().all(|t| t.equal(&first)));
    }
}
