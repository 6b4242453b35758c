//! A vectorized MuJoCo step allocates nothing: the observation goes straight
//! into the vector environment's buffer (`Env::step_into`). Counted by a
//! global allocator, on this test's own thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use natgrad_envs::{MakeOptions, VecActions, VecEnv, VectorEnv};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_vectorized_step_allocates_nothing() {
    // Episodes that do not end in 400 steps: HalfCheetah and Swimmer never
    // terminate, Ant stands still (a reset draws its noise into new vectors).
    for id in ["HalfCheetah-v5", "Swimmer-v5", "Ant-v5"] {
        let mut venv = VecEnv::make(id, 2, &MakeOptions::default()).unwrap();
        venv.reset(Some(0)).unwrap();
        let actions = vec![0.0f32; 2 * venv.action_space().flat_dim()];
        venv.step(VecActions::Continuous(&actions)).unwrap();
        COUNTING.with(|c| c.set(true));
        let mut ended = false;
        for _ in 0..400 {
            let step = venv.step(VecActions::Continuous(&actions)).unwrap();
            ended |= !step.episodes.is_empty();
        }
        COUNTING.with(|c| c.set(false));
        assert!(!ended, "{id}: an episode ended");
        assert_eq!(ALLOCATIONS.swap(0, Ordering::Relaxed), 0, "{id}: allocations in 400 vectorized steps");
    }
}
