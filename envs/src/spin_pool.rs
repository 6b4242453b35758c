//! Persistent helper threads that run one borrowed job each per call and
//! spin while they wait for the next, so that handing over a share of a
//! vector environment's copies costs a cache line, not a wake-up.
//!
//! Why not rayon or a thread per step: measured on this project's 2-core VM
//! with zoo's 2 MuJoCo copies, a thread spawned per step cost ~100 µs (with
//! libtorch loaded) and rayon's sleeping workers ~50 µs per hand-over, about
//! a Hopper step each, so neither gained anything. A waiting helper spins
//! for up to [`SPIN`] and then parks, so between rollouts (the policy and
//! critic updates) it leaves its core alone. Every wait, the caller's too,
//! gives its core away (`sched_yield`) after [`PURE_SPIN`]: on a machine
//! busier than its cores, the thread waited for may be the one that needs
//! that core, and pure spinning then burned a scheduler slice per hand-over
//! (measured below Hopper's 100k-step figures in docs/speed.md).

use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

/// How long a helper spins for its next job before it parks.
const SPIN: Duration = Duration::from_millis(2);
/// How long a wait spins before it yields its core between looks.
const PURE_SPIN: Duration = Duration::from_micros(20);

/// One look's pause in a wait that began at `since`: a spin-loop hint at
/// first, then a yield of the core to whichever thread wants it.
fn pause(since: Instant) {
    if since.elapsed() < PURE_SPIN {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

type Job = *mut (dyn FnMut() + Send + 'static);
type Panic = Box<dyn std::any::Any + Send + 'static>;

struct Slot {
    /// The job of the latest epoch; written by the caller before `posted`.
    job: UnsafeCell<Option<Job>>,
    /// A panic of the latest job, read by the caller after `finished`.
    panic: UnsafeCell<Option<Panic>>,
    posted: AtomicU64,
    finished: AtomicU64,
    parked: AtomicBool,
    stop: AtomicBool,
}

// SAFETY: `job` and `panic` are handed over through `posted` and `finished`
// (release/acquire): one side touches them at a time.
unsafe impl Sync for Slot {}
unsafe impl Send for Slot {}

struct Helper {
    slot: Arc<Slot>,
    thread: Thread,
    handle: Option<JoinHandle<()>>,
}

pub(crate) struct SpinPool {
    helpers: Vec<Helper>,
    epoch: u64,
    /// Calls in a row whose helpers finished later than the caller's own
    /// share took: see [`SpinPool::run`].
    strikes: u32,
    /// Calls left to run on the calling thread alone.
    inline_calls: u32,
}

/// Calls in a row with starved helpers before the pool runs jobs itself.
const STRIKES: u32 = 16;
/// Calls then run on the calling thread before helpers are tried again.
const INLINE_CALLS: u32 = 4096;

impl SpinPool {
    /// `n` helper threads; `None` if the system refuses a thread.
    pub(crate) fn new(n: usize) -> Option<Self> {
        let mut helpers = Vec::with_capacity(n);
        for i in 0..n {
            let slot = Arc::new(Slot {
                job: UnsafeCell::new(None),
                panic: UnsafeCell::new(None),
                posted: AtomicU64::new(0),
                finished: AtomicU64::new(0),
                parked: AtomicBool::new(false),
                stop: AtomicBool::new(false),
            });
            let theirs = Arc::clone(&slot);
            let handle = std::thread::Builder::new().name(format!("envs-{i}")).spawn(move || serve(&theirs)).ok()?;
            helpers.push(Helper { slot, thread: handle.thread().clone(), handle: Some(handle) });
        }
        Some(Self { helpers, epoch: 0, strikes: 0, inline_calls: 0 })
    }

    /// Runs `jobs[k]` on helper `k` and `own` on the calling thread, and
    /// returns when all have finished; a job's panic is raised here.
    ///
    /// The jobs are equal shares, so helpers that finish well after the
    /// caller's own share were not running: the machine has fewer free
    /// cores than threads, and each hand-over waits for the scheduler. After
    /// [`STRIKES`] such calls in a row the caller runs every job itself for
    /// the next [`INLINE_CALLS`] calls, then tries its helpers again. Which
    /// thread runs a job never changes its result.
    pub(crate) fn run<'a>(&mut self, jobs: &mut [&mut (dyn FnMut() + Send + 'a)], own: impl FnOnce()) {
        assert!(jobs.len() <= self.helpers.len(), "more jobs than helpers");
        if self.inline_calls > 0 {
            self.inline_calls -= 1;
            own();
            jobs.iter_mut().for_each(|job| job());
            return;
        }
        let (own_time, wait_time) = self.hand_out(jobs, own);
        self.strikes = if wait_time > own_time { self.strikes + 1 } else { 0 };
        if self.strikes >= STRIKES {
            self.strikes = 0;
            self.inline_calls = INLINE_CALLS;
        }
    }

    /// Runs the jobs on the helpers and `own` here; returns how long `own`
    /// took and how long the helpers were waited for after it.
    fn hand_out<'a>(
        &mut self,
        jobs: &mut [&mut (dyn FnMut() + Send + 'a)],
        own: impl FnOnce(),
    ) -> (Duration, Duration) {
        self.epoch += 1;
        for (helper, job) in self.helpers.iter().zip(jobs.iter_mut()) {
            // SAFETY: the job's borrows outlive this call, which does not
            // return before the helper has finished with it (below), and the
            // helper reads `job` only after `posted`, which is stored after.
            let job: Job = unsafe { std::mem::transmute::<&mut (dyn FnMut() + Send + 'a), Job>(&mut **job) };
            unsafe { *helper.slot.job.get() = Some(job) };
            // SeqCst against the helper's announce-then-recheck in `serve`:
            // either it sees this epoch, or this sees it parked.
            helper.slot.posted.store(self.epoch, Ordering::SeqCst);
            if helper.slot.parked.load(Ordering::SeqCst) {
                helper.thread.unpark();
            }
        }
        // Wait for every helper even if our own share panics: they borrow.
        let started = Instant::now();
        let own = catch_unwind(AssertUnwindSafe(own));
        let mut panic = own.err();
        let waiting = Instant::now();
        for helper in &self.helpers[..jobs.len()] {
            while helper.slot.finished.load(Ordering::Acquire) != self.epoch {
                pause(waiting);
            }
            // SAFETY: the helper wrote `panic` before `finished`, and waits for the next epoch.
            if let Some(p) = unsafe { (*helper.slot.panic.get()).take() } {
                panic.get_or_insert(p);
            }
        }
        if let Some(p) = panic {
            resume_unwind(p);
        }
        (waiting - started, waiting.elapsed())
    }
}

/// A helper's loop: spin for the next epoch, park after [`SPIN`], run the job.
fn serve(slot: &Slot) {
    let mut seen = 0;
    loop {
        let mut since = Instant::now();
        let epoch = loop {
            let posted = slot.posted.load(Ordering::Acquire);
            if posted != seen {
                break posted;
            }
            if slot.stop.load(Ordering::Acquire) {
                return;
            }
            if since.elapsed() < SPIN {
                pause(since);
                continue;
            }
            slot.parked.store(true, Ordering::SeqCst);
            // Re-check after announcing: a job posted in between is not missed.
            if slot.posted.load(Ordering::SeqCst) == seen && !slot.stop.load(Ordering::SeqCst) {
                std::thread::park_timeout(Duration::from_millis(50));
            }
            slot.parked.store(false, Ordering::SeqCst);
            since = Instant::now();
        };
        // SAFETY: the caller stored the job before `posted` and keeps it alive
        // until `finished` says this epoch is done.
        let job = unsafe { (*slot.job.get()).take() }.expect("a posted job");
        let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { (*job)() }));
        if let Err(p) = outcome {
            // SAFETY: the caller reads `panic` only after `finished`.
            unsafe { *slot.panic.get() = Some(p) };
        }
        seen = epoch;
        slot.finished.store(epoch, Ordering::Release);
    }
}

impl Drop for SpinPool {
    fn drop(&mut self) {
        for helper in &mut self.helpers {
            helper.slot.stop.store(true, Ordering::SeqCst);
            helper.thread.unpark();
            if let Some(handle) = helper.handle.take() {
                let _ = handle.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_runs_once_per_call_on_borrowed_data() {
        let mut pool = SpinPool::new(3).unwrap();
        let mut cells = [0u64; 4];
        for round in 1..=1000u64 {
            let (own, rest) = cells.split_first_mut().unwrap();
            let mut jobs: Vec<Box<dyn FnMut() + Send + '_>> =
                rest.iter_mut().map(|c| Box::new(move || *c += round) as Box<dyn FnMut() + Send + '_>).collect();
            let mut refs: Vec<&mut (dyn FnMut() + Send)> = jobs.iter_mut().map(|j| &mut **j).collect();
            pool.run(&mut refs, || *own += round);
        }
        assert_eq!(cells, [500_500; 4]);
    }

    #[test]
    fn a_parked_helper_wakes_and_a_panic_reaches_the_caller() {
        let mut pool = SpinPool::new(1).unwrap();
        std::thread::sleep(SPIN * 3);
        let mut hit = false;
        pool.run(&mut [&mut || hit = true], || {});
        assert!(hit);
        let caught = catch_unwind(AssertUnwindSafe(|| pool.run(&mut [&mut || panic!("in a helper")], || {})));
        assert!(caught.is_err());
        let mut again = 0;
        pool.run(&mut [&mut || again += 1], || {});
        assert_eq!(again, 1, "the pool still works after a panic");
    }

    /// A helper that finishes long after the caller (here its job is
    /// slower; on a busy machine it is not scheduled) gets no more jobs
    /// after [`STRIKES`] such calls: the caller runs them, with the same effect.
    #[test]
    fn starved_helpers_hand_their_jobs_back_to_the_caller() {
        let mut pool = SpinPool::new(1).unwrap();
        let caller = std::thread::current().id();
        let mut ran_on = vec![];
        for _ in 0..STRIKES + 3 {
            let mut thread = None;
            pool.run(
                &mut [&mut || {
                    std::thread::sleep(Duration::from_micros(300));
                    thread = Some(std::thread::current().id());
                }],
                || {},
            );
            ran_on.push(thread.expect("the job ran"));
        }
        let strikes = STRIKES as usize;
        assert!(ran_on[..strikes].iter().all(|t| *t != caller), "a helper ran the first jobs");
        assert!(ran_on[strikes..].iter().all(|t| *t == caller), "then the caller ran them");
    }
}
